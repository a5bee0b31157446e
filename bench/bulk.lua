-- bench/bulk.lua - one-way bulk transfer; the measured side is the client.
--
--   lua bench/bulk.lua role=recv pattern=16384|65536|*a|*l bytes=N port=P tls= key= certs=
--   lua bench/bulk.lua role=send bytes=N port=P ...
--
-- recv: the peer (bench/ref.c role=source) sends `bytes` as 1 MiB writes of
-- 64-byte lines, then close_notify; this side calls receive(pattern) until
-- it has them all (*a: one call, up to close_notify).
-- send: send() of the same 1 MiB string until `bytes` went out; the peer
-- (ref.c role=sink) reads them and answers "ok\n", which ends the clock.
-- Result: bytes, wall and cpu seconds after the handshake.

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local util = require "driver_util"

local o = util.args(arg)

-- Each returns the number of bytes received.
local receivers = {
  ["*a"] = function(conn)
    return #assert(conn:receive("*a"))
  end,
  ["*l"] = function(conn, total)
    local got, receive = 0, conn.receive
    while got < total do
      got = got + #assert(receive(conn, "*l")) + 1
    end
    return got
  end,
}

local function receive_counted(conn, total, size)
  local got, receive = 0, conn.receive
  while got < total do
    got = got + #assert(receive(conn, size))
  end
  return got
end

local function recv(conn)
  local by_pattern = receivers[o.pattern]
  if by_pattern then return by_pattern(conn, o.bytes) end
  return receive_counted(conn, o.bytes, assert(tonumber(o.pattern), "pattern"))
end

local function send(conn)
  local chunk, sent = util.line_chunk(), 0
  while sent < o.bytes do
    assert(conn:send(chunk) == #chunk, "short send")
    sent = sent + #chunk
  end
  assert(conn:receive("*l") == "ok", "no ack from the sink")
  return sent
end

local roles = { recv = recv, send = send }
local run = assert(roles[o.role], "role=recv|send")
local conn = util.connect_tls(o.port, util.context(o, "client"))
local session = util.session(conn)
local stop = util.stopwatch()
local bytes = run(conn)
local w, c = stop()
conn:close()
util.result({ impl = util.impl(), bytes = bytes, wall = w, cpu = c,
              protocol = session.protocol, cipher = session.cipher })
os.exit(bytes == o.bytes and 0 or 1)
