-- To-be-closed variables (Lua 5.4 `local x <close> = ...`) over the
-- module's objects: connections, contexts, sessions and certificates all
-- have a __close metamethod (the same function as __gc). The first part
-- calls __close directly, so it runs on every Lua; the second uses the
-- 5.4 syntax, compiled with load() only on Lua 5.4 (this file must load
-- on 5.1-5.3 and LuaJIT), and reports each case pending elsewhere.
-- spec/lifetime_spec.lua already has the plain "<close> closes the
-- connection" case; these are the ones around it: errors leaving the
-- block, coroutine.close(), half-done handshakes, contexts closed while
-- their connections live on, generic-for closing values.
local ssl   = require "ssl"
local certs = require "spec.helpers.certs"
local pair  = require "spec.helpers.pair"

certs.ensure()
local C, read = certs.path, certs.read

local SERVER = assert(ssl.newcontext { mode = "server", protocol = "any",
  key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem" })
local CLIENT = { mode = "client", protocol = "any" }
local VERIFYING = { mode = "client", protocol = "any", verify = "peer", cafile = C "root-ca.pem" }

local CLOSED_CALLBACK = "certificate verify failed (callback: context closed)"

-- A connected pair whose client has read the server's TLS 1.3 tickets,
-- so getsession() has something to give.
local function connected(client)
  local s, c, sres, cres = pair.connect(SERVER, client or CLIENT)
  assert(sres.ok and cres.ok, "handshake: " .. tostring(cres.err))
  s:settimeout(5); c:settimeout(5)   -- a bug must fail a test, never hang it
  assert(s:send("hello\n") == 6 and c:receive() == "hello")
  return s, c
end

------------------------------------------------------------------------------
-- __close called directly (every Lua)
------------------------------------------------------------------------------

-- kind -> builder returning the object (and a cleanup), and the check
-- that it is closed.
local CLOSABLE = {
  connection = {
    make = function()
      local s, c = connected()
      return c, function() s:close() end
    end,
    closed = function(conn)
      assert.matches("%(closed%)$", tostring(conn))
      assert.same({ nil, "closed", "" }, { conn:receive() })
    end,
  },
  context = {
    make = function() return assert(ssl.newcontext(CLIENT)) end,
    closed = function(ctx)
      assert.matches("%(closed%)$", tostring(ctx))
      local stcp, ctcp = pair.tcp()
      assert.same({ nil, "closed" }, { ssl.wrap(ctcp, ctx) })
      stcp:close(); ctcp:close()
    end,
  },
  session = {
    make = function()
      local s, c = connected()
      local session = assert(c:getsession())
      return session, function() s:close(); c:close() end
    end,
    closed = function(session) assert.same({ nil, "closed" }, { session:export() }) end,
  },
  certificate = {
    make = function() return assert(ssl.loadcertificate(read "root-ca.pem")) end,
    closed = function(cert) assert.same({ nil, "closed" }, { cert:digest() }) end,
  },
}

describe("__close called directly", function()
  for kind, t in pairs(CLOSABLE) do
    it(kind .. ": closes, ignores the error argument, repeats harmlessly, then __gc", function()
      local object, cleanup = t.make()
      if cleanup then finally(cleanup) end
      local meta = getmetatable(object)
      assert.is_function(meta.__close)
      -- 5.4 passes the error that left the block (or nil) as argument 2.
      assert.same({}, { meta.__close(object, "an error leaving the block") })
      t.closed(object)
      meta.__close(object, nil)
      meta.__gc(object)
      t.closed(object)
    end)
  end

  it("a context closed before the handshake fails its verifycallback, never skips it", function()
    local calls = 0
    local ctx = assert(ssl.newcontext { mode = "client", protocol = "any", verify = "peer",
      cafile = C "root-ca.pem",
      verifycallback = function() calls = calls + 1; return false end })   -- a pin nothing matches
    local s, c = pair.wrap(SERVER, ctx)
    finally(function() s:close(); c:close() end)
    getmetatable(ctx).__close(ctx)
    local sres, cres = pair.handshake(s, c)
    assert.same({ ok = false, err = CLOSED_CALLBACK }, cres)
    assert.is_false(sres.ok)
    assert.equal(0, calls)
  end)

  it("a context closed by its own verifycallback fails the rest of the chain", function()
    local ctx
    ctx = assert(ssl.newcontext { mode = "client", protocol = "any", verify = "peer",
      cafile = C "root-ca.pem",
      verifycallback = function() getmetatable(ctx).__close(ctx); return true end })
    local s, c, sres, cres = pair.connect(SERVER, ctx)
    finally(function() s:close(); c:close() end)
    assert.same({ ok = false, err = CLOSED_CALLBACK }, cres)
    assert.is_false(sres.ok)
  end)
end)

------------------------------------------------------------------------------
-- `<close>` variables (Lua 5.4)
------------------------------------------------------------------------------

-- Each case is a Lua 5.4 chunk run with these names in its environment;
-- it asserts by itself.
local CASES = {
  { "a connection closes at the end of its block: the peer gets close_notify", [[
    local s, c = connected()
    local kept
    do
      local conn <close> = c
      kept = conn
      assert.equal(3, conn:send("hi\n"))
    end
    assert.matches("%(closed%)$", tostring(kept))
    assert.equal("hi", s:receive())
    assert.same({ nil, "closed", "" }, { s:receive() })
    assert.equal("close notify", s:getalert().received.description)
    s:close()
  ]] },

  { "an error leaving the block closes the connection and propagates unchanged", [[
    local s, c = connected()
    local ok, err = pcall(function()
      local conn <close> = c
      error({ code = 42 })
    end)
    assert.is_false(ok)
    assert.same({ code = 42 }, err)
    assert.matches("%(closed%)$", tostring(c))
    s:close()
  ]] },

  { "a connection closed inside its block is closed again harmlessly", [[
    local s, c = connected()
    do
      local conn <close> = c
      assert.equal(1, conn:close())
    end
    assert.equal(1, c:close())
    assert.same({ nil, "closed", "" }, { s:receive() })
    s:close()
  ]] },

  { "a connection mid-handshake: the peer reads the ClientHello, then the end", [[
    local stcp, ctcp = pair.tcp()
    do
      local conn <close> = assert(ssl.wrap(ctcp, CLIENT))
      conn:settimeout(0)
      assert.same({ false, "wantread" }, { conn:dohandshake() })
    end
    stcp:settimeout(2)
    local data, err = stcp:receive("*a")
    assert.is_nil(err)
    assert.equal(22, data:byte(1))        -- a handshake record
    stcp:close()
  ]] },

  { "coroutine.close() closes a connection whose handshake was suspended", [[
    local stcp, ctcp = pair.tcp()
    local seen
    local co = coroutine.create(function()
      local conn <close> = assert(ssl.wrap(ctcp, CLIENT))
      seen = conn
      conn:settimeout(0)
      while true do
        local ok, err = conn:dohandshake()
        if ok then return end
        coroutine.yield(err)
      end
    end)
    assert.same({ true, "wantread" }, { coroutine.resume(co) })
    assert.is_true(coroutine.close(co))
    assert.matches("%(closed%)$", tostring(seen))
    stcp:settimeout(2)
    local data, err = stcp:receive("*a")
    assert.is_nil(err)
    assert.equal(22, data:byte(1))
    stcp:close()
  ]] },

  { "a failing wrap in `local conn <close>, err =` gives nil and the message", [[
    local stcp, ctcp = pair.tcp()
    do
      local conn <close>, err = ssl.wrap(ctcp, { mode = "x" })
      assert.is_nil(conn)
      assert.equal("invalid mode (x)", err)
    end
    assert.is_true(ctcp:getfd() >= 0)     -- the socket was not taken
    stcp:close(); ctcp:close()
  ]] },

  { "a context closed at the end of its block: its connections work on", [[
    local function open()
      local ctx <close> = assert(ssl.newcontext(VERIFYING))
      local stcp, ctcp = pair.tcp()
      return ctx, assert(ssl.wrap(stcp, SERVER)), assert(ssl.wrap(ctcp, ctx))
    end
    local ctx, s, c = open()
    assert.matches("%(closed%)$", tostring(ctx))
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.is_true(c:getpeerverification())
    s:settimeout(5)
    assert.equal(3, c:send("hi\n"))
    assert.equal("hi", s:receive())
    s:close(); c:close()
    local a, b = pair.tcp()
    assert.same({ nil, "closed" }, { ssl.wrap(b, ctx) })
    a:close(); b:close()
  ]] },

  { "a context closed at the end of its block: its verifycallback fails, never skipped", [[
    local function open()
      local ctx <close> = assert(ssl.newcontext { mode = "client", protocol = "any",
        verify = "peer", cafile = C "root-ca.pem", verifycallback = function() return false end })
      return pair.wrap(SERVER, ctx)
    end
    local s, c = open()
    local sres, cres = pair.handshake(s, c)
    assert.same({ ok = false, err = CLOSED_CALLBACK }, cres)
    assert.is_false(sres.ok)
    s:close(); c:close()
  ]] },

  { "contexts and connections in one block close in reverse order, whichever came first", [[
    local stcp, ctcp = pair.tcp()
    local server, client = assert(ssl.wrap(stcp, SERVER))
    do   -- the context first: the connection closes before it
      local ctx <close> = assert(ssl.newcontext(CLIENT))
      local conn <close> = assert(ssl.wrap(ctcp, ctx))
      client = conn
      local sres, cres = pair.handshake(server, conn)
      assert.is_true(sres.ok and cres.ok)
    end
    assert.matches("%(closed%)$", tostring(client))
    server:close()
    stcp, ctcp = pair.tcp()
    client = assert(ssl.wrap(ctcp, CLIENT))
    assert.is_true(client:sni("a.test"))
    do   -- an SNI context made after the connection closes before it
      local conn <close> = assert(ssl.wrap(stcp, SERVER))
      local mapped <close> = assert(ssl.newcontext { mode = "server", protocol = "any",
        key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" })
      assert.is_true(conn:sni({ ["a.test"] = mapped }))
      local sres, cres = pair.handshake(conn, client)
      assert.is_true(sres.ok and cres.ok)
      assert.equal("a.test", conn:getsniname())
      server = conn
    end
    assert.matches("%(closed%)$", tostring(server))
    client:settimeout(5)
    assert.same({ nil, "closed", "" }, { client:receive() })
    client:close()
  ]] },

  { "a certificate closes at the end of its block; the connection hands out a fresh one", [[
    local s, c = connected()
    local kept, digest
    do
      local cert <close> = c:getpeercertificate()
      kept, digest = cert, cert:digest("sha256")
      local chain <close> = c:getpeerchain()[2]
    end
    assert.same({ nil, "closed" }, { kept:digest("sha256") })
    assert.equal(digest, c:getpeercertificate():digest("sha256"))
    assert.equal(2, #c:getpeerchain())
    s:close(); c:close()
  ]] },

  { "a certificate given as cafile closes at the end of its block; the context keeps its own", [[
    local ctx
    do
      local anchor <close> = assert(ssl.loadcertificate(read "root-ca.pem"))
      ctx = assert(ssl.newcontext { mode = "client", protocol = "any", verify = "peer", cafile = anchor })
    end
    local s, c, sres, cres = pair.connect(SERVER, ctx)
    assert.is_true(sres.ok and cres.ok)
    assert.is_true(c:getpeerverification())
    s:close(); c:close()
  ]] },

  { "a session closes at the end of its block: refused afterwards, a new one works", [[
    local s, c = connected()
    local kept
    do
      local session <close> = assert(c:getsession())
      kept = session
    end
    assert.same({ nil, "closed" }, { kept:export() })
    local s2, c2 = pair.wrap(SERVER, CLIENT)
    local ok, err = c2:setsession(kept)
    assert.is_nil(ok)
    assert.matches("^invalid session %(", err)
    assert.is_true(c2:setsession(assert(c:getsession())))
    assert.is_true(pair.handshake(s2, c2).ok)
    assert.is_true(c2:sessionreused())
    s:close(); c:close(); s2:close(); c2:close()
  ]] },

  { "a generic for's closing value closes the connection on break", [[
    local s, c = connected()
    local function lines(conn)
      return function() return (conn:receive("*l")) end, nil, nil, conn
    end
    assert.equal(14, s:send("one\ntwo\nthree\n"))
    local got = {}
    for line in lines(c) do
      got[#got + 1] = line
      if line == "two" then break end
    end
    assert.same({ "one", "two" }, got)
    assert.matches("%(closed%)$", tostring(c))
    assert.same({ nil, "closed", "" }, { s:receive() })
    s:close()
  ]] },
}

describe("<close> variables", function()
  local env = _VERSION == "Lua 5.4" and setmetatable({
    ssl = ssl, pair = pair, C = C, read = read, SERVER = SERVER, CLIENT = CLIENT,
    VERIFYING = VERIFYING, CLOSED_CALLBACK = CLOSED_CALLBACK, connected = connected,
  }, { __index = _ENV })

  for _, case in ipairs(CASES) do
    local name, source = case[1], case[2]
    if env then
      it(name, function()
        local chunk = assert(load(source, "=" .. name, "t", env))
        chunk()
      end)
    else
      pending(name .. " (needs Lua 5.4, this is " .. _VERSION .. ")")
    end
  end
end)
