-- Session resumption: conn:getsession/setsession/sessionreused,
-- session:export() and ssl.importsession(), the server's opt-in
-- `sessioncache`, and `no_ticket`; in our own pair and against openssl
-- s_client -sess_out/-sess_in and openssl s_server.
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local pair    = require "spec.helpers.pair"

local function server(overrides) return certs.server_params(overrides) end
local function client(overrides) return certs.client_params(overrides) end

-- One connection over the two contexts; the client reads a line first, so
-- TLS 1.3 tickets (sent after the handshake) have arrived.
local function connect(sctx, cctx, session)
  local s, c = pair.wrap(sctx, cctx)
  if session then assert.is_true(c:setsession(session)) end
  local sres, cres = pair.handshake(s, c)
  assert.is_true(sres.ok, sres.err)
  assert.is_true(cres.ok, cres.err)
  assert.equal(3, s:send("hi\n"))
  assert.equal("hi", c:receive())
  return s, c
end

describe("session resumption", function()
  for _, proto in ipairs { "tlsv1_2", "tlsv1_3" } do
    for _, cache in ipairs { true, false } do
      it(proto .. ": the second connection resumes (cache " .. tostring(cache) .. ")", function()
        local sctx = assert(ssl.newcontext(server { protocol = proto, sessioncache = cache }))
        local cctx = assert(ssl.newcontext(client { protocol = proto }))
        local s1, c1 = connect(sctx, cctx)
        finally(function() s1:close(); c1:close() end)
        assert.is_false(s1:sessionreused())
        assert.is_false(c1:sessionreused())
        local sess = assert(c1:getsession())
        assert.matches("^SSL session: ", tostring(sess))
        local s2, c2 = connect(sctx, cctx, sess)
        assert.is_true(s2:sessionreused())
        assert.is_true(c2:sessionreused())
        assert.equal(proto == "tlsv1_2" and "TLSv1.2" or "TLSv1.3", pair.version(c2))
        s2:close(); c2:close()
      end)
    end

    it(proto .. ": an exported and imported session resumes", function()
      local sctx = assert(ssl.newcontext(server { protocol = proto }))
      local cctx = assert(ssl.newcontext(client { protocol = proto }))
      local s1, c1 = connect(sctx, cctx)
      local der = assert(assert(c1:getsession()):export())
      s1:close(); c1:close()
      assert.is_string(der)
      assert.equal(0x30, der:byte(1))        -- a DER SEQUENCE
      local sess = assert(ssl.importsession(der))
      assert.equal(der, sess:export())
      local s2, c2 = connect(sctx, cctx, sess)
      assert.is_true(s2:sessionreused() and c2:sessionreused())
      s2:close(); c2:close()
    end)
  end

  it("TLS 1.3: the session is there only after the first read", function()
    local s, c, sres, cres = pair.connect(server { protocol = "tlsv1_3" }, client { protocol = "tlsv1_3" })
    finally(function() s:close(); c:close() end)
    assert.is_true(sres.ok and cres.ok)
    assert.same({ nil, "no resumable session" }, { c:getsession() })
    assert.equal(3, s:send("hi\n"))
    assert.equal("hi", c:receive())
    assert.matches("^SSL session: ", tostring(c:getsession()))
  end)

  it("TLS 1.2 no_ticket without cache: nothing to resume", function()
    local sctx = assert(ssl.newcontext(server { protocol = "tlsv1_2", options = { "all", "no_ticket" } }))
    local cctx = assert(ssl.newcontext(client { protocol = "tlsv1_2" }))
    local s1, c1 = connect(sctx, cctx)
    assert.same({ nil, "no resumable session" }, { c1:getsession() })
    s1:close(); c1:close()
    -- A session from a server that does resume is not resumed here either.
    local other = assert(ssl.newcontext(server { protocol = "tlsv1_2", sessioncache = true }))
    local s2, c2 = connect(other, cctx)
    local sess = assert(c2:getsession())
    s2:close(); c2:close()
    local s3, c3 = connect(sctx, cctx, sess)
    assert.is_false(s3:sessionreused())
    assert.is_false(c3:sessionreused())
    s3:close(); c3:close()
  end)

  it("TLS 1.2 no_ticket with the cache: resumed by session id", function()
    local sctx = assert(ssl.newcontext(server {
      protocol = "tlsv1_2", options = { "all", "no_ticket" },
      sessioncache = { size = 100, timeout = 60 } }))
    local cctx = assert(ssl.newcontext(client { protocol = "tlsv1_2" }))
    local s1, c1 = connect(sctx, cctx)
    local sess = assert(c1:getsession())
    s1:close(); c1:close()
    local s2, c2 = connect(sctx, cctx, sess)
    assert.is_true(s2:sessionreused() and c2:sessionreused())
    s2:close(); c2:close()
  end)

  it("a server verifying clients resumes with the cache on (id context set)", function()
    local sctx = assert(ssl.newcontext(server { protocol = "tlsv1_2", verify = "peer",
                                                sessioncache = true, options = { "all", "no_ticket" } }))
    local cctx = assert(ssl.newcontext(client { protocol = "tlsv1_2" }))
    local s1, c1 = connect(sctx, cctx)
    local sess = assert(c1:getsession())
    s1:close(); c1:close()
    local s2, c2 = connect(sctx, cctx, sess)
    assert.is_true(s2:sessionreused())
    assert.matches("^X509 certificate: ", tostring(s2:getpeercertificate()))
    s2:close(); c2:close()
  end)
end)

describe("session misuse", function()
  it("setsession refuses junk, servers and a started handshake", function()
    local s, c = pair.wrap(server(), client())
    finally(function() s:close(); c:close() end)
    assert.same({ nil, "invalid session (x)" }, { c:setsession("x") })
    assert.same({ nil, "invalid session (nil)" }, { c:setsession() })
    local sctx = assert(ssl.newcontext(server()))
    local s1, c1 = connect(sctx, assert(ssl.newcontext(client())))
    local sess = assert(c1:getsession())
    assert.same({ nil, "invalid session (server connection)" }, { s:setsession(sess) })
    assert.same({ nil, "handshake already started" }, { c1:setsession(sess) })
    s1:close(); c1:close()
    assert.same({ nil, "closed" }, { c1:setsession(sess) })
    assert.same({ nil, "closed" }, { c1:getsession() })
    assert.is_false(c1:sessionreused())
  end)

  it("importsession refuses what is not a session", function()
    assert.same({ nil, "invalid session (string expected, got number)" }, { ssl.importsession(1) })
    local ok, err = ssl.importsession("junk")
    assert.is_nil(ok)
    assert.matches("^invalid session %(.+%)$", err)
    local s, c = connect(assert(ssl.newcontext(server())), assert(ssl.newcontext(client())))
    local der = assert(c:getsession()):export()
    s:close(); c:close()
    assert.same({ nil, "invalid session (trailing data)" }, { ssl.importsession(der .. "x") })
    ok, err = ssl.importsession(der:sub(1, -2))
    assert.is_nil(ok)
    assert.matches("^invalid session %(", err)
  end)

  it("sessioncache values are checked", function()
    local cases = {
      { "yes", "invalid sessioncache parameter (boolean or table expected, got string)" },
      { { size = -1 }, "invalid sessioncache parameter (size: -1)" },
      { { size = 1.5 }, "invalid sessioncache parameter (size: 1.5)" },
      { { timeout = 0 }, "invalid sessioncache parameter (timeout: 0)" },
      { { timeout = "x" }, "invalid sessioncache parameter (timeout: x)" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { ssl.newcontext(server { sessioncache = case[1] }) })
    end
    assert.same({ nil, "invalid sessioncache parameter (server only)" },
                { ssl.newcontext(client { sessioncache = true }) })
    assert.is_userdata(ssl.newcontext(server { sessioncache = false }))
    assert.is_userdata(ssl.newcontext(server { sessioncache = {} }))
  end)
end)

describe("session resumption against openssl", function()
  after_each(helpers.stop_all)

  for _, proto in ipairs { "tlsv1_2", "tlsv1_3" } do
    local flag = proto == "tlsv1_2" and "-tls1_2" or "-tls1_3"

    it(proto .. ": s_client -sess_out then -sess_in, our server", function()
      local defer = helpers.cleanup(finally)
      local dir = os.tmpname()
      defer(function() os.remove(dir) end)
      local sctx = assert(ssl.newcontext(server { protocol = proto, sessioncache = true }))
      local listener = defer(assert(socket.bind("127.0.0.1", 0)))
      local _, port = listener:getsockname()
      listener:settimeout(10)
      local results = {}
      for round = 1, 2 do
        local cl = defer(openssl.s_client { port = tonumber(port), ign_eof = true, stdin = "",
          args = { flag, round == 1 and "-sess_out" or "-sess_in", dir } })
        local conn = defer(assert(ssl.wrap(assert(listener:accept()), sctx)))
        conn:settimeout(10)
        assert.is_true(conn:dohandshake())
        assert.equal(3, conn:send("hi\n"))
        local reused = conn:sessionreused()
        -- s_client reads the line (and any ticket), then sees our close.
        socket.sleep(0.2)
        conn:close()
        assert.is_true(cl:wait(10))
        results[round] = { reused = reused, out = cl:output() }
      end
      assert.is_false(results[1].reused)
      assert.matches("\nNew, TLSv1%.[23]", results[1].out)
      assert.is_true(results[2].reused, results[2].out)
      assert.matches("\nReused, TLSv1%.[23]", results[2].out)
    end)

    it(proto .. ": our client resumes with openssl s_server", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server { naccept = 2, args = { "-rev", flag } })
      local cctx = assert(ssl.newcontext(client { protocol = proto }))
      local sess
      for round = 1, 2 do
        local tcp = socket.tcp()
        tcp:settimeout(10)
        assert(tcp:connect("127.0.0.1", srv.port))
        local conn = defer(assert(ssl.wrap(tcp, cctx)))
        conn:settimeout(10)
        if sess then assert.is_true(conn:setsession(sess)) end
        assert.is_true(conn:dohandshake())
        assert.equal(4, conn:send("abc\n"))
        assert.equal("cba", conn:receive())
        assert.equal(round == 2, conn:sessionreused())
        sess = assert(conn:getsession())
        conn:close()
      end
    end)
  end
end)
