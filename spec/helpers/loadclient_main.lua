-- spec/helpers/loadclient_main.lua HOST PORT CAFILE [WINDOW]
--
-- The child program behind spec/helpers/loadclient.lua: many concurrent TLS
-- clients in one Lua process, non-blocking, multiplexed by socket.select
-- (at most WINDOW, default 32, connecting or handshaking at a time; the
-- finished ones stay open outside the select sets). Each client verifies
-- the server against CAFILE, sends one line and checks the echo.
--
-- Prints READY, then reads commands on stdin, one per line; each answers
-- with one line on stdout:
--   open N R    N clients, kept open afterwards ->
--               OPENED R ok=<n> fail=<n> secs=<s> [err=<first error>]
--   close R     closes the kept ones          -> CLOSED R n=<n>
--   stall K     K raw TCP stallers, in turn: "silent" (sends nothing),
--               "partial" (half a ClientHello), "hello" (a whole
--               ClientHello, then never answers the server's flight)
--               -> STALLED ok=<n> fail=<n>
--   normal M    M clients that handshake, echo and close ->
--               NORMAL ok=<n> fail=<n> secs=<s> [err=..], then
--               STALLERS open=<n> closed=<n> (as seen right then)
--   await T     waits up to T s until the server closed every staller ->
--               AWAITED open=<n> closed=<n> min_age=<s since connect>
--   quit

local socket = require "socket"
local ssl = require "ssl"

local HOST, PORT, CAFILE = arg[1], tonumber(arg[2]), arg[3]
local WINDOW = tonumber(arg[4]) or 32

local function say(...)
  io.stdout:write(table.concat({ ... }, " "), "\n")
  io.stdout:flush()
end

local ctx = assert(ssl.newcontext({
  mode = "client", protocol = "any", cafile = CAFILE, verify = "peer",
  options = "all",
}))

-- One client, as a record stepped through its phases ------------------

local WAITS = { wantread = "read", wantwrite = "write" }

local run   -- the batch being driven: counts, first error, kept list

local function done(job, err)
  job.phase = "done"
  run.active = run.active - 1
  if err then
    run.fail = run.fail + 1
    run.err = run.err or err
    job.conn:close()
    return
  end
  run.ok = run.ok + 1
  if job.keep then run.kept[#run.kept + 1] = job.conn else job.conn:close() end
end

local phases = {}

-- Reached once the non-blocking connect reported writable (or at once).
function phases.connect(job)
  local conn, err = ssl.wrap(job.conn, ctx)
  if not conn then return done(job, "wrap: " .. tostring(err)) end
  job.conn = conn
  conn:settimeout(0)
  job.phase = "handshake"
  return phases.handshake(job)
end

function phases.handshake(job)
  local ok, err = job.conn:dohandshake()
  if not ok then
    job.wait = WAITS[err]
    if not job.wait then done(job, "handshake: " .. tostring(err)) end
    return
  end
  job.phase, job.sent = "send", 0
  return phases.send(job)
end

function phases.send(job)
  local last, err, partial_last = job.conn:send(job.line .. "\n", job.sent + 1)
  if not last then
    job.sent = partial_last or job.sent
    job.wait = WAITS[err]
    if not job.wait then done(job, "send: " .. tostring(err)) end
    return
  end
  job.phase = "receive"
  return phases.receive(job)
end

function phases.receive(job)
  local line, err, partial = job.conn:receive("*l", job.partial)
  if not line then
    job.partial = partial
    job.wait = WAITS[err]
    if not job.wait then done(job, "receive: " .. tostring(err)) end
    return
  end
  if line ~= job.line then return done(job, "echo mismatch") end
  done(job)
end

local function start_job(tag, i, keep)
  local tcp = socket.tcp()
  local job = { conn = tcp, phase = "connect", keep = keep,
                line = ("%s-%d-%08x"):format(tag, i, math.random(0, 0x7fffffff)) }
  run.active = run.active + 1
  tcp:settimeout(0)
  local ok, err = tcp:connect(HOST, PORT)
  tcp:setoption("tcp-nodelay", true)   -- (the descriptor exists only now)
  if ok then phases.connect(job)
  elseif err == "timeout" then job.wait = "write"
  else done(job, "connect: " .. tostring(err)) end
  return job
end

-- Drives N clients through a select loop, WINDOW of them at a time.
local function drive(n, tag, keep)
  run = { active = 0, ok = 0, fail = 0, kept = {} }
  local jobs, started = {}, 0
  local t0 = socket.gettime()
  while started < n or run.active > 0 do
    while started < n and run.active < WINDOW do
      started = started + 1
      jobs[#jobs + 1] = start_job(tag, started, keep)
    end
    local readers, writers, by_conn = {}, {}, {}
    for _, job in ipairs(jobs) do
      if job.phase ~= "done" and job.wait then
        local set = job.wait == "read" and readers or writers
        set[#set + 1] = job.conn
        by_conn[job.conn] = job
      end
    end
    local r, w = socket.select(readers, writers, 1)
    for _, list in ipairs({ r, w }) do
      for _, s in ipairs(list) do
        local job = by_conn[s]
        if job.phase ~= "done" then job.wait = nil phases[job.phase](job) end
      end
    end
    -- drop finished jobs from the scan list now and then
    if #jobs > 2 * WINDOW then
      local live = {}
      for _, job in ipairs(jobs) do
        if job.phase ~= "done" and job.wait then live[#live + 1] = job end
      end
      jobs = live
    end
  end
  run.secs = socket.gettime() - t0
  return run
end

local function report(word, tag, r)
  local line = ("%s%s ok=%d fail=%d secs=%.3f"):format(word, tag, r.ok, r.fail, r.secs)
  if r.err then line = line .. " err=" .. r.err:gsub("%s", "_") end
  say(line)
end

-- Slow-loris stallers -----------------------------------------------

-- The bytes of one real ClientHello record, caught on a private listener.
local function capture_client_hello()
  local lst = assert(socket.bind("127.0.0.1", 0))
  local _, port = lst:getsockname()
  local tcp = socket.tcp()
  tcp:settimeout(2)
  assert(tcp:connect("127.0.0.1", port))
  local peer = assert(lst:accept())
  local conn = assert(ssl.wrap(tcp, ctx))
  conn:settimeout(0)
  conn:dohandshake()                      -- writes the ClientHello, then wants to read
  peer:settimeout(2)
  local header = assert(peer:receive(5))
  local body = assert(peer:receive(header:byte(4) * 256 + header:byte(5)))
  conn:close() peer:close() lst:close()
  return header .. body
end

local KINDS = { "silent", "partial", "hello" }
local stallers = {}

local function stall(k)
  local hello = capture_client_hello()
  local bytes = { silent = "", partial = hello:sub(1, math.floor(#hello / 2)), hello = hello }
  local ok, fail = 0, 0
  for i = 1, k do
    local kind = KINDS[(i - 1) % #KINDS + 1]
    local tcp = socket.tcp()
    tcp:settimeout(2)
    local since = socket.gettime()   -- before the server can have accepted it
    local connected = tcp:connect(HOST, PORT)
    if connected and (bytes[kind] == "" or tcp:send(bytes[kind])) then
      tcp:settimeout(0)
      stallers[#stallers + 1] = { tcp = tcp, kind = kind, since = since }
      ok = ok + 1
    else
      tcp:close()
      fail = fail + 1
    end
  end
  say(("STALLED ok=%d fail=%d"):format(ok, fail))
end

-- Reads (and discards) what the server sent; notes when it closed.
local function poll_staller(st)
  if st.closed_at then return end
  while true do
    local data, err = st.tcp:receive(4096)
    if not data and err ~= "timeout" then   -- "closed" (or a reset)
      st.closed_at = socket.gettime()
      st.tcp:close()
      return
    end
    if not data then return end
  end
end

local function staller_counts()
  local open, closed, min_age = 0, 0, math.huge
  for _, st in ipairs(stallers) do
    poll_staller(st)
    if st.closed_at then
      closed = closed + 1
      min_age = math.min(min_age, st.closed_at - st.since)
    else
      open = open + 1
    end
  end
  return open, closed, min_age
end

local function await(limit)
  local deadline = socket.gettime() + limit
  while socket.gettime() < deadline do
    local readers = {}
    for _, st in ipairs(stallers) do
      if not st.closed_at then readers[#readers + 1] = st.tcp end
    end
    if #readers == 0 then break end
    socket.select(readers, nil, math.min(1, deadline - socket.gettime()))
    staller_counts()
  end
  local open, closed, min_age = staller_counts()
  say(("AWAITED open=%d closed=%d min_age=%.3f"):format(open, closed, min_age))
end

-- Commands ------------------------------------------------------------

local kept = {}
local commands = {}

function commands.open(n, round)
  local r = drive(tonumber(n), "r" .. round, true)
  kept = r.kept
  report("OPENED ", round, r)
end

function commands.close(round)
  for _, conn in ipairs(kept) do conn:close() end
  say(("CLOSED %s n=%d"):format(round, #kept))
  kept = {}
end

function commands.stall(k) stall(tonumber(k)) end

function commands.normal(m)
  report("NORMAL", "", drive(tonumber(m), "n", false))
  local open, closed = staller_counts()
  say(("STALLERS open=%d closed=%d"):format(open, closed))
end

function commands.await(limit) await(tonumber(limit)) end

math.randomseed(os.time())
say("READY")
for line in io.lines() do
  local words = {}
  for w in line:gmatch("%S+") do words[#words + 1] = w end
  local name = table.remove(words, 1)
  if name == "quit" then break end
  local cmd = commands[name]
  if cmd then cmd((table.unpack or unpack)(words)) else say("ERROR unknown command " .. tostring(name)) end
end
