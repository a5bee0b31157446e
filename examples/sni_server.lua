-- One TLS server for several host names, each with its own certificate:
-- the client names the host it wants in the handshake (SNI), and the
-- server answers with that host's certificate. Each client gets one line,
-- "hello NAME", with the name it asked for.
--
-- usage: lua examples/sni_server.lua PORT DEFAULT [NAME=LEAF]...
--   DEFAULT and each LEAF name a certificate of the test PKI in
--   $SSLUA_CERTS (default build/certs): LEAF-chain.pem and LEAF.key.
--   DEFAULT serves clients that send no name or one not listed.
--   e.g. lua examples/sni_server.lua 8443 server-rsa wrong.sslua.test=wronghost
--   then: openssl s_client -connect 127.0.0.1:8443 -servername wrong.sslua.test
local socket = require "socket"
local ssl    = require "ssl"

local certs = os.getenv("SSLUA_CERTS") or "build/certs"
local usage = "usage: lua sni_server.lua PORT DEFAULT [NAME=LEAF]..."
local port = tonumber(arg[1]) or error(usage)

local function context(leaf)
  return assert(ssl.newcontext {
    mode        = "server",
    protocol    = "any",
    key         = certs .. "/" .. leaf .. ".key",
    certificate = certs .. "/" .. leaf .. "-chain.pem",
  })
end

local default = context(arg[2] or error(usage))
local by_name = {}                     -- host name -> its context
for i = 3, #arg do
  local name, leaf = arg[i]:match("^([^=]+)=(.+)$")
  by_name[name or error(usage)] = context(leaf)
end

local server = assert(socket.bind("127.0.0.1", port))
local _, bound = server:getsockname()
io.stdout:setvbuf("line")
print("listening on 127.0.0.1:" .. bound)

-- One client at a time (see copas_echo_server.lua for many at once); the
-- timeout keeps a silent client from holding the server.
while true do
  local conn = assert(ssl.wrap(assert(server:accept()), default))
  conn:settimeout(10)
  conn:sni(by_name)                    -- picks the context by the client's name
  local ok, err = conn:dohandshake()
  if ok then
    conn:send("hello " .. (conn:getsniname() or "(no name)") .. "\n")
  else
    print("handshake failed: " .. tostring(err))
  end
  conn:close()
end
