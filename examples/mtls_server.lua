-- A mutual-TLS server: every client must present a certificate issued by
-- our CA, or the handshake fails. Each accepted client is greeted by the
-- name in its certificate: "hello CN".
--
-- usage: lua examples/mtls_server.lua PORT
--   Listens on 127.0.0.1:PORT (0: any free port) with the test PKI in
--   $SSLUA_CERTS (default build/certs): server-rsa is the server's own
--   certificate, ca.pem the CA its clients' certificates must lead to.
--   Serves one client at a time until it is stopped; logs who came.
--   Try it with examples/mtls_client.lua.
local socket = require "socket"
local ssl    = require "ssl"

local certs = os.getenv("SSLUA_CERTS") or "build/certs"
local port = tonumber(arg[1]) or error("usage: lua mtls_server.lua PORT")

local ctx = assert(ssl.newcontext {
  mode        = "server",
  protocol    = "any",
  key         = certs .. "/server-rsa.key",
  certificate = certs .. "/server-rsa-chain.pem",
  cafile      = certs .. "/ca.pem",               -- whom we trust to vouch for clients
  -- "peer" asks for a certificate and verifies it; "fail_if_no_peer_cert"
  -- also refuses a client that sends none.
  verify      = { "peer", "fail_if_no_peer_cert" },
})

-- The commonName of an x509 subject, e.g. "client.sslua.test".
local function common_name(cert)
  for _, entry in ipairs(cert:subject()) do
    if entry.name == "commonName" then return entry.value end
  end
end

local server = assert(socket.bind("127.0.0.1", port))
local _, bound = server:getsockname()
io.stdout:setvbuf("line")
print("listening on 127.0.0.1:" .. bound)

while true do
  local conn = assert(ssl.wrap(assert(server:accept()), ctx))
  conn:settimeout(10)    -- a silent client cannot hold the server
  local ok, err = conn:dohandshake()
  if ok then
    -- Only verified clients get here: the certificate is theirs.
    local name = common_name(conn:getpeercertificate())
    print("accepted " .. tostring(name))
    conn:send("hello " .. tostring(name) .. "\n")
  else
    print("refused: " .. tostring(err))
  end
  conn:close()
end
