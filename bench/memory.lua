-- bench/memory.lua - resident memory per established connection.
--
--   lua bench/memory.lua role=server|client count=N port=P tls= key= certs=
--
-- One warm-up connection (handshake, one echo, close) so that one-time
-- allocations are out of the way, then RSS; then `count` connections kept
-- open and idle, RSS; then one echo on each ("x\n" from the client, the
-- same back from the server), RSS. The peer is bench/ref.c mem with the
-- other role, which does the same steps in the same order.
-- Result: count, rss0, rss_idle, rss_echo (bytes, after a full GC).

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local util = require "driver_util"

local o = util.args(arg)
local is_server = o.role == "server"
assert(is_server or o.role == "client", "role=client|server")

local ctx = util.context(o, o.role)
local srv = is_server and util.listen(o.port)

local function open()
  if is_server then return assert(util.accept_tls(srv, ctx)) end
  return util.connect_tls(o.port, ctx)
end

local function echo(conn)
  if not is_server then assert(conn:send("x\n")) end
  local line = assert(conn:receive("*l"))
  if is_server then assert(conn:send(line .. "\n")) end
end

local warm = open()
echo(warm)
warm:close()
local rss0 = util.rss()
local conns = {}
for i = 1, o.count do conns[i] = open() end
local rss_idle = util.rss()
for i = 1, o.count do echo(conns[i]) end
local rss_echo = util.rss()
util.result({ impl = util.impl(), count = o.count, rss0 = rss0,
              rss_idle = rss_idle, rss_echo = rss_echo })
os.exit(0)
