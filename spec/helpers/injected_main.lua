-- spec/helpers/injected_main.lua - the child of spec/injected_failures_spec.lua:
-- runs one case's code with the failure shim preloaded (SSLUA_FAIL names
-- the OpenSSL call that fails) and prints "RESULT " and what the code
-- returned (or the error it raised) as Lua literals.
--
--   lua injected_main.lua ROOT CODE
local root, code = arg[1], arg[2]
package.path = root .. "/?.lua;" .. package.path
local ser = require "spec.helpers.serialize"
local env = setmetatable({
  ssl = require "ssl",
  x509 = require "ssl.x509",
  context = require "ssl.context",
  pair = require "spec.helpers.pair",
  certs = require "spec.helpers.certs",
}, { __index = _G })
env.C = env.certs.path
env.read = env.certs.read
local fn
if setfenv then   -- Lua 5.1, LuaJIT
  fn = assert(loadstring(code, "case"))
  setfenv(fn, env)
else
  fn = assert(load(code, "case", "t", env))
end
local function pack(...) return { n = select("#", ...), ... } end
local r = pack(pcall(fn))
io.stdout:write("RESULT ", ser.encode_list((table.unpack or unpack)(r, 1, r.n)), "\n")
io.stdout:flush()
