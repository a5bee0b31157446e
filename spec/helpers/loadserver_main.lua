-- spec/helpers/loadserver_main.lua CERT KEY [DEADLINE]
--
-- The child program behind spec/helpers/loadserver.lua: a TLS line-echo
-- server in ONE Lua process, every connection non-blocking, all of them
-- multiplexed by socket.select. Listens on 127.0.0.1, any free port.
--
-- DEADLINE (seconds, default 0 = none): a connection that has not finished
-- its handshake that long after it was accepted is closed - the slow-loris
-- defence. Established connections have no deadline.
--
-- socket.select takes descriptors below socket._SETSIZE (FD_SETSIZE, 1024)
-- only, so one process can watch at most that many minus its own few
-- (stdio, listener): about 1,010 connections. A connection whose
-- descriptor is too large is closed and counted as refused, never silently
-- served some other way.
--
-- Accepted sockets get TCP_NODELAY: without it every TLS 1.3 connection
-- here waited 40 ms (TLS 1.2: none) - after the handshake the server writes
-- more small records (the session tickets, one write each), and Nagle holds
-- them back until the client's delayed ACK.
--
-- stdin: a line "quit", or end of file, ends the server with a clean exit
-- (the Lua state closed, every object freed), so a leak checker sees all.
--
-- Output, one line each, flushed:
--   READY <port>                once listening
--   FAIL <phase> <message>      a connection that failed (handshake, echo)
--   DROP deadline age=<s>       a connection closed at its handshake deadline
--   IDLE <n> accepted=.. echoed=.. failed=.. dropped=.. refused=.. luakb=..
--                               each time the last open connection closed
--                               (n counts these moments), after a full Lua
--                               garbage collection, so that RSS measured
--                               now holds only what is really still in use
--   BYE                         on the way out

local socket = require "socket"
local ssl = require "ssl"

local CERT, KEY = arg[1], arg[2]
local DEADLINE = tonumber(arg[3]) or 0
local BACKLOG = 1024
local SETSIZE = socket._SETSIZE or 1024

local function say(...)
  io.stdout:write(table.concat({ ... }, " "), "\n")
  io.stdout:flush()
end

local ctx = assert(ssl.newcontext({
  mode = "server", protocol = "any", certificate = CERT, key = KEY,
  verify = "none", options = "all",
}))

local listener = assert(socket.bind("127.0.0.1", 0, BACKLOG))
listener:settimeout(0)

-- A set kept as an array, as socket.select wants it, with O(1) add and
-- remove; rebuilding the sets every turn would make a thousand-entry table
-- of garbage per select call, and the Lua heap (hence RSS) swing with it.
local function new_set() return { list = {}, index = {} } end

local function set_add(set, x)
  if set.index[x] then return end
  local n = #set.list + 1
  set.list[n], set.index[x] = x, n
end

local function set_remove(set, x)
  local i = set.index[x]
  if not i then return end
  local list, n = set.list, #set.list
  local last = list[n]
  list[i], set.index[last] = last, i
  list[n], set.index[x] = nil, nil
end

local readers, writers = new_set(), new_set()
local SETS = { read = readers, write = writers }
local by_conn = {}   -- connection -> its record, for every open one
local pending = {}   -- records with a handshake deadline -> true
local open = 0
local stats = { accepted = 0, echoed = 0, failed = 0, dropped = 0, refused = 0 }
local idle_count, idle_due = 0, false

-- Waits for `how` ("read"/"write") on the record's connection next.
local function park(rec, how)
  rec.wait = how
  set_remove(SETS[how == "read" and "write" or "read"], rec.conn)
  set_add(SETS[how], rec.conn)
end

-- Closes a record; the last one closing is an IDLE moment (see the top).
local function finish(rec)
  set_remove(readers, rec.conn)
  set_remove(writers, rec.conn)
  by_conn[rec.conn], pending[rec] = nil, nil
  rec.conn:close()
  rec.phase = "closed"
  open = open - 1
  idle_due = open == 0
end

-- Reported from the main loop, outside the turn whose select results still
-- hold the closed connections: the collection then leaves only what is
-- really live.
local function report_idle()
  idle_due = false
  collectgarbage("collect")   -- runs the connections' finalizers,
  collectgarbage("collect")   -- then frees them
  idle_count = idle_count + 1
  say("IDLE", idle_count, ("accepted=%d echoed=%d failed=%d dropped=%d refused=%d luakb=%d")
    :format(stats.accepted, stats.echoed, stats.failed, stats.dropped, stats.refused,
            math.floor(collectgarbage("count"))))
end

local function fail(rec, phase, err)
  stats.failed = stats.failed + 1
  say("FAIL", phase, tostring(err))
  finish(rec)
end

-- "wantread"/"wantwrite" park the record on that set; anything else ends it.
local WAITS = { wantread = "read", wantwrite = "write" }

-- Each phase advances a record as far as it can without blocking: it parks
-- the record on a select set, or finishes it.
local phases = {}

function phases.handshake(rec)
  local ok, err = rec.conn:dohandshake()
  if ok then
    rec.phase, pending[rec] = "receive", nil
    return phases.receive(rec)
  end
  if not WAITS[err] then return fail(rec, "handshake", err) end
  park(rec, WAITS[err])
end

-- Peers end with close_notify ("closed") or a bare FIN.
local PEER_GONE = { closed = true, ["unexpected eof while reading"] = true }

-- Echoes every complete line; stops when it must wait or the peer left.
function phases.receive(rec)
  while rec.phase == "receive" do
    local line, err, partial = rec.conn:receive("*l", rec.partial)
    if not line then
      rec.partial = partial
      if WAITS[err] then return park(rec, WAITS[err]) end
      if PEER_GONE[err] then return finish(rec) end
      return fail(rec, "receive", err)
    end
    rec.partial, rec.out, rec.sent = nil, line .. "\n", 0
    rec.phase = "send"
    phases.send(rec)
  end
end

function phases.send(rec)
  local last, err, partial_last = rec.conn:send(rec.out, rec.sent + 1)
  if last then
    stats.echoed = stats.echoed + 1
    rec.phase, rec.out = "receive", nil
    return park(rec, "read")
  end
  rec.sent = partial_last or rec.sent
  if not WAITS[err] then return fail(rec, "send", err) end
  park(rec, WAITS[err])
end

local function accept_one(tcp)
  stats.accepted = stats.accepted + 1
  if tcp:getfd() >= SETSIZE then
    stats.refused = stats.refused + 1
    say("FAIL accept descriptor", tcp:getfd(), "not below socket._SETSIZE", SETSIZE)
    return tcp:close()
  end
  tcp:setoption("tcp-nodelay", true)
  local conn, err = ssl.wrap(tcp, ctx)
  if not conn then
    stats.failed = stats.failed + 1
    say("FAIL wrap", tostring(err))
    return tcp:close()
  end
  conn:settimeout(0)
  local now = socket.gettime()
  local rec = { conn = conn, phase = "handshake", accepted_at = now }
  by_conn[conn] = rec
  open = open + 1
  if DEADLINE > 0 then rec.deadline, pending[rec] = now + DEADLINE, true end
  phases.handshake(rec)
end

local function accept_all()
  while true do
    local tcp = listener:accept()
    if not tcp then return end
    accept_one(tcp)
  end
end

-- Closes handshakes past their deadline; returns seconds to the next one.
local function enforce_deadlines(now)
  local next_in
  for rec in pairs(pending) do
    local left = rec.deadline - now
    if left <= 0 then
      stats.dropped = stats.dropped + 1
      say("DROP", ("deadline age=%.3f"):format(now - rec.accepted_at))
      finish(rec)
    elseif not next_in or left < next_in then
      next_in = left
    end
  end
  return next_in
end

-- stdin as an object socket.select accepts (see the top for what it reads).
local control = { getfd = function() return 0 end, dirty = function() return false end }

local function quit()
  say("BYE")
  os.exit(0, true)
end

local function serve_ready(list)
  for _, s in ipairs(list) do
    if s == listener then
      accept_all()
    elseif s == control then
      local line = io.read("*l")
      if line == nil or line == "quit" then quit() end
    else
      local rec = by_conn[s]
      if rec then phases[rec.phase](rec) end
    end
  end
end

-- One select call and what it found ready.
local function turn(timeout)
  local readable, writable, err = socket.select(readers.list, writers.list, timeout)
  if err and err ~= "timeout" then say("FAIL select", err) os.exit(2) end
  serve_ready(readable)
  serve_ready(writable)
end

set_add(readers, listener)
set_add(readers, control)
say("READY", (select(2, listener:getsockname())))
while true do
  local timeout = enforce_deadlines(socket.gettime())
  if idle_due then report_idle() end
  turn(timeout)
end
