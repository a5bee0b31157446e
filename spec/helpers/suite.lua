-- spec/helpers/suite.lua - what every busted process of the suite runs
-- before the first spec (.busted names it as busted's helper).
--
-- 1. The build: .busted passes "build=DIR" (and "lua=5.x" or "lua=jit" for
--    a named run). Without DIR/lib/ssl.so and DIR/share/ssl.lua this fails
--    at once with "run make first", instead of letting `require "ssl"` find
--    some other installed LuaSec; a build for another Lua fails as well,
--    naming the command that runs it. The run "upstream" passes no build.
-- 2. Coverage: spec/helpers/coverage.lua records which parts of the API the
--    specs exercise; with SSLUA_COVERAGE_DIR set (ci/run-specs sets it), the
--    record is written there when the run ends, for the coverage gate.
local options = {}
for _, a in ipairs(arg or {}) do
  local k, v = tostring(a):match("^(%w+)=(.*)$")
  if k then options[k] = v end
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local RUN_COMMAND = {
  ["5.1"] = "lua5.1 /usr/bin/busted --run=5.1", ["5.2"] = "lua5.2 /usr/bin/busted --run=5.2",
  ["5.3"] = "lua5.3 /usr/bin/busted", ["5.4"] = "lua5.4 /usr/bin/busted --run=5.4",
  jit = "luajit /usr/bin/busted --run=jit",
}

local dir = options.build
if dir and dir ~= "" then
  local make = (options.lua and options.lua ~= "5.3") and ("make LUA_VERSION=" .. options.lua) or "make"
  for _, file in ipairs { "/lib/ssl.so", "/share/ssl.lua" } do
    if not exists(dir .. file) then
      error(("sslua is not built: %s is missing - run make first (%s)"):format(dir .. file, make), 0)
    end
  end
  local running = type(jit) == "table" and "jit" or (_VERSION:match("%d+%.%d+") or "?")
  if options.lua and options.lua ~= running then
    error(("%s is a build for Lua %s, but busted runs on %s: use `%s`"):format(
      dir, options.lua, type(jit) == "table" and "LuaJIT" or _VERSION, RUN_COMMAND[options.lua]), 0)
  end
end

local coverage = require "spec.helpers.coverage"
local records = os.getenv("SSLUA_COVERAGE_DIR")
if records and records ~= "" then
  local busted = require "busted"
  local files = {}
  busted.subscribe({ "file", "start" }, function(file)
    files[#files + 1] = file.name
    return nil, true
  end)
  busted.subscribe({ "suite", "end" }, function()
    coverage.save(records, files)
    return nil, true
  end)
end
