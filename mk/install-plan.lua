-- mk/install-plan.lua - where `make install` puts sslua, and whether it may.
--
--   LUA mk/install-plan.lua install|uninstall ABI PREFIX DESTDIR CMODDIR LMODDIR
--
-- Run by the interpreter the module is for, since only it knows where
-- `require` looks (package.cpath, package.path, including LUA_CPATH and
-- LUA_PATH when set). Prints one line: "CMODDIR LMODDIR", the directories
-- for ssl.so and for ssl.lua + ssl/https.lua, or "sslua: ..." saying why
-- not (the Makefile stops with it). Notes go to stderr, when it goes ahead.
--
-- The directories: CMODDIR/LMODDIR when given; else the first directory of
-- package.cpath (package.path) under PREFIX's lib/ (lib/ or share/) - on
-- Debian with PREFIX=/usr that is /usr/lib/<triplet>/lua/5.x, searched
-- before /usr/lib/lua/5.x; else PREFIX/lib/lua/ABI (PREFIX/share/lua/ABI),
-- with a note that Lua will not find it there unaided.
--
-- Refused, because `require "ssl"` would then mix or miss our files:
--   install:   a file of the same module name found earlier on the search
--              path than where ours go (it would be loaded instead), or a
--              file in our place that is not sslua's (LuaSec's, a package's);
--   uninstall: a file in our place that is not sslua's.
-- The earlier-file check looks at the running system, so it is skipped
-- when DESTDIR stages the files elsewhere.

local mode, abi, prefix, destdir, cmod, lmod = ...
prefix = (prefix or ""):gsub("/+$", "")

local function stop(fmt, ...)
  io.write("sslua: ", fmt:format(...), "\n")
  os.exit(0)
end

-- Notes are printed only when the plan goes ahead (a refusal is one line).
local notes = {}
local function note(fmt, ...)
  notes[#notes + 1] = "sslua: note: " .. fmt:format(...) .. "\n"
end

if mode ~= "install" and mode ~= "uninstall" then stop("install-plan: unknown mode %s", tostring(mode)) end
local running = type(jit) == "table" and "5.1" or _VERSION:match("%d+%.%d+")
if running ~= abi then
  stop("%s is %s, not Lua %s: set LUA_BIN to the Lua %s interpreter", tostring(arg[-1]), _VERSION, abi, abi)
end

-- The absolute templates of a search path, in order (relative ones such
-- as ./?.so depend on the directory a program runs in).
local function templates(path)
  local out = {}
  for t in path:gmatch("[^;]+") do
    if t:sub(1, 1) == "/" then out[#out + 1] = t end
  end
  return out
end

-- The first "DIR/?SUFFIX" template with DIR under PREFIX/<top>..., where
-- top matches one of the patterns (so /usr/local/... is not under /usr).
local function first_under(list, suffix, tops)
  for _, t in ipairs(list) do
    local dir = t:sub(-#suffix - 2) == "/?" .. suffix and t:sub(1, -#suffix - 3)
    local rest = dir and dir:sub(1, #prefix + 1) == prefix .. "/" and dir:sub(#prefix + 2)
    for _, top in ipairs(rest and tops or {}) do
      if rest:match(top) then return dir end
    end
  end
end

local cpath, lpath = templates(package.cpath), templates(package.path)

-- dir: given, or found under PREFIX, or the conventional place (noted).
local function choose(given, list, suffix, tops, fallback, var, kind)
  local dir = given ~= "" and given:gsub("/+$", "") or first_under(list, suffix, tops)
  local searched = false
  for _, t in ipairs(list) do searched = searched or t == (dir or fallback) .. "/?" .. suffix end
  if not searched and mode == "install" then
    note("Lua %s does not look for %s in %s (%s): add '%s/?%s' to %s", abi, kind,
         dir or fallback, var == "LUA_CMODDIR" and "package.cpath" or "package.path",
         dir or fallback, suffix, var == "LUA_CMODDIR" and "LUA_CPATH" or "LUA_PATH")
  end
  return dir or fallback, searched
end

local cdir, csearched = choose(cmod or "", cpath, ".so", { "^lib" },
  prefix .. "/lib/lua/" .. abi, "LUA_CMODDIR", "C modules")
local ldir, lsearched = choose(lmod or "", lpath, ".lua", { "^share/", "^lib" },
  prefix .. "/share/lua/" .. abi, "LUA_LMODDIR", "Lua modules")

local function read(file)
  local f = io.open(file, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

-- Our three files, where they go (under DESTDIR).
local ours = {
  (destdir or "") .. cdir .. "/ssl.so",
  (destdir or "") .. ldir .. "/ssl.lua",
  (destdir or "") .. ldir .. "/ssl/https.lua",
}
-- Every file sslua installs names sslua; LuaSec's never do.
for _, file in ipairs(ours) do
  local text = read(file)
  if text and not text:find("sslua", 1, true) then
    if mode == "install" then
      stop("%s is not sslua's (another module named ssl, such as LuaSec from a package): "
           .. "remove it first, or install with another PREFIX", file)
    end
    stop("%s is not sslua's: not removing it", file)
  end
end

-- A file `require` reaches before ours, and the module it would serve.
-- names: { file name in a template's ?, module } pairs.
local function earlier(list, dir, suffix, names)
  for _, t in ipairs(list) do
    if t == dir .. "/?" .. suffix then return nil end
    for _, name in ipairs(names) do
      local file = t:gsub("%?", name[1])
      if read(file) then return file, name[2] end
    end
  end
end

-- Where each of our files goes, with the search path that finds it. An
-- ssl.so serves ssl.core (and the others) through the all-in-one loader.
local searches = {
  { csearched, cpath, cdir, ".so", { { "ssl", "ssl.core" }, { "ssl/core", "ssl.core" },
    { "ssl/context", "ssl.context" }, { "ssl/x509", "ssl.x509" }, { "ssl/config", "ssl.config" } },
    "package.cpath", "LUA_CMODDIR" },
  { lsearched, lpath, ldir, ".lua", { { "ssl", "ssl" }, { "ssl/https", "ssl.https" } },
    "package.path", "LUA_LMODDIR" },
}
if mode == "install" and (destdir or "") == "" then
  for _, s in ipairs(searches) do
    local file, module
    if s[1] then file, module = earlier(s[2], s[3], s[4], s[5]) end
    if file then
      stop("%s comes before %s in Lua %s's %s, so require \"%s\" would load it instead of "
           .. "sslua's: remove it, or install to its directory (PREFIX or %s)",
           file, s[3], abi, s[6], module, s[7])
    end
  end
end

io.stderr:write(table.concat(notes))
io.write(cdir, " ", ldir, "\n")
