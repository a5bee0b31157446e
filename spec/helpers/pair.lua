-- pair: two TLS endpoints of ours in this process, over a real loopback
-- TCP connection, with both handshakes driven non-blocking in turns. Fast
-- and deterministic: the base of the io, verify and state specs.
--
--   local s, c = pair.tcp()                      -- connected LuaSocket objects
--   local srv, cli, sres, cres = pair.connect(server_params, client_params)
--   local srv, cli = pair.established(server_params, client_params)  -- or fails
--   -- sres/cres = { ok = true } or { ok = false, err = "..." }
local socket = require "socket"
local ssl    = require "ssl"

local pair = {}

local DEADLINE = 10   -- seconds; a handshake that takes longer is a bug

-- Two connected TCP sockets on loopback: server side, client side.
function pair.tcp(host)
  host = host or "127.0.0.1"
  local listener = assert(socket.bind(host, 0))
  local _, port = listener:getsockname()
  local client = assert(host:find(":") and socket.tcp6() or socket.tcp())
  client:settimeout(5)
  assert(client:connect(host, port))
  listener:settimeout(5)
  local server = assert(listener:accept())
  listener:close()
  -- Without it, a TLS 1.3 server's first small write waits ~40 ms behind
  -- the unacknowledged session tickets (Nagle), slowing every spec.
  server:setoption("tcp-nodelay", true)
  client:setoption("tcp-nodelay", true)
  return server, client
end

local function step(conn, state)
  if state.done then return end
  local ok, err = conn:dohandshake()
  -- tostring: with errorobjects = true the error is an object whose
  -- tostring() is the message.
  local why = tostring(err)
  if ok then
    state.done, state.ok = true, true
  elseif why ~= "wantread" and why ~= "wantwrite" then
    state.done, state.ok, state.err = true, false, err
  end
end

-- Drives both handshakes to completion or failure, never past DEADLINE.
-- A side that failed stops answering, so the other one sees its alert or
-- the end of the stream, just as with a separate peer.
function pair.handshake(server, client, timeout)
  local sres, cres = {}, {}
  server:settimeout(0)
  client:settimeout(0)
  local limit = socket.gettime() + (timeout or DEADLINE)
  while not (sres.done and cres.done) do
    step(client, cres)
    step(server, sres)
    if (cres.done and not cres.ok) and not sres.done then client:close() end
    if (sres.done and not sres.ok) and not cres.done then server:close() end
    if not (sres.done and cres.done) then
      if socket.gettime() > limit then
        error("handshake did not finish within the deadline", 2)
      end
      local wait = {}
      if not sres.done then wait[#wait + 1] = server end
      if not cres.done then wait[#wait + 1] = client end
      socket.select(wait, nil, 0.05)
    end
  end
  server:settimeout(nil)
  client:settimeout(nil)
  sres.done, cres.done = nil, nil
  return sres, cres
end

-- Wraps both ends (params tables or contexts) and handshakes them.
function pair.connect(server_params, client_params, host)
  local stcp, ctcp = pair.tcp(host)
  local server = assert(ssl.wrap(stcp, server_params))
  local client = assert(ssl.wrap(ctcp, client_params))
  local sres, cres = pair.handshake(server, client)
  return server, client, sres, cres
end

-- Wraps both ends without handshaking (for state specs).
function pair.wrap(server_params, client_params, host)
  local stcp, ctcp = pair.tcp(host)
  return assert(ssl.wrap(stcp, server_params)), assert(ssl.wrap(ctcp, client_params))
end

-- established(server_params, client_params[, setup]) -> server, client:
-- wraps both ends, calls setup(server, client), handshakes, and fails the
-- test (with each side's error) unless both ends succeeded.
function pair.established(server_params, client_params, setup)
  local luassert = require "luassert"
  local server, client = pair.wrap(server_params, client_params)
  if setup then setup(server, client) end
  local sres, cres = pair.handshake(server, client)
  luassert.is_true(sres.ok, "server: " .. tostring(sres.err))
  luassert.is_true(cres.ok, "client: " .. tostring(cres.err))
  return server, client
end

-- client_result(defer, server_params, client_params[, setup])
--   -> client's result, client, server
-- Like established, but returns the client's handshake result instead of
-- insisting on success; both ends are registered with `defer` (the test's
-- helpers.cleanup(finally)).
function pair.client_result(defer, server_params, client_params, setup)
  local server, client = pair.wrap(server_params, client_params)
  defer(server); defer(client)
  if setup then setup(server, client) end
  local _, cres = pair.handshake(server, client)
  return cres, client, server
end

-- The negotiated protocol version of a connected endpoint, e.g. "TLSv1.3".
function pair.version(conn)
  return conn:info("protocol")
end

return pair
