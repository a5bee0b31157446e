-- faults_spec: sslua on a faulty network.
--
-- interop/faultrelay.py (a child process, spec/helpers/faultrelay.lua) sits
-- between our endpoint (in this process) and a peer (our module in a child
-- process, or openssl s_server / s_client) and injects one fault into what
-- our side reads (or, for the write faults, what it sends). Whatever the
-- fault, our side must end with the full, intact data or with a clear
-- error - the exact string of src/connection.c or OpenSSL's reason - never
-- with a crash, a hang past its timeout, or less data reported as success.
-- Both roles, blocking (settimeout) and non-blocking (settimeout(0) and
-- socket.select), TLS 1.2 and 1.3. The full matrix of every combination is
-- interop/faults.py (`make interop`).
--
-- The peer sends SIZE bytes as records of 16384 and 3616 bytes and then
-- close_notify. The tail faults hit the last data record, so exactly KEPT
-- bytes arrive intact before the error.

local socket = require "socket"
local ssl = require "ssl"
local helpers = require "spec.helpers.peer"
local certs = require "spec.helpers.certs"
local luapeer = require "spec.helpers.luapeer"
local openssl = require "spec.helpers.openssl"
local process = require "spec.helpers.process"
local faultrelay = require "spec.helpers.faultrelay"

local SIZE, KEPT = 20000, 16384
local WAIT = 0.5                 -- our timeout: seconds without progress
local BIG = 16 * 1024 * 1024     -- more than the socket buffers hold

local function payload(n)
  local unit = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  return unit:rep(math.ceil(n / #unit)):sub(1, n)
end
local PAYLOAD = payload(SIZE)

local PROTOCOL = { ["1.2"] = "tlsv1_2", ["1.3"] = "tlsv1_3" }

------------------------------------------------------------------------------
-- our side: every operation blocking with WAIT, or non-blocking with select

local function set_io(conn, io)
  conn:settimeout(io == "nonblocking" and 0 or WAIT)
end

-- Non-blocking: after wantread/wantwrite, waits for the socket; false once
-- WAIT passed without the socket becoming ready. Blocking: the module
-- already waited.
-- Also says whether the socket became ready (bytes moved: progress).
local function again(conn, io, err, since)
  if io ~= "nonblocking" or (err ~= "wantread" and err ~= "wantwrite") then return false end
  local left = since + WAIT - socket.gettime()
  if left <= 0 then return false end
  local r, w = socket.select(err == "wantread" and { conn } or nil,
                             err == "wantwrite" and { conn } or nil, left)
  return true, #r + #w > 0
end

local function handshake(conn, io)
  local since = socket.gettime()
  while true do
    local ok, err = conn:dohandshake()
    if ok then return true end
    local go, moved = again(conn, io, err, since)
    if not go then return ok, err end
    if moved then since = socket.gettime() end
  end
end

-- receive(pattern) with LuaSocket's prefix idiom across retries.
local function receive(conn, io, pattern)
  local got, since = "", socket.gettime()
  while true do
    local data, err, partial = conn:receive(pattern, got)
    if data then return data end
    got = partial
    local go, moved = again(conn, io, err, since)
    if not go then return nil, err, partial end
    if moved then since = socket.gettime() end
  end
end

local function send(conn, io, data)
  local i, since = 1, socket.gettime()
  while true do
    local last, err, sent = conn:send(data, i)
    if last then return last end
    i = sent + 1
    local go, moved = again(conn, io, err, since)
    if not go then return nil, err, sent end
    if moved then since = socket.gettime() end
  end
end

local function params(role, version)
  if role == "server" then
    return certs.server_params({ protocol = PROTOCOL[version] })
  end
  return { mode = "client", protocol = PROTOCOL[version], verify = "peer",
           cafile = certs.path("ca.pem") }
end

-- Our client through the relay; returns the connection and the handshake's
-- result.
local function our_client(defer, port, version, io)
  local tcp = assert(socket.tcp())
  tcp:settimeout(5)
  assert(tcp:connect("127.0.0.1", port))
  local conn = defer(assert(ssl.wrap(tcp, params("client", version))))
  set_io(conn, io)
  return conn, handshake(conn, io)
end

-- Our server: listens now, accepts when asked.
local function our_listener(defer)
  local listener = defer(assert(socket.bind("127.0.0.1", 0)))
  local _, port = listener:getsockname()
  return listener, tonumber(port)
end

local function our_server(defer, listener, version, io)
  listener:settimeout(10)
  local tcp = assert(listener:accept())
  local conn = defer(assert(ssl.wrap(tcp, params("server", version))))
  set_io(conn, io)
  return conn, handshake(conn, io)
end

------------------------------------------------------------------------------
-- the peers: our module in a child process

local function peer_server(defer, version, actions)
  return defer(luapeer.server(params("server", version), { actions = actions }))
end

local function peer_client(defer, port, version, actions)
  local p = { mode = "client", protocol = PROTOCOL[version], verify = "none" }
  return defer(luapeer.client(port, p, { actions = actions }))
end

-- The peer sends once our side, its handshake over, says "go\n", then
-- closes. (A TLS 1.3 server writes its session tickets after the client
-- may already send; Linux reports a reset only once, to such a write, and
-- the reads after it see a plain end of stream. And a client that closed
-- with the tickets unread would send a reset, not a FIN: "go\n" comes
-- after them.)
local SENDER = { { "receive", "*l" }, { "send", PAYLOAD }, { "close" } }
local DRAIN = { { "receive", "*a" } }

-- One read case: our `role` reads SIZE bytes through the relay with `fault`
-- toward it. Returns what the handshake, the read and the read after gave.
local function read_through(defer, fault, role, version, io, pattern)
  local r = {}
  local conn
  if role == "client" then
    local srv = peer_server(defer, version, SENDER)
    local relay = defer(faultrelay.start(srv.port, fault, "client"))
    conn, r.ok, r.err = our_client(defer, relay.port, version, io)
  else
    local listener, port = our_listener(defer)
    local relay = defer(faultrelay.start(port, fault, "server"))
    peer_client(defer, relay.port, version, SENDER)
    conn, r.ok, r.err = our_server(defer, listener, version, io)
  end
  if not r.ok then return r end
  assert(send(conn, io, "go\n"))
  r.data, r.rerr, r.partial = receive(conn, io, pattern or SIZE)
  if r.data then r.after, r.aerr = receive(conn, io, "*l") end
  return r
end

-- One write case: our `role` sends BIG bytes through the relay with `fault`
-- on what it sends.
local function write_through(defer, fault, role, version, io)
  local conn, ok, err
  if role == "client" then
    local srv = peer_server(defer, version, DRAIN)
    local relay = defer(faultrelay.start(srv.port, fault, "server"))
    conn, ok, err = our_client(defer, relay.port, version, io)
  else
    local listener, port = our_listener(defer)
    local relay = defer(faultrelay.start(port, fault, "client"))
    peer_client(defer, relay.port, version, DRAIN)
    conn, ok, err = our_server(defer, listener, version, io)
  end
  assert(ok, err)
  return send(conn, io, payload(BIG))
end

------------------------------------------------------------------------------
-- the oracle for a damaged record: the openssl tool of the same OpenSSL

-- The first error the openssl tool reports, in our side's role, when it
-- reads the same fault through the relay from the same sender: s_client
-- from our peer server, s_server from our peer client (which sends once
-- s_server, its handshake over, writes "go"). The reason for a damaged
-- record is OpenSSL's own: junk in a TLS 1.3 stream is "wrong version
-- number" on 3.0 and "bad record type" on 3.5; a failed AES-GCM tag in TLS
-- 1.2 is the provider's "cipher operation failed", the oldest error in the
-- queue (as LuaSec reports it too). Once per fault, role and version.
local tool_seen = {}
local function tool_reads(defer, fault, role, version)
  local key = table.concat({ fault, role, version }, " ")
  if tool_seen[key] then return tool_seen[key] end
  local flag = "-tls" .. version:gsub("%.", "_")
  local tool
  if role == "client" then
    local srv = peer_server(defer, version, SENDER)
    local relay = defer(faultrelay.start(srv.port, fault, "client"))
    tool = defer(openssl.s_client({ port = relay.port, cafile = false, stdin = "go\n",
                                    ign_eof = true, args = { flag } }))
  else
    tool = defer(openssl.s_server({ naccept = 1, args = { flag } }))
    local relay = defer(faultrelay.start(tool.port, fault, "server"))
    peer_client(defer, relay.port, version, SENDER)
    assert(tool:wait_output("CIPHER is", 10, true), "s_server did not handshake: " .. tool:output())
    assert(tool:write("go\n"))
  end
  assert(tool:wait(10), "the openssl tool did not end: " .. tool:output())
  local err = openssl.parse(tool:output()).errors[1]
  assert(err, ("the openssl tool read %s without an error:\n%s"):format(fault, tool:output()))
  tool_seen[key] = err
  return err
end

------------------------------------------------------------------------------
-- expectations

local ASK_OPENSSL = {}   -- err: what tool_reads says

-- Every fault of what our side reads, with the exact outcome.
local READ = {
  { fault = "none",              after = "closed" },
  { fault = "split",             after = "closed", slow = true },
  { fault = "delay",             after = "closed", slow = true },
  { fault = "drop-close-notify", after = "unexpected eof while reading" },
  { fault = "truncate",          err = "unexpected eof while reading" },
  { fault = "garbage",           err = ASK_OPENSSL },
  { fault = "corrupt",           err = ASK_OPENSSL },
  { fault = "reset",             err = "closed" },
  { fault = "stall",             err = "wantread", slow = true },
  { fault = "reset-handshake",   handshake = "closed" },
  { fault = "stall-handshake",   handshake = "wantread", slow = true },
}

-- Each fault in four variants, so that every role, I/O mode and version
-- meets every fault at least once; the slow ones (which wait for a
-- timeout or trickle) in two, still both of each. interop/faults.py runs
-- all eight combinations.
local VARIANTS = {
  { "client", "1.3", "blocking" }, { "server", "1.2", "nonblocking" },
  { "client", "1.2", "nonblocking" }, { "server", "1.3", "blocking" },
}

local function variants(slow)
  return slow and { VARIANTS[1], VARIANTS[2] } or VARIANTS
end

-- Compares payloads without printing 40000 bytes on failure.
local function same(expected, got, what)
  local ok = got == expected
  assert.is_true(ok, ("%s: %s bytes, expected %d%s"):format(what,
    got and #got or "no", #expected, got and not ok and #got == #expected and " (differing)" or ""))
end

local function check_read(r, want, err)
  if want.handshake then
    assert.is_false(r.ok)
    assert.equal(want.handshake, r.err)
    return
  end
  assert.is_true(r.ok, r.err)
  if want.after then
    assert.equal(nil, r.rerr)
    same(PAYLOAD, r.data, "the data")
    assert.is_nil(r.after)
    assert.equal(want.after, r.aerr)
    return
  end
  assert.is_nil(r.data and #r.data, "a damaged stream reported as success")
  assert.equal(err, r.rerr)
  same(PAYLOAD:sub(1, KEPT), r.partial, "the partial data")
end

describe("faults (interop/faultrelay.py between the two ends)", function()
  after_each(helpers.stop_all)

  for _, want in ipairs(READ) do
    for _, v in ipairs(variants(want.slow)) do
      local role, version, io = v[1], v[2], v[3]
      it(("%s toward our %s, TLS %s, %s"):format(want.fault, role, version, io), function()
        local defer = helpers.cleanup(finally)
        local err = want.err
        if err == ASK_OPENSSL then err = tool_reads(defer, want.fault, role, version) end
        check_read(read_through(defer, want.fault, role, version, io), want, err)
      end)
    end
  end

  describe("on what our side sends", function()
    for _, v in ipairs(variants(false)) do
      local role, version, io = v[1], v[2], v[3]
      it(("a reset fails send with closed: our %s, TLS %s, %s"):format(role, version, io),
         function()
        local defer = helpers.cleanup(finally)
        local last, err, sent = write_through(defer, "reset-data", role, version, io)
        assert.is_nil(last)
        assert.equal("closed", err)
        assert.is_true(sent < BIG)
      end)
    end
    for _, v in ipairs(variants(true)) do
      local role, version, io = v[1], v[2], v[3]
      it(("a stall fails send with wantwrite: our %s, TLS %s, %s"):format(role, version, io),
         function()
        local defer = helpers.cleanup(finally)
        local last, err, sent = write_through(defer, "stall-data", role, version, io)
        assert.is_nil(last)
        assert.equal("wantwrite", err)
        assert.is_true(sent > 0 and sent < BIG)
      end)
    end
  end)

  describe('receive("*a")', function()
    it("reports a reset as closed, with the partial data", function()
      local defer = helpers.cleanup(finally)
      local r = read_through(defer, "reset", "client", "1.3", "blocking", "*a")
      assert.is_nil(r.data and #r.data, "a reset stream reported as complete")
      assert.equal("closed", r.rerr)
      same(PAYLOAD:sub(1, KEPT), r.partial, "the partial data")
    end)

    it("reports a stream cut inside a record as unexpected eof, with the partial data",
       function()
      local defer = helpers.cleanup(finally)
      local r = read_through(defer, "truncate", "server", "1.3", "blocking", "*a")
      assert.is_nil(r.data and #r.data, "a truncated stream reported as complete")
      assert.equal("unexpected eof while reading", r.rerr)
      same(PAYLOAD:sub(1, KEPT), r.partial, "the partial data")
    end)

    it("returns everything when only the close_notify is missing (see README)", function()
      local defer = helpers.cleanup(finally)
      -- Blocking: non-blocking, the call that meets the end alone returns
      -- nil, "closed" with the data as its partial, as LuaSocket's "*a" does.
      local r = read_through(defer, "drop-close-notify", "server", "1.2", "blocking", "*a")
      same(PAYLOAD, r.data, "the data")
    end)
  end)

  describe("against openssl", function()
    it("s_client's stream cut mid-record: our server reads unexpected eof", function()
      local defer = helpers.cleanup(finally)
      local listener, port = our_listener(defer)
      local relay = defer(faultrelay.start(port, "truncate", "server"))
      defer(openssl.s_client({ port = relay.port, cafile = false, stdin = PAYLOAD,
                               args = { "-nocommands", "-tls1_2" } }))
      local conn, ok, err = our_server(defer, listener, "1.2", "blocking")
      assert.is_true(ok, err)
      local data, rerr, partial = receive(conn, "blocking", SIZE)
      assert.is_nil(data and #data)
      assert.equal("unexpected eof while reading", rerr)
      assert.is_true(#partial < SIZE)
      same(PAYLOAD:sub(1, #partial), partial, "the partial data")
    end)

    it("s_server -WWW without its close_notify: our client reads all, then unexpected eof",
       function()
      local defer = helpers.cleanup(finally)
      local dir = process.mktempdir("sslua-faults")
      defer(function() process.rmtree(dir) end)
      process.write_file(dir .. "/payload.txt", PAYLOAD)
      local srv = defer(openssl.s_server({ naccept = 1, cwd = dir, args = { "-WWW", "-tls1_3" } }))
      local relay = defer(faultrelay.start(srv.port, "drop-close-notify", "client"))
      local conn, ok, err = our_client(defer, relay.port, "1.3", "nonblocking")
      assert.is_true(ok, err)
      assert(send(conn, "nonblocking", "GET /payload.txt HTTP/1.0\r\n\r\n"))
      repeat
        local line, lerr = receive(conn, "nonblocking", "*l")
        assert.is_string(line, lerr)
      until line == ""
      local file, ferr = receive(conn, "nonblocking", SIZE)
      assert.is_nil(ferr)
      same(PAYLOAD, file, "the file")
      local more, merr = receive(conn, "nonblocking", "*l")
      assert.is_nil(more)
      assert.equal("unexpected eof while reading", merr)
    end)
  end)
end)
