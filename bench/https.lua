-- bench/https.lua - sequential ssl.https.request calls to a local server.
--
--   lua bench/https.lua port=P count=N params=lax|secure sessions=N certs=
--
-- The server is `openssl s_server -www` (TLS 1.3, RSA-2048): it answers
-- each GET with a status page that says "Reused" or "New" for the
-- session, which is how resumption is counted. params=lax passes LuaSec's
-- own defaults (verify = "none", protocol = "any", options = "all") to
-- both implementations; params=secure passes only the CA file and lets
-- the implementation's defaults apply (ours: verify peer and host name).
-- sessions= sets https.SESSIONS (ours only; 0 turns resumption off).
-- Result: count, wall, cpu (after the first request, which is the same
-- full handshake for everyone), reused.

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local util = require "driver_util"
local https = require "ssl.https"

local o = util.args(arg)
o.sessions = tonumber(o.sessions)
if o.sessions and https.SESSIONS ~= nil then https.SESSIONS = o.sessions end

local url = ("https://localhost:%d/"):format(o.port)
local PARAMS = {
  lax = { verify = "none", protocol = "any", options = "all" },
  secure = { cafile = o.certs .. "/ca.pem" },
}
local params = assert(PARAMS[o.params or "lax"], "params=lax|secure")

local function get()
  local t = { url = url }
  for k, v in pairs(params) do t[k] = v end
  local parts = {}
  t.sink = function(chunk) parts[#parts + 1] = chunk return 1 end
  local ok, code = https.request(t)
  assert(ok and code == 200, "request failed: " .. tostring(code))
  return table.concat(parts)
end

local function reused(body)
  return body:find("Reused, TLSv1.3", 1, true) and 1 or 0
end

get()   -- the first: a full handshake in every configuration
local count, resumed = o.count - 1, 0
local stop = util.stopwatch()
for _ = 1, count do resumed = resumed + reused(get()) end
local w, c = stop()
util.result({ impl = util.impl(), count = count, wall = w, cpu = c, reused = resumed })
