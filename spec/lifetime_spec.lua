-- Every connection method in every state: fresh (wrapped, no handshake),
-- connected, failed (handshake error), closed, and with its context
-- collected. The table below is the contract; the loop checks it, so a
-- method added to the module without a row here turns the suite red.
local ssl    = require "ssl"
local certs  = require "spec.helpers.certs"
local pair   = require "spec.helpers.pair"
local oracle = require "spec.helpers.x509oracle"

local C = certs.path

local SERVER = { mode = "server", protocol = "any",
                 key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }
local CLIENT = { mode = "client", protocol = "any" }
local CLIENT_VERIFYING = { mode = "client", protocol = "any", verify = "peer",
                           cafile = C "rogue-ca.pem" }

-- Builders for each state: return the connection under test and a cleanup.
local states = {}

function states.fresh()
  local s, c = pair.wrap(SERVER, CLIENT)
  return c, function() s:close(); c:close() end
end

function states.connected()
  local s, c, sres, cres = pair.connect(SERVER, CLIENT)
  assert(sres.ok and cres.ok)
  return c, function() s:close(); c:close() end
end

function states.failed()
  local s, c, _, cres = pair.connect(SERVER, CLIENT_VERIFYING)
  assert(cres.ok == false)
  return c, function() s:close(); c:close() end
end

function states.closed()
  local s, c, sres, cres = pair.connect(SERVER, CLIENT)
  assert(sres.ok and cres.ok)
  c:close()
  return c, function() s:close() end
end

-- What each method returns per state: a function checking the results.
local function is(...)
  local want = table.pack(...)
  return function(got) assert.same(want, got) end
end
local function number_at_least(n)
  return function(got) assert.is_number(got[1]); assert.is_true(got[1] >= n) end
end
local function stats(got)
  assert.equal(3, got.n)
  for i = 1, 3 do assert.is_number(got[i]) end
end

-- The failed state: our client verifying the server's chain against the
-- rogue CA; the reason as openssl verify gives it for that chain.
local FAILED = oracle.verify { leaf = C "server-rsa.pem", untrusted = C "int-ca.pem",
                               cafile = C "rogue-ca.pem" }
local FAILED_MSG = ("certificate verify failed (%s at depth %d: %s)"):format(
  FAILED.reason, FAILED.depth, FAILED.subject)

local function certificate(got)
  assert.matches("^X509 certificate: ", tostring(got[1]))
end
local function chain_of(n)
  return function(got)
    assert.is_table(got[1])
    assert.equal(n, #got[1])
    for i = 1, n do certificate { got[1][i] } end
  end
end
local function bytes(min, max)
  return function(got)
    assert.is_string(got[1])
    assert.is_true(#got[1] >= min and #got[1] <= (max or min), "length " .. #got[1])
  end
end
local function peer_address(got)
  assert.equal("127.0.0.1", got[1])
  assert.is_true(math.type == nil or math.type(got[2]) == "integer")
  assert.equal("inet", got[3])
end
local CLOSED = is(nil, "closed")
local function when_connected(check)
  return { fresh = CLOSED, failed = CLOSED, closed = CLOSED, connected = check }
end
local function on_descriptor(check)
  return { fresh = check, connected = check, failed = check, closed = CLOSED }
end

local contract = {
  dohandshake = { fresh = nil, connected = is(true), failed = is(false, FAILED_MSG),
                  closed = is(false, "closed") },
  receive     = { fresh = is(nil, "closed", ""), failed = is(nil, "closed", ""),
                  closed = is(nil, "closed", "") },
  send        = { fresh = is(nil, "closed", 0), connected = is(1, nil, nil),
                  failed = is(nil, "closed", 0), closed = is(nil, "closed", 0) },
  info        = { fresh = is(nil, "closed"), failed = is(nil, "closed"),
                  closed = is(nil, "closed"),
                  connected = function(got) assert.is_table(got[1]); assert.is_string(got[1].cipher) end },
  getfd       = { fresh = number_at_least(0), connected = number_at_least(0),
                  failed = number_at_least(0), closed = is(-1) },
  dirty       = { fresh = is(false), connected = is(false), failed = is(false), closed = is(false) },
  want        = { fresh = is("nothing"), connected = is("nothing"), closed = is("nothing"),
                  failed = function(got) assert.is_string(got[1]) end },
  settimeout  = { fresh = is(1), connected = is(1), failed = is(1), closed = is(1) },
  gettimeout  = { fresh = is(-1, -1), connected = is(-1, -1), failed = is(-1, -1), closed = is(-1, -1) },
  getstats    = { fresh = stats, connected = stats, failed = stats, closed = stats },
  setstats    = { fresh = is(1), connected = is(1), failed = is(1), closed = is(1) },
  close       = { fresh = is(1), connected = is(1), failed = is(1), closed = is(1) },
  -- inspection: the client of a verify-none pair, server chain leaf + int-ca
  getpeercertificate   = when_connected(certificate),
  getpeerchain         = when_connected(chain_of(2)),
  getlocalcertificate  = when_connected(is(nil, "no certificate at index 1")),
  getlocalchain        = when_connected(chain_of(0)),
  -- after a failed handshake it says why, until close()
  getpeerverification  = { fresh = is(false, "closed"), failed = is(false, FAILED.reason),
                           closed = is(false, "closed"),
                           connected = is(false, "unable to get local issuer certificate") },
  getfinished          = when_connected(bytes(12, 48)),
  getpeerfinished      = when_connected(bytes(12, 48)),
  exportkeyingmaterial = when_connected(bytes(32)),
  -- socket methods answer from the descriptor until close()
  getpeername = on_descriptor(peer_address),
  getsockname = on_descriptor(function(got) assert.equal("127.0.0.1", got[1]) end),
  getfamily   = on_descriptor(is("inet4")),
  getoption   = on_descriptor(is(false)),
  setoption   = on_descriptor(is(1)),
  shutdown    = on_descriptor(is(1)),
  -- SNI and ALPN: nothing negotiated in a verify-none pair without ALPN
  getalpn     = { fresh = is(nil), connected = is(nil), failed = is(nil), closed = is(nil) },
  getsniname  = { fresh = is(nil), connected = is(nil), failed = is(nil), closed = is(nil) },
  sni         = { fresh = is(true), connected = CLOSED, failed = CLOSED, closed = CLOSED },
  -- DANE on a context without dane=true
  setdane = { fresh = is(false, "context not dane enabled"), connected = is(false, "handshake already started"),
              failed = is(false, "handshake already started"), closed = is(false, "closed") },
  settlsa = { fresh = is(false, "dane not enabled"), connected = is(false, "handshake already started"),
              failed = is(false, "handshake already started"), closed = is(false, "closed") },
  setverifyhost = { fresh = is(true), connected = is(nil, "handshake already started"),
                    failed = is(nil, "handshake already started"), closed = CLOSED },
  -- sessions (TLS 1.3 pair: no ticket read yet), alerts (the
  -- failed client sent unknown CA), OCSP (nothing requested)
  getsession    = when_connected(is(nil, "no resumable session")),
  setsession    = { fresh = is(nil, "invalid session (x)"), connected = is(nil, "handshake already started"),
                    failed = is(nil, "handshake already started"), closed = CLOSED },
  sessionreused = { fresh = is(false), connected = is(false), failed = is(false), closed = is(false) },
  getalert      = { fresh = is(nil), connected = is(nil), closed = is(nil),
                    failed = is({ sent = { level = "fatal", description = "unknown CA", code = 48 } }) },
  getocsp       = { fresh = is(nil), connected = is(nil), failed = is(nil), closed = is(nil) },
}

-- Arguments for the methods that need them.
local ARGS = {
  send = { "x" }, settimeout = { nil }, setstats = { 0, 0, 0 },
  exportkeyingmaterial = { "EXPORTER-sslua-test", 32 },
  getoption = { "keepalive" }, setoption = { "tcp-nodelay", true },
  sni = { "example.com" },
  setdane = { "localhost" }, settlsa = { 3, 1, 1, ("\0"):rep(32) },
  setsession = { "x" },
  setverifyhost = { "localhost" },
}

describe("connection methods in every state", function()
  it("the contract names every method a connection has", function()
    local meta = getmetatable(states.closed())
    local listed = {}
    for name in pairs(meta.__index) do listed[#listed + 1] = name end
    table.sort(listed)
    for _, name in ipairs(listed) do
      assert.is_table(contract[name], "method without a state contract: " .. name)
    end
  end)

  for state in pairs(states) do
    for method, expect in pairs(contract) do
      if expect[state] then
        it(method .. " when " .. state, function()
          local conn, cleanup = states[state]()
          finally(cleanup)
          local got = table.pack(conn[method](conn, table.unpack(ARGS[method] or {})))
          expect[state](got)
        end)
      end
    end

    it("tostring when " .. state, function()
      local conn, cleanup = states[state]()
      finally(cleanup)
      local expected = state == "closed" and "^SSL connection: 0x%x+ %(closed%)$"
                                          or "^SSL connection: 0x%x+$"
      assert.matches(expected, tostring(conn))
    end)
  end

  it("repeats the same handshake error when retried after a failure", function()
    local conn, cleanup = states.failed()
    finally(cleanup)
    for _ = 1, 3 do
      assert.same({ false, FAILED_MSG }, { conn:dohandshake() })
    end
  end)

  it("survives a callback that closes its own connection mid-handshake", function()
    local server
    local params = { mode = "server", protocol = "any", key = C "server-rsa.key",
                     certificate = C "server-rsa-chain.pem",
                     alpn = function() server:close(); return "h2" end }
    local client
    server, client = pair.wrap(params, { mode = "client", protocol = "any", alpn = { "h2" } })
    finally(function() server:close(); client:close() end)
    local sres, cres = pair.handshake(server, client)
    assert.same({ ok = false, err = "closed" }, sres)
    -- The server's flight may already be out (TLS 1.3 sends it in one go),
    -- so the client may finish; either way it then finds the stream gone.
    if cres.ok then
      client:settimeout(2)
      local data, err = client:receive()
      assert.is_nil(data)
      assert.is_true(err == "closed" or err == "unexpected eof while reading", err)
    end
    assert.matches("^SSL connection: 0x%x+ %(closed%)$", tostring(server))
    assert.same({ nil, "closed", "" }, { server:receive() })
  end)

  it("survives close called repeatedly and a receive after each", function()
    local conn, cleanup = states.connected()
    finally(cleanup)
    for _ = 1, 3 do
      assert.equal(1, conn:close())
      assert.same({ nil, "closed", "" }, { conn:receive() })
    end
  end)
end)

describe("object lifetime", function()
  it("a connection keeps its context alive after the context is collected", function()
    local stcp, ctcp = pair.tcp()
    local server = assert(ssl.wrap(stcp, assert(ssl.newcontext(SERVER))))
    local client = assert(ssl.wrap(ctcp, assert(ssl.newcontext(CLIENT))))
    finally(function() server:close(); client:close() end)
    collectgarbage(); collectgarbage()
    local sres, cres = pair.handshake(server, client)
    assert.is_true(sres.ok and cres.ok)
    assert.equal(3, server:send("hi\n"))
    assert.equal("hi", client:receive())
  end)

  it("a connection collected without close releases its descriptor", function()
    local stcp, ctcp = pair.tcp()
    local fd
    do
      local client = assert(ssl.wrap(ctcp, CLIENT))
      fd = client:getfd()
    end
    collectgarbage(); collectgarbage()
    -- The peer sees the end of the stream once our descriptor is closed.
    stcp:settimeout(2)
    assert.same({ nil, "closed", "" }, { stcp:receive(1) })
    assert.is_true(fd >= 0)
    stcp:close()
  end)

  it("a context can be reused by many connections", function()
    local sctx, cctx = assert(ssl.newcontext(SERVER)), assert(ssl.newcontext(CLIENT))
    for i = 1, 20 do
      local s, c, sres, cres = pair.connect(sctx, cctx)
      assert.is_true(sres.ok and cres.ok, "round " .. i)
      s:close(); c:close()
    end
  end)

  it("many connections collected by the GC alone do not leak descriptors", function()
    local function open_fds()
      local n = 0
      for _ in io.popen("ls /proc/self/fd"):lines() do n = n + 1 end
      return n
    end
    collectgarbage(); collectgarbage()
    local before = open_fds()
    for _ = 1, 50 do
      local s, c = pair.connect(SERVER, CLIENT)
      assert.is_userdata(s); assert.is_userdata(c)
    end
    collectgarbage(); collectgarbage()
    assert.is_true(open_fds() <= before + 1, "descriptors leaked")
  end)

  if _VERSION == "Lua 5.4" then
    it("a <close> variable closes the connection", function()
      local chunk = assert(load [[
        local pair, SERVER, CLIENT = ...
        local s, keep
        do
          local c <close>, _ = pair.connect(SERVER, CLIENT)
          keep = c
        end
        return keep
      ]])
      local conn = chunk(pair, SERVER, CLIENT)
      assert.matches("%(closed%)$", tostring(conn))
    end)
  end
end)

describe("ssl.wrap", function()
  it("neuters the LuaSocket object it takes the descriptor from", function()
    local stcp, ctcp = pair.tcp()
    local fd = ctcp:getfd()
    local conn = assert(ssl.wrap(ctcp, CLIENT))
    finally(function() stcp:close(); conn:close() end)
    assert.equal(fd, conn:getfd())
    assert.equal(-1, ctcp:getfd())
    assert.same({ nil, "closed", 0 }, { ctcp:send("x") })
  end)

  it("rejects a socket that is already closed", function()
    local stcp, ctcp = pair.tcp()
    stcp:close(); ctcp:close()
    assert.same({ nil, "closed" }, { ssl.wrap(ctcp, CLIENT) })
  end)

  it("rejects wrapping the same socket twice", function()
    local stcp, ctcp = pair.tcp()
    local conn = assert(ssl.wrap(ctcp, CLIENT))
    finally(function() stcp:close(); conn:close() end)
    assert.same({ nil, "closed" }, { ssl.wrap(ctcp, CLIENT) })
  end)

  it("rejects things that are not sockets", function()
    for _, v in ipairs { 1, "x", {}, true } do
      local ok, conn, err = pcall(ssl.wrap, v, CLIENT)
      assert.is_true(ok)
      assert.is_nil(conn)
      assert.matches("^invalid socket %(", err)
    end
  end)

  it("rejects a second argument that is neither params nor a context", function()
    local stcp, ctcp = pair.tcp()
    finally(function() stcp:close(); ctcp:close() end)
    for _, v in ipairs { 1, "x", true, io.stdout } do
      local ok, conn, err = pcall(ssl.wrap, ctcp, v)
      assert.is_true(ok)
      assert.is_nil(conn)
      assert.matches("^invalid context %(", err)
    end
    assert.is_true(ctcp:getfd() >= 0, "a failed wrap must leave the socket usable")
  end)

  it("returns newcontext's message for bad params", function()
    local stcp, ctcp = pair.tcp()
    finally(function() stcp:close(); ctcp:close() end)
    assert.same({ nil, "invalid mode (x)" }, { ssl.wrap(ctcp, { mode = "x" }) })
  end)

  it("works over IPv6 loopback", function()
    local s, c, sres, cres = pair.connect(SERVER, CLIENT, "::1")
    finally(function() s:close(); c:close() end)
    assert.is_true(sres.ok and cres.ok)
    assert.equal(6, c:send("hello\n"))
    assert.equal("hello", s:receive())
  end)
end)
