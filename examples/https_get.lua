-- An HTTPS GET that checks who answers: the server's chain must lead to a
-- CA we trust, and (sslua checks this by default) its certificate must
-- carry the URL's host name or IP address. Prints the body; on any failure
-- prints why and exits 1.
--
-- usage: lua examples/https_get.lua URL [CAFILE]
--   CAFILE: the CA certificates to trust (PEM). Default: the test CA,
--   $SSLUA_CERTS/ca.pem (build/certs/ca.pem after `make certs`).
--   "system" trusts the system's store, as for a public site.
local https = require "ssl.https"
local ltn12 = require "ltn12"

local url = arg[1] or error("usage: lua https_get.lua URL [CAFILE]")
local cafile = arg[2] or (os.getenv("SSLUA_CERTS") or "build/certs") .. "/ca.pem"

local function fail(...)
  io.stderr:write("https_get: ", ..., "\n")
  os.exit(1)
end

-- The table form takes ssl.newcontext parameters next to the request's.
-- sslua verifies by default; verify = "peer" is written out because
-- LuaSec, whose API this is, verifies nothing unless told to.
local body = {}
local ok, code, _, status = https.request {
  url    = url,
  sink   = ltn12.sink.table(body),
  cafile = cafile,
  verify = "peer",
}
if not ok then fail(tostring(code)) end    -- code holds the error here
if code ~= 200 then fail(tostring(status or code)) end
io.write(table.concat(body))
