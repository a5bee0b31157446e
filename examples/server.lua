-- A TLS 1.2 server that requires a client certificate and sends one line.
-- usage: lua server.lua CERTDIR [PORTFILE]   (listens on an ephemeral port
-- of 127.0.0.1 and writes it to PORTFILE, or prints it)
local socket = require "socket"
local ssl    = require "ssl"

local certs, portfile = arg[1] or "build/certs", arg[2]

local params = {
  mode        = "server",
  protocol    = "tlsv1_2",
  key         = certs .. "/server-rsa.key",
  certificate = certs .. "/server-rsa-chain.pem",
  cafile      = certs .. "/ca.pem",
  verify      = { "peer", "fail_if_no_peer_cert" },
  options     = "all",
}

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
if portfile then
  local f = assert(io.open(portfile, "w")); f:write(port); f:close()
else
  print("listening on " .. port)
end
server:settimeout(10)
local peer = assert(server:accept())
peer = assert(ssl.wrap(peer, params))
assert(peer:dohandshake())
assert(peer:send("one line\n"))
peer:close()
server:close()
