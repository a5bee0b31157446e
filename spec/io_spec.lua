-- io_spec: conn:receive / conn:send / timeouts / stats, as a DIFFERENTIAL
-- test against LuaSocket 3.1 itself.
--
-- Every scenario runs twice: over a plain LuaSocket TCP pair (the oracle)
-- and over a TLS pair of ours. The full result tuples (count included, via
-- pack) must be identical; the only translation is the one in as_luasec()
-- below ("timeout" -> "wantread"/"wantwrite", LuaSec's words).
--
-- Receive cases run in two variants:
--   blocking     - the peer has sent everything (and closed, if the case
--                  says so) before the first receive; the receiver blocks
--                  with a short timeout, so a timeout only ever means
--                  "the data ran out".
--   non-blocking - settimeout(0) and a socket.select loop, the peer sending
--                  one chunk each time the receiver would block, so data
--                  arrives between calls; a timed-out call is retried with
--                  its partial result as the prefix (LuaSocket's idiom).
-- Big payloads (MiBs) cannot be queued in the kernel before reading, so
-- their blocking variant uses a peer in a child process.
local socket = require "socket"
local ssl    = require "ssl"
local pair   = require "spec.helpers.pair"
local certs  = require "spec.helpers.certs"

local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack
local math_type = math.type or function(x) return type(x) == "number" and "float" or nil end

local C = certs.path
local SERVER = { mode = "server", protocol = "any",
                 key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }
local CLIENT = { mode = "client", protocol = "any" }

-- How long a blocked call waits when all data is already in the socket:
-- only the final "data ran out" wait ever uses it.
local WAIT = 0.1
-- Safety net: no scenario may spin longer than this.
local DEADLINE = 15

------------------------------------------------------------------------------
-- The one translation between the oracle and us.
------------------------------------------------------------------------------

-- LuaSocket reports a timed-out (or would-block) operation as "timeout";
-- LuaSec, and so sslua, say "wantread" for reads and "wantwrite" for
-- writes. This is the ONLY place where an oracle result is rewritten.
local function as_luasec(result, direction)
  if result[2] ~= "timeout" then return result end
  local copy = { n = result.n }
  for i = 1, result.n do copy[i] = result[i] end
  copy[2] = (direction == "send") and "wantwrite" or "wantread"
  return copy
end

-- The drivers must recognise "would block" from either side.
local function timed_out(err)
  return err == "timeout" or err == "wantread" or err == "wantwrite"
end

------------------------------------------------------------------------------
-- Comparing results
------------------------------------------------------------------------------

local function escape(s)
  return (s:gsub("[%c\128-\255\\\"]", function(ch) return ("\\%d"):format(ch:byte()) end))
end

-- First offset where two different strings differ (binary search).
local function first_diff(a, b)
  local lo, hi = 1, math.min(#a, #b)
  if a:sub(1, hi) == b:sub(1, hi) then return hi + 1 end
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if a:sub(1, mid) == b:sub(1, mid) then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- Text for one value; long strings are summarised, but two different long
-- strings never get the same text (the first difference is shown).
local function show(v, other)
  local t = type(v)
  if t == "string" then
    if #v <= 80 then return '"' .. escape(v) .. '"' end
    local s = ("<string of %d bytes>"):format(#v)
    if type(other) == "string" and other ~= v then
      local k = first_diff(v, other)
      s = s .. (" differing at byte %d: \"%s\""):format(k, escape(v:sub(k, k + 15)))
    end
    return s
  elseif t == "number" then
    return ("%s %s"):format(math_type(v), tostring(v))
  end
  return tostring(v)
end

local function show_tuple(r, other)
  local out = { "n=" .. tostring(r.n) }
  local n = math.max(r.n or 0, other and other.n or 0)
  for i = 1, n do out[#out + 1] = show(r[i], other and other[i]) end
  return out
end

local function same_tuple(want, got, label)
  assert.are.same(show_tuple(want, got), show_tuple(got, want), label)
end

-- Two lists of result tuples, call by call; stops at the first mismatch.
local function same_results(want, got, label)
  assert.are.equal(#want, #got, label .. ": number of results")
  for i = 1, #want do
    local a, b = show_tuple(want[i], got[i]), show_tuple(got[i], want[i])
    if table.concat(a, "\0") ~= table.concat(b, "\0") then
      assert.are.same(a, b, ("%s: call #%d"):format(label, i))
    end
  end
end

------------------------------------------------------------------------------
-- Transports: sender (server side), receiver (client side)
------------------------------------------------------------------------------

local transports = {}

-- Nagle's algorithm would hold a small write back until the peer ACKs the
-- previous segment (after TLS 1.3's session tickets: a delayed ACK, 40 ms
-- or more), so "sent" would not mean "arrived": both transports disable it.
local function nodelay(s, c)
  assert(s:setoption("tcp-nodelay", true))
  assert(c:setoption("tcp-nodelay", true))
  return s, c
end

function transports.plain()
  return nodelay(pair.tcp())
end

function transports.tls()
  local s, c, sres, cres = pair.connect(SERVER, CLIENT)
  assert(sres.ok and cres.ok, "handshake failed: " .. tostring(sres.err or cres.err))
  return nodelay(s, c)
end

-- Every socket a test opens is recorded and closed by the test's `finally`
-- whatever happens (busted keeps one `finally` per test, so tests are
-- written as it(name, closing(function() ... end))). Closing twice is fine.
local tracked = {}

local function track(sock)
  tracked[#tracked + 1] = sock
  return sock
end

local function closing(fn)
  return function()
    local mine = {}
    tracked = mine
    finally(function()
      for _, sock in ipairs(mine) do pcall(sock.close, sock) end
    end)
    return fn()
  end
end

local function open(kind)
  local s, c = transports[kind]()
  return track(s), track(c)
end

-- A peer that sends `chunks` (one send() call each, so one TLS record or
-- more each) without ever blocking, then closes if asked to.
--   pump(step): sends what it can (just one chunk if step); true if it moved
--   finished(): everything sent (and closed, if asked)
local function new_sender(sock, chunks, close)
  local self = { i = 1, pos = 0, closed = false }
  sock:settimeout(0)
  local function close_now()
    -- close_notify must fit in the send buffer, or it would be lost.
    local _, writable = socket.select(nil, { sock }, 0)
    if #writable == 0 then return false end
    sock:close()
    self.closed = true
    return true
  end
  function self.pump(step)
    local moved = false
    while self.i <= #chunks do
      local chunk = chunks[self.i]
      if #chunk > 0 then
        local last, err, part = sock:send(chunk, self.pos + 1)
        if not last and not timed_out(err) then
          error("sender: send failed: " .. tostring(err))
        end
        local upto = last or part
        if upto > self.pos then moved = true end
        self.pos = upto
      end
      if self.pos < #chunk then return moved end
      self.i, self.pos = self.i + 1, 0
      moved = true
      if step then return true end
    end
    if close and not self.closed then
      return close_now() or moved
    end
    return moved
  end
  function self.finished()
    return self.i > #chunks and (self.closed or not close)
  end
  return self
end

------------------------------------------------------------------------------
-- Receive drivers: each returns the list of result tuples of `calls`.
-- A call is a packed argument list, optionally with `times` (repeat).
------------------------------------------------------------------------------

local function each_call(calls, fn)
  for _, call in ipairs(calls) do
    for _ = 1, call.times or 1 do fn(call) end
  end
end

local function receive_blocking(conn, calls, timeout)
  local results = {}
  conn:settimeout(timeout)
  each_call(calls, function(call)
    results[#results + 1] = pack(conn:receive(unpack(call, 1, call.n)))
  end)
  return results
end

-- Is this call an "*a"? (Only for the normalisation below.)
local function is_all(call)
  return type(call[1]) == "string" and call[1]:sub(1, 2) == "*a"
end

local function receive_nonblocking(conn, sender, calls, step)
  local results = {}
  local limit = socket.gettime() + DEADLINE
  conn:settimeout(0)
  each_call(calls, function(call)
    local pattern, prefix = call[1], call[2]
    local r
    while true do
      if call.n >= 2 or prefix ~= call[2] then
        r = pack(conn:receive(pattern, prefix))
      else
        r = pack(conn:receive(unpack(call, 1, call.n)))
      end
      if not timed_out(r[2]) then break end
      prefix = r[3]   -- LuaSocket's idiom: retry with the partial result
      if not sender.pump(step) then
        local readable = socket.select({ conn }, nil, WAIT)
        if #readable == 0 and not sender.pump(step) and sender.finished() then break end
      end
      if socket.gettime() > limit then error("non-blocking receive made no progress") end
    end
    -- "*a" succeeds when anything came before the close. Retrying with the
    -- partial as prefix hides what earlier calls got (LuaSocket does not
    -- count the prefix), so we restore the blocking meaning here, for
    -- both transports alike.
    if is_all(call) and r[1] == nil and r[2] == "closed" and #r[3] > #tostring(call[2] or "") then
      r = pack(r[3], nil, nil)
    end
    results[#results + 1] = r
  end)
  return results
end

local function as_chunks(send)
  if type(send) == "string" then return { send } end
  return send
end

-- Runs one case over one transport and variant; oracle results are mapped.
local function run_case(case, kind, variant)
  local s, c = open(kind)
  local sender = new_sender(s, as_chunks(case.send), case.close)
  local results
  if variant == "blocking" then
    sender.pump(false)
    assert(sender.finished(), "case data does not fit in the socket buffers")
    results = receive_blocking(c, case.calls, WAIT)
  else
    results = receive_nonblocking(c, sender, case.calls, case.step ~= false)
  end
  s:close()
  c:close()
  if kind == "plain" then
    for i, r in ipairs(results) do results[i] = as_luasec(r, "receive") end
  end
  return results
end

------------------------------------------------------------------------------
-- The receive cases
------------------------------------------------------------------------------

local P = pack

-- The same call n times in a row.
local function times(n, ...)
  local call = pack(...)
  call.times = n
  return call
end

local function bytes(from, to)
  local t = {}
  for b = from, to do t[#t + 1] = string.char(b) end
  return table.concat(t)
end

local ALL256 = bytes(0, 255)

local cases = {
  { name = "lines ending in CRLF",
    send = "one\r\ntwo\r\nthree\r\n", close = true,
    calls = { P("*l"), P("*l"), P("*l"), P("*l") } },
  { name = "bare CRs inside lines are dropped, LF ends the line",
    send = "a\rb\r\nc\r\r\nd\re\n\r\n\rx\ry\r", close = true,
    calls = { P("*l"), P("*l"), P("*l"), P("*l"), P("*l"), P("*l") } },
  { name = "empty lines",
    send = "\n\n\r\n\r\r\n\nx\n", close = true,
    calls = { P("*l"), P("*l"), P("*l"), P("*l"), P("*l"), P("*l"), P("*l") } },
  { name = "a last line without LF, then close",
    send = "first\nlast", close = true,
    calls = { P("*l"), P("*l"), P("*l") } },
  { name = "a last line without LF and no close times out with the partial",
    send = "first\nlast", close = false,
    calls = { P("*l"), P("*l"), P("*l"), P("*l", "again") } },
  { name = "default pattern: no argument, nil, nil with prefix",
    send = "x\ny\r\nz\n", close = true,
    calls = { P(), P(nil), P(nil, "pre:"), P() } },
  { name = "patterns are matched by their first two characters",
    send = "line one\nline two\r\nrest of it", close = true,
    calls = { P("*line"), P("*lx"), P("*all") } },
  { name = "*a with data, then close",
    send = "some\r\ndata\0with a NUL\n", close = true,
    calls = { P("*a"), P("*a") } },
  { name = "*a with no data before the close",
    send = "", close = true,
    calls = { P("*a"), P("*a", "P") } },
  { name = "*a without close times out with everything so far",
    send = "partial\r\ndata", close = false,
    calls = { P("*a"), P("*a", "P") } },
  { name = "*a after the stream already ended",
    send = "abc", close = true,
    calls = { P(3), P("*a"), P("*a"), P("*l"), P(1) } },
  { name = "counts smaller, equal and larger than what is left, then close",
    send = "0123456789", close = true,
    calls = { P(3), P(3), P(4), P(1), P(1, "x") } },
  { name = "a count larger than everything, then close",
    send = "0123456789", close = true,
    calls = { P(20), P(20) } },
  { name = "a count larger than what is available, no close",
    send = "0123456789", close = false,
    calls = { P(4), P(10), P(1) } },
  { name = "a count equal to what is available, no close",
    send = "abcdef", close = false,
    calls = { P(6), P(1) } },
  { name = "count 0 with and without data available",
    send = "abc", close = false,
    calls = { P(0), P(0, "pre"), P(3), P(0), P(0, "pre"), P(0, "") } },
  { name = "count 0 at the end of a closed stream",
    send = "ab", close = true,
    calls = { P(0), P(2), P(0), P(0, "pre") } },
  { name = "numeric strings as counts",
    send = "0123456789abcdefghij", close = true,
    calls = { P("3"), P("0x2"), P(" 2 "), P("2.7"), P("1e1"), P("0"), P("5") } },
  { name = "floats as counts are truncated",
    send = "0123456789", close = true,
    calls = { P(2.7), P(0.5), P(1.999), P(3.0), P(9.9) } },
  { name = "a prefix with each pattern",
    send = "line\r\n0123rest of it", close = true,
    calls = { P("*l", "A:"), P(6, "BB"), P("*a", "C:") } },
  { name = "a prefix longer than (or as long as) the count",
    send = "abcdef", close = false,
    calls = { P(2, "xyz"), P(3, "xyz"), P(4, "xyz"), P(0, "q"), P(2, ""), P(5, "zz") } },
  { name = "numbers as prefixes",
    send = "abcdef\n", close = true,
    calls = { P(5, 12), P("*l", 3.5), P("*a", 0) } },
  { name = "an empty prefix is no prefix",
    send = "ab\ncd", close = true,
    calls = { P("*l", ""), P(1, ""), P("*a", "") } },
  { name = "data split across many records, one byte per send",
    send = (function()
      local t = {}
      for ch in ("hello\r\nworld\r\n0123456789tail"):gmatch(".") do t[#t + 1] = ch end
      return t
    end)(), close = true,
    calls = { P("*l"), P("*l"), P(5), P(3, "pp"), P("*a") } },
  { name = "pattern boundaries that do not match record boundaries",
    send = { "ab", "", "c\r", "\nde", "f\n", "gh", "ij\r", "\r", "\n", "k" }, close = true,
    calls = { P("*l"), P(2), P("*l"), P(1), P(3), P("*l"), P("*a") } },
  { name = "many small sends of a line-oriented protocol",
    send = (function()
      local t = {}
      for i = 1, 200 do t[#t + 1] = "item " .. i; t[#t + 1] = (i % 3 == 0) and "\n" or "\r\n" end
      return t
    end)(), close = true,
    calls = { times(201, "*l") } },
  { name = "binary data with NUL bytes",
    send = { "\0\1\2\r\n\0\n\255\0", ALL256, ALL256:reverse() }, close = true,
    calls = { P("*l"), P("*l"), P(2), P(300), P("*l"), P("*a") } },
  { name = "a line and a count longer than one record (16 KiB)",
    send = { ("x"):rep(40000) .. "\r\n", ("y"):rep(20000), "z\n" .. ("w"):rep(33000) }, close = true,
    calls = { P("*l"), P(20000), P("*l"), P(16384), P("*a") } },
  { name = "a count longer than one record, data running out",
    send = { ("0123456789"):rep(3000) }, close = false,
    calls = { P(20000), P(20000), P(1) } },
}

------------------------------------------------------------------------------
-- Big payloads: a peer in a child process for the blocking variant.
------------------------------------------------------------------------------

-- 1 MiB of every byte value, in varying order (cheap to build).
local function mebibyte(extra)
  local t = {}
  for k = 0, 4095 do
    local r = k % 251
    t[#t + 1] = ALL256:sub(r + 1) .. ALL256:sub(1, r)
  end
  t[#t + 1] = ALL256:sub(1, extra or 0)
  return table.concat(t)
end

local function many_lines(count)
  local t = {}
  for i = 1, count do
    t[#t + 1] = (i % 2 == 0) and ("line " .. i .. "\r\n") or ("L" .. i .. "\n")
  end
  return table.concat(t)
end

-- `check` makes sure the oracle (and so the comparison) saw the payload.
local big_cases = {
  { name = "1 MiB with *a", data = function() return mebibyte() end,
    calls = { P("*a"), P("*a") },
    check = function(results, data)
      assert.is_true(results[1][1] == data, "*a did not return the payload")
      assert.are.same({ n = 3, nil, "closed", "" }, results[2])
    end },
  { name = "1 MiB (+100 bytes) in 65536-byte counts",
    data = function() return mebibyte(100) end,
    calls = { times(18, 65536) },
    check = function(results, data)
      local parts = {}
      for i = 1, 16 do
        assert.are.equal(65536, #results[i][1])
        parts[i] = results[i][1]
      end
      assert.are.same({ n = 3, nil, "closed", data:sub(-100) }, results[17])
      assert.are.same({ n = 3, nil, "closed", "" }, results[18])
      assert.is_true(table.concat(parts) .. results[17][3] == data)
    end },
  { name = "100k short lines with *l", data = function() return many_lines(100000) end,
    calls = { times(100001, "*l") },
    check = function(results)
      assert.are.equal("L1", results[1][1])
      assert.are.equal("line 100000", results[100000][1])
      assert.are.same({ n = 3, nil, "closed", "" }, results[100001])
    end },
}

local PEER = [==[
local port, mode, datafile, key, cert = ...
local socket = require "socket"
local f = assert(io.open(datafile, "rb"))
local data = f:read("*a")
f:close()
local sock = assert(socket.tcp())
sock:settimeout(10)
assert(sock:connect("127.0.0.1", tonumber(port)))
local conn = sock
if mode == "tls" then
  local ssl = require "ssl"
  conn = assert(ssl.wrap(sock, { mode = "server", protocol = "any", key = key, certificate = cert }))
  conn:settimeout(10)
  assert(conn:dohandshake())
end
conn:settimeout(10)
local i, step = 1, 1000
while i <= #data do
  local j = math.min(#data, i + step - 1)
  local last, err = conn:send(data, i, j)
  if not last then io.stderr:write("peer: send failed: ", tostring(err), "\n"); os.exit(1) end
  i = j + 1
  step = step % 40000 + 7919
end
conn:close()
]==]

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function interpreter()
  if rawget(_G, "jit") then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Blocking receive of `data` (then close) from a child-process peer.
local function run_big_blocking(kind, data, calls)
  local script, datafile = os.tmpname(), os.tmpname()
  write_file(script, PEER)
  write_file(datafile, data)
  local listener = track(assert(socket.bind("127.0.0.1", 0)))
  local _, port = listener:getsockname()
  local setup = ("package.path=%q package.cpath=%q"):format(package.path, package.cpath)
  local cmd = table.concat({ interpreter(), "-e", shell_quote(setup), shell_quote(script),
    tostring(port), kind, shell_quote(datafile),
    shell_quote(C "server-rsa.key"), shell_quote(C "server-rsa-chain.pem") }, " ")
  local proc = io.popen(cmd .. " 2>&1", "r")
  -- On any failure our sockets close (pcall here, `finally` as well), so
  -- the peer's next send fails and it exits: reading its output cannot hang.
  local ok, results = pcall(function()
    listener:settimeout(10)
    local conn = track(assert(listener:accept()))
    if kind == "tls" then
      conn = track(assert(ssl.wrap(conn, CLIENT)))
      conn:settimeout(10)
      assert(conn:dohandshake())
    end
    local results = receive_blocking(conn, calls, 5)
    conn:close()
    return results
  end)
  for _, sock in ipairs(tracked) do sock:close() end
  local output = proc:read("*a")
  proc:close()
  os.remove(script)
  os.remove(datafile)
  if not ok then error(results, 0) end
  assert.are.equal("", output, "the peer process reported a problem")
  if kind == "plain" then
    for i, r in ipairs(results) do results[i] = as_luasec(r, "receive") end
  end
  return results
end

local function run_big_nonblocking(kind, data, calls)
  local case = { send = { data }, close = true, calls = calls, step = false }
  return run_case(case, kind, "nonblocking")
end

------------------------------------------------------------------------------
-- Specs
------------------------------------------------------------------------------

describe("conn:receive, differential against LuaSocket", function()
  for _, variant in ipairs { "blocking", "nonblocking" } do
    describe("(" .. variant .. ")", function()
      for _, case in ipairs(cases) do
        it(case.name, closing(function()
          local want = run_case(case, "plain", variant)
          local got = run_case(case, "tls", variant)
          assert.is_true(#want > 0)
          same_results(want, got, case.name)
        end))
      end
    end)
  end

  describe("big payloads", function()
    for _, case in ipairs(big_cases) do
      local data = nil
      local function payload()
        data = data or case.data()
        return data
      end
      it(case.name .. " (blocking, peer in a child process)", closing(function()
        local want = run_big_blocking("plain", payload(), case.calls)
        local got = run_big_blocking("tls", payload(), case.calls)
        case.check(want, payload())
        same_results(want, got, case.name)
      end))
      it(case.name .. " (non-blocking)", closing(function()
        local want = run_big_nonblocking("plain", payload(), case.calls)
        local got = run_big_nonblocking("tls", payload(), case.calls)
        case.check(want, payload())
        same_results(want, got, case.name)
      end))
    end
  end)
end)

-- Both ends of one transport (closed by the test's `finally`).
local function with_pair(kind, fn)
  local s, c = open(kind)
  return fn(s, c)
end

local function differential(fn)
  local want = with_pair("plain", fn)
  local got = with_pair("tls", fn)
  return want, got
end

describe("conn:send slicing, differential against LuaSocket", function()
  local DATA = "0123456789"
  local LEN = #DATA

  -- Sends every slice on one connection, a separator after each, and
  -- returns the send results and everything the peer received.
  local function run_slices(sender, receiver, slices)
    local results = {}
    for _, args in ipairs(slices) do
      results[#results + 1] = pack(sender:send(unpack(args, 1, args.n)))
      assert(sender:send("|"))
    end
    sender:close()
    receiver:settimeout(5)
    local all = pack(receiver:receive("*a"))
    return results, all
  end

  local function slice_test(slices)
    local results, received = {}, {}
    for _, kind in ipairs { "plain", "tls" } do
      with_pair(kind, function(s, c)
        results[kind], received[kind] = run_slices(s, c, slices)
      end)
    end
    assert.is_true(#results.plain == #slices)
    local _, separators = received.plain[1]:gsub("|", "")
    assert.are.equal(#slices, separators, "the oracle's peer got one separator per send")
    same_results(results.plain, results.tls, "send results")
    same_tuple(received.plain, received.tls, "bytes the peer received")
  end

  it("matches for every (i, j) in {nil, -100, -3, -1, 0, 1, 2, len, len+1, 100}^2", closing(function()
    local values = { "nil", -100, -3, -1, 0, 1, 2, LEN, LEN + 1, 100 }
    local slices = {}
    for _, i in ipairs(values) do
      for _, j in ipairs(values) do
        local a = { n = 3, DATA }
        if i ~= "nil" then a[2] = i end
        if j ~= "nil" then a[3] = j end
        slices[#slices + 1] = a
      end
    end
    assert.are.equal(100, #slices)
    slice_test(slices)
  end))

  it("matches with omitted indices", closing(function()
    local slices = { P(DATA) }
    for _, i in ipairs { -100, -3, -1, 0, 1, 2, LEN, LEN + 1, 100 } do
      slices[#slices + 1] = P(DATA, i)
    end
    slice_test(slices)
  end))

  it("matches for floats, numeric strings, big indices, numbers as data and empty data", closing(function()
    slice_test {
      P(DATA, 2.5, 3.9), P(DATA, -2.5, -1.5), P(DATA, 0.9, 0.1), P(DATA, "2", "4"),
      P(DATA, " 3 ", "0x5"), P(DATA, 2 ^ 40, 2 ^ 40), P(DATA, -2 ^ 40, 2 ^ 40),
      P(DATA, 1, -2 ^ 40), P(12345), P(12345, 2, -2), P(1.5),
      P(""), P("", 1, 1), P("", 0, 0), P("", -1, -1), P("", 2, 1), P("", nil, nil),
    }
  end))
end)

describe("argument errors, differential against LuaSocket", function()
  -- "bad argument #2 to 'receive' (...)": the function name depends on how
  -- the method was reached, so only the number and the reason are compared.
  -- (A wrapper in Lua, like the coverage helper's, also adds a position.)
  local function normalise(msg)
    msg = tostring(msg):gsub("^[^:]+:%d+: ", "")
    return (msg:gsub("^bad argument #(%d+) to '[^']*'", "bad argument #%1"))
  end

  local function same_errors(method, arglists)
    local outcomes = {}
    for _, kind in ipairs { "plain", "tls" } do
      with_pair(kind, function(_, c)
        c:settimeout(0)
        local list = {}
        for k, args in ipairs(arglists) do
          local ok, msg = pcall(c[method], c, unpack(args, 1, args.n))
          list[k] = ok and ("no error: " .. tostring(msg)) or normalise(msg)
        end
        outcomes[kind] = list
      end)
    end
    for k = 1, #arglists do
      assert.matches("^bad argument #%d", outcomes.plain[k], nil, false,
        "oracle did not raise for " .. method .. " args #" .. k)
    end
    assert.are.same(outcomes.plain, outcomes.tls)
  end

  it("receive", closing(function()
    same_errors("receive", {
      P("l"), P("a"), P("x"), P(""), P("5x"), P("*"), P("*L"), P("*A"), P("l", "pre"),
      P(-1), P(-0.5), P("-1"), P(0 / 0), P(-math.huge),
      P({}), P(true), P(print),
      P("*l", {}), P(5, {}), P("*a", true), P("x", {}),
    })
  end))

  it("send", closing(function()
    same_errors("send", {
      P(), P(nil), P({}), P(true),
      P("x", "a"), P("x", {}), P("x", 1, "b"), P("x", 1, {}), P("x", true),
    })
  end))

  it("settimeout", closing(function()
    same_errors("settimeout", { P("x"), P({}), P(1, "q"), P(1, {}), P(1, "") })
  end))
end)

describe("timeouts", function()
  it("non-blocking receive without data returns nil, 'wantread', '' at once", closing(function()
    local patterns = { P(), P("*l"), P("*a"), P(10), P(0), P(10, "pre"), P("*l", "pre") }
    local want, got = differential(function(_, c)
      c:settimeout(0)
      local results = {}
      local t0 = socket.gettime()
      for _, args in ipairs(patterns) do
        results[#results + 1] = pack(c:receive(unpack(args, 1, args.n)))
      end
      assert.is_true(socket.gettime() - t0 < 0.5, "non-blocking receive blocked")
      if c.want then   -- ours only: LuaSocket objects have no want()
        assert.are.equal("read", c:want())
      end
      return results
    end)
    for i, r in ipairs(want) do want[i] = as_luasec(r, "receive") end
    assert.are.same({ n = 3, nil, "wantread", "" }, got[1])
    same_results(want, got, "non-blocking receive")
  end))

  it("a blocked receive gives up after the timeout, with the partial", closing(function()
    with_pair("tls", function(s, c)
      assert(s:send("part"))
      c:settimeout(0.2)
      local t0 = socket.gettime()
      local r = pack(c:receive(10))
      local elapsed = socket.gettime() - t0
      assert.are.same({ n = 3, nil, "wantread", "part" }, r)
      assert.is_true(elapsed >= 0.15 and elapsed < 2, "waited " .. elapsed)
      c:settimeout(0.2, "t")   -- a total timeout alone gives up the same way
      assert(s:send("more"))
      r = pack(c:receive(10, "x"))
      assert.are.same({ n = 3, nil, "wantread", "xmore" }, r)
    end)
  end))

  it("a 4 MiB send to a peer that does not read returns nil, 'wantwrite', N; "
     .. "the peer gets exactly N bytes, and a retry from N+1 the rest", closing(function()
    local BIG = mebibyte():rep(4)
    local function scenario(sender, peer)
      sender:settimeout(0.2)
      local r = pack(sender:send(BIG))
      local want_after = sender.want and sender:want()
      local n = r[3]
      assert.is_number(n)
      assert.is_true(n > 0 and n < #BIG, "N = " .. tostring(n))
      -- drain: exactly the first N bytes, then nothing more
      peer:settimeout(0.2)
      local got = {}
      while true do
        local d, err, part = peer:receive(65536)
        got[#got + 1] = d or part
        if not d then
          assert.is_true(timed_out(err), "drain: " .. tostring(err))
          break
        end
      end
      local drained = table.concat(got)
      assert.are.equal(n, #drained, "bytes the peer received after the timeout")
      assert.is_true(drained == BIG:sub(1, n), "the peer got other bytes than the first N")
      -- the rest, resumed from N+1, arrives intact
      sender:settimeout(0)
      peer:settimeout(0)
      local sent, rest = n, { drained }
      local limit = socket.gettime() + DEADLINE
      while sent < #BIG or #table.concat(rest) < #BIG do
        if sent < #BIG then
          local last, err, part = sender:send(BIG, sent + 1)
          assert(last or timed_out(err), err)
          sent = last or part
        end
        local d, err, part = peer:receive(65536)
        rest[#rest + 1] = d or part
        assert(d or timed_out(err), err)
        if not d then socket.select({ peer }, { sender }, 0.05) end
        assert(socket.gettime() < limit, "resuming the send made no progress")
        rest = { table.concat(rest) }
      end
      assert.is_true(rest[1] == BIG, "the peer did not get the 4 MiB intact")
      return { r, want_after }
    end
    -- our sender is the client side here, the peer the server side
    local want = with_pair("plain", function(s, c) return scenario(c, s) end)
    local got = with_pair("tls", function(s, c) return scenario(c, s) end)
    local mapped = as_luasec(want[1], "send")
    assert.are.same({ "n=3", "nil", '"wantwrite"', "float" },
      { "n=" .. got[1].n, tostring(got[1][1]), show(got[1][2]), math_type(got[1][3]) })
    assert.are.same({ "n=3", "nil", '"wantwrite"', "float" },
      { "n=" .. mapped.n, tostring(mapped[1]), show(mapped[2]), math_type(mapped[3]) })
    assert.are.equal("write", got[2])
  end))
end)

describe("close_notify and closed connections", function()
  it("after the peer's close(), receive returns nil, 'closed', partial", closing(function()
    with_pair("tls", function(s, c)
      assert(s:send("half a li"))
      assert(s:send("ne"))
      s:close()
      c:settimeout(1)
      assert.are.same({ n = 3, nil, "closed", "half a line" }, pack(c:receive("*l")))
      assert.are.same({ n = 3, nil, "closed", "pre" }, pack(c:receive(5, "pre")))
      assert.are.same({ n = 3, nil, "closed", "" }, pack(c:receive("*a")))
    end)
  end))

  it("a connection we closed answers like a closed LuaSocket object", closing(function()
    local want, got = differential(function(_, c)
      c:close()
      return {
        pack(c:receive()), pack(c:receive(5, "p")), pack(c:receive("*a")),
        pack(c:send("abc")), pack(c:send("abc", 2)),
      }
    end)
    same_results(want, got, "after close()")
  end))
end)

describe("dirty() and want()", function()
  it("dirty() is true while decrypted bytes are buffered, false once drained", closing(function()
    with_pair("tls", function(s, c)
      c:settimeout(1)
      assert.is_false(c:dirty())
      assert(s:send(("d"):rep(100)))    -- one 100-byte record
      assert.are.equal("d", c:receive(1))
      assert.is_true(c:dirty())
      -- socket.select must see a dirty connection as readable at once
      local readable = socket.select({ c }, nil, 0)
      assert.are.equal(c, readable[1])
      assert.are.equal(("d"):rep(99), c:receive(99))
      assert.is_false(c:dirty())
      assert(s:send("e\n"))
      assert.are.equal("e", c:receive())
      assert.is_false(c:dirty())
    end)
  end))

  it("want() says what the last operation waited for", closing(function()
    with_pair("tls", function(s, c)
      c:settimeout(0)
      assert.are.same({ n = 3, nil, "wantread", "" }, pack(c:receive()))
      assert.are.equal("read", c:want())
      assert(s:send("x\n"))
      assert.are.equal("x", c:receive())
      assert.are.equal("nothing", c:want())
    end)
  end))
end)

describe("getstats / setstats", function()
  it("count the bytes actually transferred", closing(function()
    local function scenario(s, c)
      local payload = mebibyte():sub(1, 50000)
      c:settimeout(5)
      s:settimeout(5)
      local chunks = {}
      for i = 1, #payload, 7000 do
        assert(s:send(payload, i, math.min(#payload, i + 6999)))
        chunks[#chunks + 1] = assert(c:receive(math.min(7000, #payload - i + 1)))
      end
      assert.are.equal(payload, table.concat(chunks))
      local r1, s1, a1 = c:getstats()
      local r2, s2, a2 = s:getstats()
      assert.are.equal(#payload, r1)
      assert.are.equal(0, s1)
      assert.are.equal(0, r2)
      assert.are.equal(#payload, s2)
      assert.is_true(a1 >= 0 and a2 >= 0)
      return { pack(r1, s1), pack(r2, s2) }
    end
    local want, got = differential(scenario)
    same_results(want, got, "stats")
  end))

  it("setstats sets them", closing(function()
    local function scenario(_, c)
      local r = { pack(c:setstats(5, 7, 100)) }
      local rec, sent, age = c:getstats()
      assert.are.equal(5, rec)
      assert.are.equal(7, sent)
      assert.is_true(age >= 100 and age < 110, "age " .. tostring(age))
      r[2] = pack(rec, sent)
      r[3] = pack(c:setstats())           -- no arguments: nothing changes
      r[4] = pack(select(2, c:getstats()) == 7, (c:getstats()))
      return r
    end
    local want, got = differential(scenario)
    same_results(want, got, "setstats")
  end))

  -- LuaSocket counts a byte as received when receive() hands it out
  -- (buffer_skip), not when it is read from the socket.
  it("count received bytes as LuaSocket does through partial reads", closing(function()
    local function scenario(s, c)
      c:settimeout(1)
      local r = {}
      local function stats(conn) local a, b = conn:getstats(); r[#r + 1] = pack(a, b) end
      assert(s:send(("r"):rep(100)))   -- one 100-byte record
      r[#r + 1] = pack(c:receive(1))
      stats(c)
      r[#r + 1] = pack(c:receive(9))
      stats(c)
      r[#r + 1] = pack(c:receive(90))
      stats(c)
      return r
    end
    local want, got = differential(scenario)
    same_results(want, got, "stats sequence")
  end))

  -- LuaSocket keeps the counters as integers: setstats truncates.
  it("setstats with fractional values matches LuaSocket", closing(function()
    local function scenario(s, c)
      local r = {}
      local function stats(conn) local a, b = conn:getstats(); r[#r + 1] = pack(a, b) end
      r[#r + 1] = pack(c:setstats(10.7, 3.2))
      stats(c)
      r[#r + 1] = pack(c:send("12345"))
      stats(c)
      assert.are.equal("12345", s:receive(5))
      return r
    end
    local want, got = differential(scenario)
    same_results(want, got, "setstats(10.7, 3.2)")
  end))
end)
