-- bench/handshake.lua - full handshakes, a new TCP connection each.
--
--   lua bench/handshake.lua role=client port=P tls=1.3 key=rsa count=N certs=DIR
--   lua bench/handshake.lua role=server port=0 ...   (prints "ready port=N")
--
-- The same transaction as bench/ref.c: the server accepts, handshakes and
-- closes; the client connects, handshakes, reads until the server's
-- close_notify ("closed"; TLS 1.3 tickets arrive on the way) and closes.
-- The context is built once, as a real server or client would. Result:
-- count, ok, wall and cpu seconds of the loop (start-up excluded; the
-- server's clock starts at its first accepted connection).

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local util = require "driver_util"

local o = util.args(arg)

local function client()
  local ctx = util.context(o, "client")
  local stop = util.stopwatch()
  local first
  for i = 1, o.count do
    local conn = util.connect_tls(o.port, ctx)
    if i == 1 then first = util.session(conn) end
    if o.wait ~= 0 then
      local data, err = conn:receive(1)
      assert(data == nil and err == "closed", "expected the server's close, got " .. tostring(err))
    end
    conn:close()
  end
  local w, c = stop()
  return { count = o.count, ok = o.count, wall = w, cpu = c,
           protocol = first and first.protocol, cipher = first and first.cipher }
end

local function server()
  local ctx = util.context(o, "server")
  local srv = util.listen(o.port)
  local ok, stop = 0, nil
  -- count=0: until stopped (the peer is the time-bound `openssl s_time`)
  for _ = 1, o.count == 0 and math.huge or o.count do
    local conn, err = util.accept_tls(srv, ctx)
    stop = stop or util.stopwatch()
    if conn then ok = ok + 1; conn:close()
    else io.stderr:write("handshake failed: ", tostring(err), "\n") end
  end
  local w, c = stop()
  return { count = o.count, ok = ok, wall = w, cpu = c }
end

local roles = { client = client, server = server }
local fields = assert(roles[o.role], "role=client|server")()
fields.impl = util.impl()
util.result(fields)
os.exit(fields.ok == fields.count and 0 or 1)
