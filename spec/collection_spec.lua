-- Collection orders. One client connection hands out eight more objects
-- (its context, the LuaSocket object it took the descriptor from, three
-- kinds of certificate, a certificate object used as its trust anchor, a
-- session and an error object). Each of the nine is dropped and collected
-- alone, and for every ordered pair the first, then the second; after
-- each drop the collector is shown to have taken exactly what nothing
-- keeps alive any more, and at the end every survivor is used and
-- checked. Then connections collected without close(): mid-handshake,
-- after a failure, connected, after their coroutine died, from inside
-- another connection's callback; and cycles through callbacks.
-- spec/lifetime_spec.lua has each connection method in each state; this
-- file is about the order in which finalizers run. It is meant for
-- ci/sanitize and ci/valgrind too, where a use after free shows even when
-- the results look right.
local socket = require "socket"
local ssl    = require "ssl"
local certs  = require "spec.helpers.certs"
local pair   = require "spec.helpers.pair"
local oracle = require "spec.helpers.x509oracle"

certs.ensure()
local C, read = certs.path, certs.read

-- ECDSA keeps the ~150 handshakes of this file cheap.
local SERVER_PARAMS = { mode = "server", protocol = "any",
                        key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem" }
local SERVER  = assert(ssl.newcontext(SERVER_PARAMS))
local RESUMER = assert(ssl.newcontext { mode = "client", protocol = "any" })

local function sha256_of(pem) return assert(ssl.loadcertificate(pem)):digest("sha256") end
local DIGEST = {
  peer    = sha256_of(read "server-ecdsa.pem"),
  chain   = sha256_of(read "int-ca.pem"),
  ["local"] = sha256_of(read "client-ecdsa.pem"),
  root    = sha256_of(read "root-ca.pem"),
}

local function collect()
  collectgarbage("collect")
  collectgarbage("collect")
end

-- What descriptor `fd` of this process is ("socket:[inode]"), or nil:
-- unrelated descriptors opening meanwhile cannot fool the comparison.
local PID = assert(io.open("/proc/self/stat")):read("*n")
local function describe_fd(fd)
  local p = assert(io.popen(("readlink /proc/%d/fd/%d 2>/dev/null"):format(PID, fd)))
  local target = p:read("*l")
  p:close()
  return target
end

-- The sockets under connections: { [fd] = "socket:[inode]" }.
local function sockets_of(...)
  local t = {}
  for _, conn in ipairs { ... } do
    local fd = conn:getfd()
    t[fd] = assert(describe_fd(fd))
  end
  return t
end

local function assert_released(sockets)
  for fd, target in pairs(sockets) do
    assert.is_true(describe_fd(fd) ~= target, "descriptor " .. fd .. " still open")
  end
end

-- Drives both handshakes in turns. Unlike pair.handshake it compares
-- tostring(err), so connections with errorobjects = true work too.
local function handshake(server, client)
  local result, conns = {}, { client, server }
  server:settimeout(0)
  client:settimeout(0)
  local deadline = socket.gettime() + 10
  while result[1] == nil or result[2] == nil do
    for i, conn in ipairs(conns) do
      if result[i] == nil then
        local ok, err = conn:dohandshake()
        local text = tostring(err)
        if ok then result[i] = true
        elseif text ~= "wantread" and text ~= "wantwrite" then result[i] = text end
      end
    end
    assert(socket.gettime() < deadline, "handshake did not finish")
    socket.select(conns, nil, 0.01)
  end
  server:settimeout(nil)
  client:settimeout(nil)
  return result[1], result[2]   -- client, server: true or the message
end

local function connect(server_ctx, client_ctx)
  local stcp, ctcp = pair.tcp()
  local server = assert(ssl.wrap(stcp, server_ctx))
  local client = assert(ssl.wrap(ctcp, client_ctx))
  local cres, sres = handshake(server, client)
  return server, client, cres, sres
end

------------------------------------------------------------------------------
-- The world of one connection
------------------------------------------------------------------------------

local NAMES = {
  "context", "connection", "socket", "peer certificate", "chain certificate",
  "local certificate", "trust anchor", "session", "error object",
}

-- A connected client, verified against a root given as an x509 object,
-- with its own certificate, a session (read after the TLS 1.3 tickets)
-- and the error object of a receive that timed out.
local function new_world()
  local anchor = assert(ssl.loadcertificate(read "root-ca.pem"))
  local ctx = assert(ssl.newcontext { mode = "client", protocol = "any",
    verify = "peer", cafile = anchor, errorobjects = true,
    key = C "client-ecdsa.key", certificate = C "client-ecdsa-chain.pem" })
  local stcp, ctcp = pair.tcp()
  local server = assert(ssl.wrap(stcp, SERVER))
  local conn = assert(ssl.wrap(ctcp, ctx))
  local cres, sres = handshake(server, conn)
  assert(cres == true and sres == true, "world handshake: " .. tostring(cres) .. " / " .. tostring(sres))
  assert(server:send("hello\n") == 6 and conn:receive() == "hello")
  conn:settimeout(0)
  local _, timeout_error = conn:receive(1)
  -- A bug must fail a check, never hang it.
  conn:settimeout(5)
  server:settimeout(5)
  local objects = {
    context = ctx, connection = conn, socket = ctcp,
    ["peer certificate"] = conn:getpeercertificate(),
    ["chain certificate"] = conn:getpeerchain()[2],
    ["local certificate"] = conn:getlocalcertificate(),
    ["trust anchor"] = anchor,
    session = assert(conn:getsession()),
    ["error object"] = timeout_error,
  }
  local alive = setmetatable({}, { __mode = "v" })
  for name, object in pairs(objects) do alive[name] = object end
  return { objects = objects, alive = alive, server = server }
end

-- What each object must still do, whatever was collected before it.
local check = {}

check["context"] = function(ctx)
  local s, c, cres, sres = connect(SERVER, ctx)
  assert.same({ true, true }, { cres, sres })
  assert.is_true(c:getpeerverification())
  assert.equal(DIGEST.peer, c:getpeercertificate():digest("sha256"))
  s:close(); c:close()
end

check["connection"] = function(conn, world)
  assert.equal(5, conn:send("ping\n"))
  assert.equal("ping", world.server:receive())
  assert.equal(5, world.server:send("pong\n"))
  assert.equal("pong", conn:receive())
  assert.equal(DIGEST.peer, conn:getpeercertificate():digest("sha256"))
  assert.equal(DIGEST["local"], conn:getlocalcertificate():digest("sha256"))
end

check["socket"] = function(tcp)
  assert.equal(-1, tcp:getfd())
  assert.same({ nil, "closed", 0 }, { tcp:send("x") })
end

local function certificate_check(digest)
  return function(cert)
    assert.equal(digest, cert:digest("sha256"))
    assert.is_true(assert(ssl.loadcertificate(cert:pem())) == cert)
    assert.is_string(cert:notafter())
  end
end
check["peer certificate"]  = certificate_check(DIGEST.peer)
check["chain certificate"] = certificate_check(DIGEST.chain)
check["local certificate"] = certificate_check(DIGEST["local"])
check["trust anchor"]      = certificate_check(DIGEST.root)

check["session"] = function(session)
  assert.is_true(#assert(session:export()) > 0)
  local stcp, ctcp = pair.tcp()
  local s, c = assert(ssl.wrap(stcp, SERVER)), assert(ssl.wrap(ctcp, RESUMER))
  assert.is_true(c:setsession(session))
  assert.same({ true, true }, { handshake(s, c) })
  assert.is_true(c:sessionreused())
  s:close(); c:close()
end

check["error object"] = function(err)
  assert.equal("wantread", tostring(err))
  assert.same({ "timeout", "read", "wantread" }, { err.kind, err.want, err.message })
end

-- A dropped object is gone after two collections unless something else
-- keeps it: a connection keeps its context (as its user value).
local function kept_by(name, dropped)
  return name == "context" and not dropped.connection
end

-- The collector took exactly what nothing keeps alive any more.
local function expect_collected(world, dropped)
  for _, name in ipairs(NAMES) do
    local gone = dropped[name] == true and not kept_by(name, dropped)
    assert.equal(gone, world.alive[name] == nil,
                 name .. (gone and " should have been collected" or " was collected"))
  end
end

-- ... and every survivor still does its job.
local function expect_usable(world, dropped)
  for _, name in ipairs(NAMES) do
    if not dropped[name] then check[name](world.objects[name], world) end
  end
end

-- Only world.objects refers to the objects: no local of the caller does,
-- so the collector can take what is dropped.
local function drop(world, name, dropped)
  world.objects[name] = nil
  dropped[name] = true
  collect()
  expect_collected(world, dropped)
end

local function drop_the_rest(world)
  world.objects = {}
  collect()
  assert.is_nil(next(world.alive))
end

-- Every ordered pair: the first dropped, then the second, the survivors
-- used after both. (What survives the first alone is the same for every
-- second; the tests of single drops check it once.)
describe("collection orders", function()
  for _, first in ipairs(NAMES) do
    it(first .. " collected: the rest still work", function()
      local world = new_world()
      finally(function() world.server:close() end)
      local dropped = {}
      drop(world, first, dropped)
      expect_usable(world, dropped)
      drop_the_rest(world)
    end)

    for _, second in ipairs(NAMES) do
      if first ~= second then
        it(first .. " collected, then " .. second .. ": the rest still work", function()
          local world = new_world()
          finally(function() world.server:close() end)
          local dropped = {}
          drop(world, first, dropped)
          drop(world, second, dropped)
          expect_usable(world, dropped)
          drop_the_rest(world)
        end)
      end
    end
  end

  it("everything collected in one cycle", function()
    local world = new_world()
    finally(function() world.server:close() end)
    world.objects = {}
    collect()
    assert.is_nil(next(world.alive))
    world.server:settimeout(2)
    -- The client's finalizer sent close_notify before closing.
    assert.same({ nil, "closed", "" }, { world.server:receive() })
    assert.equal("close notify", world.server:getalert().received.description)
  end)
end)

------------------------------------------------------------------------------
-- Connections collected without close()
------------------------------------------------------------------------------

local CLIENT = { mode = "client", protocol = "any" }

local function merge_params(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end
local VERIFYING = { mode = "client", protocol = "any", verify = "peer", cafile = C "rogue-ca.pem" }

-- Runs build() in its own frame, so that no local here keeps what it
-- made; returns a weak table of everything it returned.
local function weakly(build)
  local t = setmetatable({}, { __mode = "v" })
  local results = { build() }
  for i, v in ipairs(results) do t[i] = v end
  return t
end

describe("connections collected without close()", function()
  it("mid-handshake, both ends: descriptors released", function()
    local sockets
    local weak = weakly(function()
      local stcp, ctcp = pair.tcp()
      local s, c = assert(ssl.wrap(stcp, SERVER)), assert(ssl.wrap(ctcp, CLIENT))
      s:settimeout(0); c:settimeout(0)
      assert.same({ false, "wantread" }, { c:dohandshake() })   -- ClientHello out
      socket.select({ s }, nil, 2)
      assert.same({ false, "wantread" }, { s:dohandshake() })   -- server flight out
      sockets = sockets_of(s, c)
      return s, c
    end)
    collect()
    assert.is_nil(next(weak))
    assert_released(sockets)
  end)

  it("mid-handshake, the client only: the server's handshake fails", function()
    local server
    local weak = weakly(function()
      local stcp, ctcp = pair.tcp()
      local c = assert(ssl.wrap(ctcp, CLIENT))
      server = assert(ssl.wrap(stcp, SERVER))
      server:settimeout(0); c:settimeout(0)
      assert.same({ false, "wantread" }, { c:dohandshake() })
      socket.select({ server }, nil, 2)
      assert.same({ false, "wantread" }, { server:dohandshake() })
      socket.select({ c }, nil, 2)     -- the server's flight has arrived, unread
      return c
    end)
    finally(function() server:close() end)
    collect()
    assert.is_nil(next(weak))
    server:settimeout(2)
    -- The client closed with the server's flight unread: a reset.
    assert.same({ false, "closed" }, { server:dohandshake() })
    assert.same({ false, "closed" }, { server:dohandshake() })
  end)

  it("after a failed handshake, both ends: descriptors released", function()
    local sockets
    local weak = weakly(function()
      local stcp, ctcp = pair.tcp()
      local s, c = assert(ssl.wrap(stcp, SERVER)), assert(ssl.wrap(ctcp, VERIFYING))
      sockets = sockets_of(s, c)
      local sres, cres = pair.handshake(s, c)
      assert.same({ false, false }, { sres.ok, cres.ok })
      return s, c
    end)
    collect()
    assert.is_nil(next(weak))
    assert_released(sockets)
  end)

  it("connected: the peer receives a close_notify", function()
    local server
    local weak = weakly(function()
      local s, c, sres, cres = pair.connect(SERVER, CLIENT)
      assert.is_true(sres.ok and cres.ok)
      server = s
      return c
    end)
    finally(function() server:close() end)
    collect()
    assert.is_nil(next(weak))
    server:settimeout(2)
    assert.same({ nil, "closed", "" }, { server:receive() })
    assert.equal("close notify", server:getalert().received.description)
  end)

  it("after the coroutine that drove its handshake was collected", function()
    -- The connection remembers the Lua state of its last call; SNI map
    -- and lsec_continue's error table were made on the coroutine's.
    local server, client
    local weak_thread = weakly(function()
      local co = coroutine.create(function()
        local stcp, ctcp = pair.tcp()
        server = assert(ssl.wrap(stcp, SERVER))
        client = assert(ssl.wrap(ctcp, { mode = "client", protocol = "any", verify = "peer",
                                          cafile = C "rogue-ca.pem", verifyext = "lsec_continue" }))
        assert.is_true(server:sni({ ["other.test"] = assert(ssl.newcontext(SERVER_PARAMS)) }))
        local sres, cres = pair.handshake(server, client)
        assert.is_true(sres.ok and cres.ok)
      end)
      assert(coroutine.resume(co))
      return co
    end)
    collect()
    assert.is_nil(next(weak_thread))
    server:settimeout(5)
    local ok, errors = client:getpeerverification()
    assert.is_false(ok)
    assert.is_table(errors[2])
    assert.equal(3, client:send("hi\n"))
    assert.equal("hi", server:receive())
    local weak = setmetatable({ server, client }, { __mode = "v" })
    server, client = nil, nil
    collect()
    assert.is_nil(next(weak))
  end)

  it("from inside another connection's callback", function()
    -- Garbage connections with callbacks of their own (verifycallback,
    -- ALPN function, SNI map), mid-handshake; the collector runs inside a
    -- verifycallback of a live connection.
    local weak = weakly(function()
      local list = {}
      for _ = 1, 4 do
        local stcp, ctcp = pair.tcp()
        local s = assert(ssl.wrap(stcp, { mode = "server", protocol = "any",
          key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem",
          alpn = function() return "x" end }))
        local c = assert(ssl.wrap(ctcp, { mode = "client", protocol = "any", alpn = "x",
          verifycallback = function(ok) return ok end }))
        assert.is_true(s:sni({ ["a.test"] = assert(ssl.newcontext(SERVER_PARAMS)) }))
        c:settimeout(0)
        assert.same({ false, "wantread" }, { c:dohandshake() })
        list[#list + 1] = s
        list[#list + 1] = c
      end
      return table.unpack(list)
    end)
    local ran = 0
    local s, c, sres, cres = pair.connect(SERVER, { mode = "client", protocol = "any",
      verifycallback = function(ok) collect(); ran = ran + 1; return ok end })
    finally(function() s:close(); c:close() end)
    assert.is_true(sres.ok and cres.ok)
    assert.is_true(ran > 0)
    assert.is_nil(next(weak))
    s:settimeout(5)
    assert.equal(3, c:send("ok\n"))
    assert.equal("ok", s:receive())
  end)

  it("SNI map contexts made after their connection, all collected at once", function()
    -- Finalizers run newest first: the map's contexts before the
    -- connection that switched to one of them.
    local weak = weakly(function()
      local stcp, ctcp = pair.tcp()
      local s = assert(ssl.wrap(stcp, SERVER))
      local c = assert(ssl.wrap(ctcp, CLIENT))
      local mapped = assert(ssl.newcontext { mode = "server", protocol = "any",
        key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" })
      assert.is_true(s:sni({ ["a.test"] = mapped }))
      assert.is_true(c:sni("a.test"))
      local sres, cres = pair.handshake(s, c)
      assert.is_true(sres.ok and cres.ok)
      assert.equal("a.test", s:getsniname())
      return s, c, mapped
    end)
    collect()
    assert.is_nil(next(weak))
  end)
end)

------------------------------------------------------------------------------
-- Cycles through callbacks: a callback that refers back to the object
-- holding it (a closure over `self`, typically) must not pin it forever
------------------------------------------------------------------------------

-- Parameters whose callback refers to `holder`, which will hold the
-- context made from them.
local SELF_REFERRING = {
  { "verifycallback", function(holder)
      return { mode = "client", protocol = "any",
               verifycallback = function(ok) return holder.ctx ~= nil and ok end } end },
  { "ALPN function", function(holder)
      return { mode = "server", protocol = "any", alpn = function() return holder.ctx and "x" end } end },
  { "psk function", function(holder)
      return { mode = "client", protocol = "any", psk = function() return holder.ctx and "id", "key" end } end },
  { "keylog function", function(holder)
      return { mode = "client", protocol = "any", keylog = function() return holder.ctx end } end },
  { "OCSP function", function(holder)
      return { mode = "server", protocol = "any", ocsp = function() return holder.ctx and "" end } end },
}

describe("cycles through callbacks are collected", function()
  for _, case in ipairs(SELF_REFERRING) do
    it("a context whose " .. case[1] .. " refers back to it", function()
      local weak = weakly(function()
        local holder = {}
        holder.ctx = assert(ssl.newcontext(case[2](holder)))
        return holder.ctx, holder
      end)
      collect()
      assert.is_nil(next(weak))
    end)
  end

  it("a context and its connections, the callback having run in their handshake", function()
    local weak = weakly(function()
      local holder = {}
      holder.ctx = assert(ssl.newcontext(merge_params(SERVER_PARAMS,
        { alpn = function() return holder.ctx and "x" end })))
      local s, c, sres, cres = pair.connect(holder.ctx, { mode = "client", protocol = "any", alpn = "x" })
      assert.is_true(sres.ok and cres.ok)
      assert.equal("x", s:getalpn())
      holder.conns = { s, c }
      return holder.ctx, s, c
    end)
    collect()
    assert.is_nil(next(weak))
  end)

  it("a server connection whose SNI map's context has a callback referring to it", function()
    local weak = weakly(function()
      local holder = {}
      local mapped = assert(ssl.newcontext(merge_params(SERVER_PARAMS,
        { alpn = function() return holder.server and "x" end })))
      local stcp, ctcp = pair.tcp()
      holder.server = assert(ssl.wrap(stcp, SERVER))
      local c = assert(ssl.wrap(ctcp, { mode = "client", protocol = "any", alpn = "x" }))
      assert.is_true(holder.server:sni({ ["a.test"] = mapped }))
      assert.is_true(c:sni("a.test"))
      local sres, cres = pair.handshake(holder.server, c)
      assert.is_true(sres.ok and cres.ok)
      assert.equal("x", c:getalpn())
      return holder.server, mapped, c
    end)
    collect()
    assert.is_nil(next(weak))
  end)
end)

------------------------------------------------------------------------------
-- Objects handed to callbacks and errors, after their connection
------------------------------------------------------------------------------

describe("objects outliving their connection", function()
  it("certificates kept by a verifycallback work after connection and context are collected", function()
    local kept = {}
    local weak = weakly(function()
      local ctx = assert(ssl.newcontext { mode = "client", protocol = "any", verify = "peer",
        cafile = C "root-ca.pem",
        verifycallback = function(ok, cert, depth) kept[depth] = cert; return ok end })
      local s, c, sres, cres = pair.connect(SERVER, ctx)
      assert.is_true(sres.ok and cres.ok)
      return s, c, ctx
    end)
    collect()
    assert.is_nil(next(weak))
    assert.equal(DIGEST.peer, kept[0]:digest("sha256"))
    assert.equal(DIGEST.chain, kept[1]:digest("sha256"))
    assert.equal(DIGEST.root, kept[2]:digest("sha256"))
    assert.is_true(kept[2]:issued(kept[1]))
  end)

  it("the error object of a failed handshake keeps its fields after the connection is collected", function()
    -- the server's chain (leaf, intermediate) against the rogue CA
    local message = oracle.handshake_message { leaf = C "server-ecdsa.pem",
      untrusted = C "int-ca.pem", cafile = C "rogue-ca.pem" }
    local err
    local weak = weakly(function()
      local ctx = assert(ssl.newcontext { mode = "client", protocol = "any", verify = "peer",
        cafile = C "rogue-ca.pem", errorobjects = true })
      local s, c, cres = connect(SERVER, ctx)
      assert.equal(message, cres)
      local ok
      ok, err = c:dohandshake()
      assert.is_false(ok)
      return s, c, ctx
    end)
    collect()
    assert.is_nil(next(weak))
    assert.equal(message, tostring(err))
    assert.same({ "verify", 20, 1 }, { err.kind, err.verify_code, err.depth })
  end)

  it("certificates and a session after close() and the context's own __gc", function()
    local ctx = assert(ssl.newcontext { mode = "client", protocol = "any" })
    local s, c, sres, cres = pair.connect(SERVER, ctx)
    assert.is_true(sres.ok and cres.ok)
    c:settimeout(5)
    assert.equal(6, s:send("hello\n"))
    assert.equal("hello", c:receive())
    local peer, chain, session = c:getpeercertificate(), c:getpeerchain(), assert(c:getsession())
    s:close(); c:close()
    getmetatable(ctx).__gc(ctx)
    assert.matches("%(closed%)$", tostring(ctx))
    collect()
    assert.equal(DIGEST.peer, peer:digest("sha256"))
    assert.equal(DIGEST.chain, chain[2]:digest("sha256"))
    assert.is_true(#assert(session:export()) > 0)
  end)
end)
