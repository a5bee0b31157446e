-- A mutual-TLS client: it verifies the server and shows a certificate of
-- its own, then prints the server's greeting.
--
-- usage: lua examples/mtls_client.lua PORT [LEAF]
--   Connects to 127.0.0.1:PORT (examples/mtls_server.lua). LEAF names the
--   client certificate in $SSLUA_CERTS (default build/certs): LEAF-chain.pem
--   and LEAF.key; default client-rsa. LEAF "none" sends no certificate, to
--   see the server refuse it. Exits 1 with the reason when refused.
local socket = require "socket"
local ssl    = require "ssl"

local certs = os.getenv("SSLUA_CERTS") or "build/certs"
local port = tonumber(arg[1]) or error("usage: lua mtls_client.lua PORT [LEAF]")
local leaf = arg[2] or "client-rsa"

local params = {
  mode     = "client",
  protocol = "any",
  cafile   = certs .. "/ca.pem",   -- the CA the server's certificate must lead to
  verify   = "peer",
}
if leaf ~= "none" then
  params.key         = certs .. "/" .. leaf .. ".key"
  params.certificate = certs .. "/" .. leaf .. "-chain.pem"
end

local function fail(err)
  io.stderr:write("refused: ", tostring(err), "\n")
  os.exit(1)
end

local tcp = socket.tcp()
tcp:settimeout(10)
local ok, err = tcp:connect("127.0.0.1", port)
if not ok then fail(err) end
local conn = assert(ssl.wrap(tcp, params))
ok, err = conn:dohandshake()
if not ok then fail(err) end
-- In TLS 1.3 the server checks our certificate after our side of the
-- handshake is done: a refusal arrives as the error of the first read.
local line, read_err = conn:receive("*l")
if not line then fail(read_err) end
print(line)
conn:close()
