-- A TLS client with a certificate of its own that prints the server's line.
-- usage: lua client.lua CERTDIR PORT
local socket = require "socket"
local ssl    = require "ssl"

local certs, port = arg[1] or "build/certs", assert(tonumber(arg[2]), "port?")

local params = {
  mode        = "client",
  protocol    = "sslv23",
  key         = certs .. "/client-rsa.key",
  certificate = certs .. "/client-rsa-chain.pem",
  cafile      = certs .. "/ca.pem",
  verify      = "peer",
  options     = { "all", "no_sslv3" },
}

local conn = socket.tcp()
conn:settimeout(10)
assert(conn:connect("127.0.0.1", port))
conn = assert(ssl.wrap(conn, params))
assert(conn:dohandshake())
-- receive returns the line, or nil, an error and the partial data: print
-- the line alone, and fail loudly rather than print "nil".
local line = assert(conn:receive("*l"))
print(line)
conn:close()
