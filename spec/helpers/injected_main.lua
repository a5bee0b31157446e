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
local fn = assert(load(code, "case", "t", env))
local r = table.pack(pcall(fn))
io.stdout:write("RESULT ", ser.encode_list(table.unpack(r, 1, r.n)), "\n")
io.stdout:flush()
