-- SNI: conn:sni (a host name on a client, a map of host names to server
-- contexts on a server, strict or not) and conn:getsniname; with them,
-- getalpn in every connection state.
--
-- What a client was served tells which context answered: server-rsa is the
-- default identity, server-ecdsa the mapped one (the OU of the test PKI
-- names the file a peer presented). Also run against openssl s_server /
-- s_client in each role.
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"

local C = certs.path
local function pack(...) return { n = select("#", ...), ... } end

local function server(overrides) return certs.server_leaf("server-rsa", overrides) end
local function ecdsa_server(overrides) return certs.server_leaf("server-ecdsa", overrides) end
local function client(overrides) return certs.merge({ mode = "client", protocol = "any" }, overrides) end
local function ecdsa_ctx(overrides) return assert(ssl.newcontext(ecdsa_server(overrides))) end
local connect_ok = pair.established

-- Calls a context's __close directly: "closed" on every Lua version.
local function close_context(ctx) getmetatable(ctx).__close(ctx) end

-- The test PKI file a connected client was served: "server-rsa", ...
local function served(conn) return certs.leaf_of(assert(conn:getpeercertificate())) end

describe("SNI", function()
  for _, protocol in ipairs { "tlsv1_2", "tlsv1_3" } do
    describe(protocol, function()
      local function run(name, strict, map)
        map = map or { ["example.com"] = ecdsa_ctx() }
        local s, c = pair.wrap(server({ protocol = protocol }), client({ protocol = protocol }))
        assert.is_true(s:sni(map, strict))
        if name then assert.is_true(c:sni(name)) end
        local sres, cres = pair.handshake(s, c)
        return s, c, sres, cres
      end

      it("a mapped name selects the mapped context's certificate", function()
        local s, c, sres, cres = run("example.com")
        assert.is_true(sres.ok and cres.ok)
        assert.equal("server-ecdsa", served(c))
        assert.equal(protocol == "tlsv1_2" and "ECDSA" or "any", c:info("authentication"))
        assert.equal("example.com", s:getsniname())
        assert.equal("example.com", c:getsniname())
        s:close(); c:close()
      end)

      it("names match case-insensitively, both ways", function()
        local s, c, sres, cres = run("EXAMPLE.Com", false, { ["Example.COM"] = ecdsa_ctx() })
        assert.is_true(sres.ok and cres.ok)
        assert.equal("server-ecdsa", served(c))
        assert.equal("EXAMPLE.Com", s:getsniname())   -- what the client sent, as sent
        s:close(); c:close()
      end)

      it("a trailing root dot names the same host, both ways; the client sends the name without it", function()
        local s, c, sres, cres = run("Example.com.", true, { ["example.COM."] = ecdsa_ctx() })
        assert.is_true(sres.ok, sres.err)
        assert.is_true(cres.ok, cres.err)
        assert.equal("server-ecdsa", served(c))
        assert.equal("Example.com", s:getsniname())
        assert.equal("Example.com", c:getsniname())
        s:close(); c:close()
      end)

      it("an unknown name, not strict, keeps the default context", function()
        local s, c, sres, cres = run("other.test", false)
        assert.is_true(sres.ok and cres.ok)
        assert.equal("server-rsa", served(c))
        assert.equal("other.test", s:getsniname())
        assert.equal("other.test", c:getsniname())
        s:close(); c:close()
      end)

      it("an unknown name, strict, ends the handshake with unrecognized_name", function()
        local s, c, sres, cres = run("other.test", true)
        assert.is_false(sres.ok)
        assert.is_false(cres.ok)
        assert.matches("unrecognized name", cres.err, 1, true)
        assert.matches("callback failed", sres.err, 1, true)
        assert.same({ nil, "closed" }, { c:info() })
        s:close(); c:close()
      end)

      it("a server that refused a name still reports it (failed state)", function()
        local s, c = pair.wrap(server({ protocol = protocol }), client({ protocol = protocol }))
        assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true))
        assert.is_true(c:sni("other.test"))
        s:settimeout(0); c:settimeout(0)
        assert.same({ false, "wantread" }, { c:dohandshake() })   -- ClientHello out
        local ok, err = s:dohandshake()                            -- refused
        assert.is_false(ok)
        assert.matches("callback failed", err, 1, true)
        assert.equal("other.test", s:getsniname())
        assert.is_nil(s:getalpn())
        assert.same({ nil, "closed" }, { s:sni({}) })
        socket.select({ c }, nil, 5)
        ok, err = c:dohandshake()
        assert.is_false(ok)
        assert.matches("unrecognized name", err, 1, true)
        assert.equal("other.test", c:getsniname())
        s:close(); c:close()
      end)

      it("no SNI at all keeps the default context, strict or not", function()
        for _, strict in ipairs { false, true } do
          local s, c, sres, cres = run(nil, strict)
          assert.is_true(sres.ok and cres.ok)
          assert.equal("server-rsa", served(c))
          assert.is_nil(s:getsniname()); assert.is_nil(c:getsniname())
          s:close(); c:close()
        end
      end)

      it("a subdomain or a prefix of a mapped name is not that name", function()
        for _, name in ipairs { "www.example.com", "example.co", "example.com.x" } do
          local s, c, sres, cres = run(name, false)
          assert.is_true(sres.ok and cres.ok)
          assert.equal("server-rsa", served(c), name)
          s:close(); c:close()
        end
      end)
    end)
  end

  it("several names map to several contexts", function()
    local map = { ["ecdsa.test"] = ecdsa_ctx(), ["rsa.test"] = assert(ssl.newcontext(server())),
                  ["ed.test"] = assert(ssl.newcontext(server({ key = C "server-ed25519.key",
                                                   certificate = C "server-ed25519-chain.pem" }))) }
    for name, ou in pairs { ["ecdsa.test"] = "server-ecdsa", ["rsa.test"] = "server-rsa",
                            ["ed.test"] = "server-ed25519" } do
      local s, c = connect_ok(ecdsa_server(), client(), function(s, c)
        assert.is_true(s:sni(map, true)); assert.is_true(c:sni(name))
      end)
      assert.equal(ou, served(c), name)
      s:close(); c:close()
    end
  end)

  it("the map is copied: later changes to the caller's table do not matter", function()
    local map = { ["example.com"] = ecdsa_ctx() }
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni(map, true))
    map["example.com"] = nil
    map["other.test"] = ecdsa_ctx()
    assert.is_true(c:sni("example.com"))
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("server-ecdsa", served(c))
    s:close(); c:close()
  end)

  it("the map keeps its contexts alive when nothing else does", function()
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }))
    assert.is_true(c:sni("example.com"))
    collectgarbage(); collectgarbage()
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("server-ecdsa", served(c))
    s:close(); c:close()
  end)

  it("a second sni() replaces the map and the strict flag", function()
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["a.test"] = ecdsa_ctx() }, true))
    assert.is_true(s:sni({ ["b.test"] = ecdsa_ctx() }, false))
    assert.is_true(c:sni("a.test"))
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)          -- not strict any more
    assert.equal("server-rsa", served(c))        -- a.test no longer mapped
    s:close(); c:close()
  end)

  it("a mapped context closed after sni() counts as unknown", function()
    for _, strict in ipairs { false, true } do
      local mapped = ecdsa_ctx()
      local s, c = pair.wrap(server(), client())
      assert.is_true(s:sni({ ["example.com"] = mapped }, strict))
      assert.is_true(c:sni("example.com"))
      close_context(mapped)
      local sres, cres = pair.handshake(s, c)
      if strict then
        assert.is_false(sres.ok); assert.matches("unrecognized name", cres.err, 1, true)
      else
        assert.is_true(sres.ok and cres.ok); assert.equal("server-rsa", served(c))
      end
      s:close(); c:close()
    end
  end)

  it("other connections of the same context are not affected by one's map", function()
    local sctx = assert(ssl.newcontext(server()))
    local s1, c1 = pair.wrap(sctx, client())
    assert.is_true(s1:sni({ ["example.com"] = ecdsa_ctx() }, true))
    assert.is_true(c1:sni("example.com"))
    local s2, c2 = connect_ok(sctx, client(), function(_, c) assert.is_true(c:sni("other.test")) end)
    assert.equal("server-rsa", served(c2))
    assert.equal("other.test", s2:getsniname())
    local sres, cres = pair.handshake(s1, c1)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("server-ecdsa", served(c1))
    s1:close(); c1:close(); s2:close(); c2:close()
  end)

  it("a server without a map still reports the name the client sent", function()
    local s, c = connect_ok(server(), client(), function(_, c) assert.is_true(c:sni("plain.test")) end)
    assert.equal("plain.test", s:getsniname())
    assert.equal("server-rsa", served(c))
    s:close(); c:close()
  end)

  it("the mapped context's verification applies (client certificate required there)", function()
    local strict_ctx = ecdsa_ctx({ verify = { "peer", "fail_if_no_peer_cert" }, cafile = C "ca.pem" })
    -- without a client certificate: refused by the mapped context
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["secure.test"] = strict_ctx }))
    assert.is_true(c:sni("secure.test"))
    local sres, cres = pair.handshake(s, c)
    assert.is_false(sres.ok)
    assert.matches("certificate", sres.err)
    -- (cres depends on the version: a TLS 1.3 client finishes first and
    -- learns of the refusal only on its first read)
    assert.is_table(cres)
    s:close(); c:close()
    -- with one: accepted
    s, c = connect_ok(server(), client({ key = C "client-rsa.key", certificate = C "client-rsa-chain.pem" }),
      function(srv, cli)
        assert.is_true(srv:sni({ ["secure.test"] = strict_ctx }))
        assert.is_true(cli:sni("secure.test"))
      end)
    assert.equal("server-ecdsa", served(c))
    assert.is_true(s:getpeerverification())
    s:close(); c:close()
  end)

  it("the mapped context's ALPN list decides after the switch", function()
    local mapped = ecdsa_ctx({ alpn = { "mapped", "both" } })
    local s, c = connect_ok(server({ alpn = { "both", "default" } }),
                            client({ alpn = { "default", "both", "mapped" } }),
      function(s, c)
        assert.is_true(s:sni({ ["example.com"] = mapped }))
        assert.is_true(c:sni("example.com"))
      end)
    assert.equal("mapped", s:getalpn()); assert.equal("mapped", c:getalpn())
    assert.equal("server-ecdsa", served(c))
    s:close(); c:close()
  end)

  it("the mapped context's ciphers decide after the switch (TLS 1.2)", function()
    local mapped = ecdsa_ctx({ ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256" })
    local s, c = connect_ok(server({ ciphers = "ECDHE-RSA-AES256-GCM-SHA384" }),
                            client({ protocol = "tlsv1_2" }),
      function(s, c)
        assert.is_true(s:sni({ ["example.com"] = mapped }))
        assert.is_true(c:sni("example.com"))
      end)
    assert.equal("ECDHE-ECDSA-AES128-GCM-SHA256", c:info("cipher"))
    s:close(); c:close()
  end)
end)

describe("SNI argument errors", function()
  local function fresh_pair()
    local s, c = pair.wrap(server(), client())
    return s, c
  end

  it("client: a name must be a non-empty string of at most 255 bytes without zero bytes", function()
    local s, c = fresh_pair()
    assert.same({ nil, "invalid SNI name" }, { c:sni() })
    assert.same({ nil, "invalid SNI name" }, { c:sni(42) })
    assert.same({ nil, "invalid SNI name" }, { c:sni({ ["a"] = 1 }) })
    assert.same({ nil, "invalid SNI name (empty string)" }, { c:sni("") })
    assert.same({ nil, "invalid SNI name (length > 255)" }, { c:sni(("a"):rep(256)) })
    assert.same({ nil, "invalid SNI name (contains a zero byte)" }, { c:sni("a\0b") })
    assert.same({ nil, "invalid SNI name (empty string)" }, { c:sni(".") })   -- the root alone
    assert.is_true(c:sni(("a"):rep(255)))
    assert.equal(("a"):rep(255), c:getsniname())
    assert.is_true(c:sni(("a"):rep(255) .. "."))   -- 255 bytes once the root dot is dropped
    assert.equal(("a"):rep(255), c:getsniname())
    assert.is_true(c:sni("last.test"))   -- a later call replaces the name
    assert.equal("last.test", c:getsniname())
    s:close(); c:close()
  end)

  it("server: a map of host names to live server contexts", function()
    local s, c = fresh_pair()
    local good = ecdsa_ctx()
    local closed = ecdsa_ctx(); close_context(closed)
    local cctx = assert(ssl.newcontext(client()))
    local cases = {
      { "example.com",                 "invalid SNI map (table expected, got string)" },
      { nil,                           "invalid SNI map (table expected, got nil)" },
      { { [1] = good },                "invalid SNI map (host name expected as key, got number)" },
      { { [""] = good },               "invalid SNI map (host name '': empty string)" },
      { { [("h"):rep(256)] = good },   "invalid SNI map (host name '" .. ("h"):rep(256) .. "': length > 255)" },
      { { ["a.test"] = "ctx" },        "invalid SNI map (context expected for 'a.test', got string)" },
      { { ["a.test"] = {} },           "invalid SNI map (context expected for 'a.test', got table)" },
      { { ["a.test"] = closed },       "invalid SNI map (context for 'a.test' is closed)" },
      { { ["a.test"] = cctx },         "invalid SNI map (context for 'a.test' is not a server context)" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { s:sni(case[1]) })
    end
    local r = { s:sni({ ["A.test"] = good, ["a.TEST"] = ecdsa_ctx() }) }
    assert.is_nil(r[1])
    assert.matches("^invalid SNI map %(host name '.+' given twice%)$", r[2])
    r = { s:sni({ ["a.test"] = good, ["a.test."] = ecdsa_ctx() }) }   -- one host, two spellings
    assert.is_nil(r[1])
    assert.matches("^invalid SNI map %(host name 'a%.test%.?' given twice%)$", r[2])
    assert.same({ nil, "invalid SNI map (host name '.': empty string)" }, { s:sni({ ["."] = good }) })
    -- the same context under two spellings is fine; so is an empty map
    assert.is_true(s:sni({ ["A.test"] = good, ["a.TEST"] = good }))
    assert.is_true(s:sni({}))
    s:close(); c:close()
  end)

  it("a refused map leaves the previous one in place", function()
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true))
    assert.is_nil((s:sni({ ["example.com"] = "junk" }, false)))
    assert.is_true(c:sni("other.test"))
    local sres, cres = pair.handshake(s, c)
    assert.is_false(sres.ok)                     -- still strict
    assert.matches("unrecognized name", cres.err, 1, true)
    s:close(); c:close()
  end)

  it("sni() once the handshake has started answers nil, 'handshake already started'", function()
    local s, c = pair.wrap(server(), client())
    s:settimeout(0); c:settimeout(0)
    assert.same({ false, "wantread" }, { c:dohandshake() })
    assert.same({ nil, "handshake already started" }, { c:sni("late.test") })
    assert.same({ false, "wantread" }, { s:dohandshake() })
    assert.same({ nil, "handshake already started" }, { s:sni({}) })
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.is_nil(c:getsniname())
    s:close(); c:close()
  end)
end)

describe("sni, getsniname and getalpn in every state", function()
  local NAME = "example.com"
  local function build(state)
    local sp = server({ alpn = { "h2" } })
    local cp = client({ alpn = { "h2" } })
    if state == "failed" then cp = client({ alpn = { "h2" }, verify = "peer", cafile = C "rogue-ca.pem" }) end
    local s, c = pair.wrap(sp, cp)
    assert.is_true(s:sni({ [NAME] = ecdsa_ctx({ alpn = { "h2" } }) }))
    assert.is_true(c:sni(NAME))
    if state ~= "fresh" then
      local _, cres = pair.handshake(s, c)
      assert.equal(state ~= "failed", cres.ok)
    end
    if state == "closed" then s:close(); c:close() end
    return s, c
  end

  local expect = {
    --         getalpn        getsniname           sni(...)
    fresh     = { s = { nil, nil,  true },  c = { nil, NAME, true } },
    connected = { s = { "h2", NAME, false }, c = { "h2", NAME, false } },
    failed    = { s = { nil, NAME, false }, c = { nil, NAME, false } },
    closed    = { s = { nil, nil,  false }, c = { nil, nil,  false } },
  }

  for _, state in ipairs { "fresh", "connected", "failed", "closed" } do
    for _, side in ipairs { "s", "c" } do
      local who = side == "s" and "server" or "client"
      it(("%s when %s"):format(who, state), function()
        local s, c = build(state)
        finally(function() s:close(); c:close() end)
        local conn, want = side == "s" and s or c, expect[state][side]
        assert.same(pack(want[1]), pack(conn:getalpn()))
        assert.same(pack(want[2]), pack(conn:getsniname()))
        local arg = side == "s" and {} or "again.test"
        if want[3] then
          assert.same(pack(true), pack(conn:sni(arg)))
        else
          assert.same(pack(nil, "closed"), pack(conn:sni(arg)))
        end
        -- and nothing changed by asking twice
        assert.same(pack(want[1]), pack(conn:getalpn()))
      end)
    end
  end
end)

describe("against openssl", function()
  after_each(helpers.stop_all)

  describe("SNI", function()
    local function sni_server(extra)
      local args = { "-servername", "example.com",
                     "-cert2", C "server-ecdsa.pem", "-key2", C "server-ecdsa.key" }
      for _, a in ipairs(extra or {}) do args[#args + 1] = a end
      return { naccept = 1, args = args }
    end

    it("our client names the host; s_server switches to its second certificate", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server(sni_server()))
      local conn, ok, err = openssl.connect(defer, srv, client({ protocol = "tlsv1_2" }),
                                            function(c) assert.is_true(c:sni("example.com")) end)
      assert.is_true(ok, err)
      assert.equal("server-ecdsa", served(conn))
      assert.equal("ECDSA", conn:info("authentication"))
      assert.equal("example.com", conn:getsniname())
    end)

    it("our client without sni() gets s_server's first certificate", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server(sni_server()))
      local conn, ok, err = openssl.connect(defer, srv, client())
      assert.is_true(ok, err)
      assert.equal("server-rsa", served(conn))
      assert.is_nil(conn:getsniname())
    end)

    it("our client, unknown name, s_server -servername_fatal: unrecognized name", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server(sni_server({ "-servername_fatal" })))
      local conn, ok, err = openssl.connect(defer, srv, client(),
                                            function(c) assert.is_true(c:sni("other.test")) end)
      assert.is_false(ok)
      assert.matches("unrecognized name", err, 1, true)
      assert.same({ false, err }, { conn:dohandshake() })
    end)

    it("s_client -servername, our server with a map", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { servername = "Example.com" }, server(),
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_true(ok, err)
      assert.equal("Example.com", conn:getsniname())
      assert.matches("OU=server-ecdsa", openssl.report(cli).peer_subject, 1, true)
    end)

    it("s_client -servername with a trailing dot, our strict server maps it to the dotless name", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { servername = "example.com." }, server(),
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_true(ok, err)
      assert.equal("example.com.", conn:getsniname())   -- as the client sent it
      assert.matches("OU=server-ecdsa", openssl.report(cli).peer_subject, 1, true)
    end)

    it("s_client -servername unknown, our strict server: unrecognized name", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { servername = "other.test" }, server(),
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_false(ok)
      assert.matches("callback failed", err, 1, true)
      assert.equal("other.test", conn:getsniname())
      assert.matches("unrecognized name", table.concat(openssl.report(cli).errors, "|"), 1, true)
    end)

    it("s_client -noservername, our strict server: default certificate", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { noservername = true }, server(),
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_true(ok, err)
      assert.is_nil(conn:getsniname())
      assert.matches("OU=server-rsa", openssl.report(cli).peer_subject, 1, true)
    end)
  end)
end)
