-- A TLS echo server under copas: one coroutine per client, all served at
-- once by one process, none able to hold up the others. Each line a client
-- sends comes back to it.
--
-- usage: lua examples/copas_echo_server.lua PORT
--   Listens on 127.0.0.1:PORT (0: any free port) with the test PKI's
--   server-rsa certificate from $SSLUA_CERTS (default build/certs), prints
--   "listening on 127.0.0.1:PORT" and serves until it is stopped.
--   Try it: openssl s_client -connect 127.0.0.1:PORT -CAfile build/certs/ca.pem
local copas  = require "copas"
local socket = require "socket"
local ssl    = require "ssl"

local certs = os.getenv("SSLUA_CERTS") or "build/certs"
local port = tonumber(arg[1]) or error("usage: lua copas_echo_server.lua PORT")

-- One context for every connection: the certificate is read once.
local ctx = assert(ssl.newcontext {
  mode        = "server",
  protocol    = "any",
  key         = certs .. "/server-rsa.key",
  certificate = certs .. "/server-rsa-chain.pem",
})

-- A non-blocking TLS call answers "wantread" or "wantwrite" when it must
-- wait for the socket. copas 1.x (Debian's lua-copas) parks a coroutine
-- only when a LuaSocket call says "timeout", so wait() hands copas a
-- stand-in for the connection that says it once: copas resumes us when the
-- descriptor is ready. (copas 2 and later understand TLS themselves.)
local function wait(conn, err)
  local said = false
  local function once()
    if said then return 1 end
    said = true
    return nil, "timeout"
  end
  local stand_in = {
    getfd = function() return conn:getfd() end,
    dirty = function() return conn:dirty() end,
    receive = once, send = once,
    close = function() end,   -- copas "closes" it when the coroutine ends
  }
  if err == "wantread" then copas.receive(stand_in)
  elseif err == "wantwrite" then copas.send(stand_in, "")
  else return false end    -- a real error: do not wait
  return true
end

local function handshake(conn)
  while true do
    local ok, err = conn:dohandshake()
    if ok or not wait(conn, err) then return ok, err end
  end
end

-- receive() hands back what it got so far; it goes in again as the prefix.
local function receive(conn, pattern)
  local data, err, partial
  repeat
    data, err, partial = conn:receive(pattern, partial)
  until data or not wait(conn, err)
  return data, err
end

-- send() says how far it got; the next call goes on from there.
local function send(conn, data)
  local i = 1
  while true do
    local last, err, sent = conn:send(data, i)
    if last then return last end
    if not wait(conn, err) then return nil, err end
    i = sent + 1
  end
end

-- Echoes lines until the client leaves; returns why it stopped.
local function echo_lines(conn)
  while true do
    local line, err = receive(conn, "*l")
    if not line then return err end
    local sent, send_err = send(conn, line .. "\n")
    if not sent then return send_err end
  end
end

-- copas calls this in a coroutine of its own for each accepted client,
-- with the plain TCP socket, already non-blocking.
local function serve(tcp)
  local conn = assert(ssl.wrap(tcp, ctx))
  conn:settimeout(0)
  local ok, err = handshake(conn)
  if ok then err = echo_lines(conn) end
  if err ~= "closed" then print("client dropped: " .. tostring(err)) end
  conn:close()
end

-- A long listen queue: with LuaSocket's default (32) a burst of clients
-- overflows it and the dropped connects retry only after a second.
local server = assert(socket.bind("127.0.0.1", port, 1024))
local _, bound = server:getsockname()
copas.addserver(server, serve)
io.stdout:setvbuf("line")    -- so the log can be followed through a pipe
print("listening on 127.0.0.1:" .. bound)
copas.loop()
