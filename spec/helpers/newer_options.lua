-- spec/helpers/newer_options.lua - the option names that only newer
-- OpenSSLs define, as doc/reference.md marks them in its option table
-- ("(OpenSSL 3.N and later)"), and whether the module was built against
-- an OpenSSL that has each. The module lists such a name only when its
-- headers define the SSL_OP_ macro (src/options.c); spec/docs_spec.lua
-- keeps the table and the module in step.
--
--   local newer = require "spec.helpers.newer_options"
--   newer.since()            --> { prefer_no_dhe_kex = 3, ... } (3.N: N)
--   newer.built_with(name)   --> true | false | nil (not a newer name)

local certs = require "spec.helpers.certs"

local M = {}

local since

function M.since()
  if since then return since end
  local f = assert(io.open(certs.root() .. "/doc/reference.md", "rb"))
  local text = f:read("*a")
  f:close()
  local section = text:match("\n## Option names\n(.-)\n## ") or ""
  since = {}
  for name, rest in section:gmatch("\n| `([%w_]+)` |([^\n]*)") do
    local minor = rest:match("OpenSSL 3%.(%d+) and later")
    if minor then since[name] = tonumber(minor) end
  end
  return since
end

-- The OpenSSL 3 minor version of the headers the module was built with
-- (a module without ssl.config.library - upstream LuaSec - is taken to be
-- built against the system's OpenSSL, the one the openssl command runs on).
local function headers_minor()
  local lib = require("ssl.config").library
  local v = lib and (lib.headers or lib.version)
  if not v then
    local _, major, minor = require("spec.helpers.openssl").version()
    v = ("%s.%s"):format(tostring(major), tostring(minor))
  end
  local minor = v:match("^3%.(%d+)")
  return assert(tonumber(minor), "not built against OpenSSL 3: " .. v)
end

function M.built_with(name)
  local minor = M.since()[name]
  if minor == nil then return nil end
  return headers_minor() >= minor
end

return M
