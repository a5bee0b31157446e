-- coverage: records which parts of the ssl API the specs exercise, so that
-- the coverage gate (spec/z_coverage_gate_spec.lua) can fail when something
-- has no spec. Loaded in every busted process of the suite, before any spec
-- file, by spec/helpers/suite.lua (the helper .busted names).
--
-- What is recorded: every newcontext key and the protocol, verify,
-- verifyext and option names passed to it; every call of a module
-- function (ssl, ssl.context, ssl.x509); every method call on context,
-- connection and certificate objects.
--
-- ci/run-specs runs each spec file in a busted process of its own: each
-- process saves its record (M.save) in one directory, and the gate reads
-- the union of them all (M.load).

-- Only ever loaded with require (which keeps one copy): a check of
-- package.loaded here would see Lua 5.1's and LuaJIT's loading sentinel.
local M = { seen = {} }

local function mark(kind, name)
  if type(name) ~= "string" then return end   -- only names can be in the inventory
  local set = M.seen[kind]
  if not set then set = {}; M.seen[kind] = set end
  set[name] = true
end
M.mark = mark

local function names(value)
  if type(value) == "string" then return { value } end
  if type(value) == "table" then return value end
  return {}
end

local function record_params(params)
  if type(params) ~= "table" then return end
  for key, value in pairs(params) do
    mark("param", key)
    if key == "protocol" and type(value) == "string" then mark("protocol", value) end
    if key == "verify" then for _, n in ipairs(names(value)) do mark("verify", n) end end
    if key == "verifyext" then for _, n in ipairs(names(value)) do mark("verifyext", n) end end
    if key == "options" then for _, n in ipairs(names(value)) do mark("option", n) end end
    if key == "certificates" and type(value) == "table" then
      for _, entry in ipairs(value) do record_params(entry) end
    end
  end
end

-- Replaces each function of `t` with a recording wrapper (once).
local function wrap_table(t, kind, before)
  for name, fn in pairs(t) do
    if type(fn) == "function" and not M.wrapped[fn] then
      local wrapper = function(...)
        mark(kind, name)
        if before then before(name, ...) end
        return fn(...)
      end
      M.wrapped[wrapper] = true
      t[name] = wrapper
    end
  end
end

M.CLASSES = { context = "SSL:Context", connection = "SSL:Connection", certificate = "SSL:Certificate" }

function M.install()
  if M.installed then return end
  M.installed, M.wrapped = true, {}
  local ok, ssl = pcall(require, "ssl")
  if not ok then return end   -- the suite itself will report why
  wrap_table(ssl, "function", function(name, a, b)
    if name == "newcontext" then record_params(a) end
    if name == "wrap" then record_params(b) end
  end)
  for _, mod in ipairs { "ssl.context", "ssl.x509" } do
    local okm, t = pcall(require, mod)
    if okm and type(t) == "table" then wrap_table(t, mod) end
  end
  local registry = debug.getregistry()
  for kind, tname in pairs(M.CLASSES) do
    local meta = registry[tname]
    if type(meta) == "table" and type(meta.__index) == "table" then
      wrap_table(meta.__index, kind)
    end
  end
end

-- Lines of a record: "file<TAB>spec file" for each file the process ran,
-- then "seen<TAB>kind<TAB>name".
local function record_name(files)
  local name = (files[1] or "none"):gsub("%.lua$", ""):gsub("[^%w_.-]", "_")
  if #files > 1 then name = name .. "+" .. (#files - 1) end
  return name .. ".cov"
end

-- save(dir, files): writes this process's record into dir (whole or not at
-- all: a temporary file, then a rename).
function M.save(dir, files)
  local path = dir .. "/" .. record_name(files)
  local f = assert(io.open(path .. ".tmp", "wb"))
  for _, file in ipairs(files) do f:write("file\t", file, "\n") end
  for kind, set in pairs(M.seen) do
    for name in pairs(set) do f:write("seen\t", kind, "\t", name, "\n") end
  end
  assert(f:close())
  assert(os.rename(path .. ".tmp", path))
end

-- load(dir) -> seen (the union: kind -> { name = true }), files (spec file
-- -> true), for the records in dir (listed by `ls`).
function M.load(dir)
  local seen, files = {}, {}
  local list = io.popen("ls '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  for entry in list:lines() do
    if entry:match("%.cov$") then
      for line in io.lines(dir .. "/" .. entry) do
        local tag, a, b = line:match("^(%a+)\t([^\t]*)\t?(.*)$")
        if tag == "file" then files[a] = true end
        if tag == "seen" then
          seen[a] = seen[a] or {}
          seen[a][b] = true
        end
      end
    end
  end
  list:close()
  return seen, files
end

M.install()
return M
