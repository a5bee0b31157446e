-- Each option's observable effect: for every name in
-- ssl.config.options, either a spec below that shows what a peer (or the
-- application) sees change when the option is set, or an entry in
-- NO_VISIBLE_EFFECT saying why nothing can be seen, and a check that a
-- handshake with it is exactly like one without. The first test turns red
-- for a new option nobody decided about.
--
-- What the effects are observed through: our own pair (spec.helpers.pair:
-- negotiated version and cipher, receive results, getfinished()), the
-- openssl tools' printouts (s_client: "Reused"/"New", "TLS session ticket:",
-- "Extended master secret: yes/no", "RENEGOTIATING"; s_server -trace: the
-- ClientHello's session_id, extensions and records), and a Lua peer in a
-- child process that ends the TCP connection without close_notify.
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local luapeer = require "spec.helpers.luapeer"
local process = require "spec.helpers.process"
local alerts  = require "spec.helpers.alerts"
local newer   = require "spec.helpers.newer_options"

-- Options whose effect a spec in this file shows, and where.
local OBSERVED = {
  all = "ClientHello padding (tlsext_padding is part of all)",
  no_tlsv1 = "version matrix", no_tlsv1_1 = "version matrix",
  no_tlsv1_2 = "version matrix", no_tlsv1_3 = "version matrix",
  no_ssl_mask = "no version left: the handshake fails",
  no_ticket = "s_client: ticket printout, Reused/New on -sess_in",
  cipher_server_preference = "info('cipher') on both ends",
  prioritize_chacha = "info('cipher') on both ends",
  ignore_unexpected_eof = "receive() results after a FIN without close_notify",
  no_renegotiation = "s_client R: refused; getfinished() unchanged",
  allow_client_renegotiation = "s_client R: renegotiated; getfinished() changes",
  enable_middlebox_compat = "s_server -trace: session_id and ChangeCipherSpec",
  no_encrypt_then_mac = "s_server -trace: encrypt_then_mac extension",
  no_extended_master_secret = "s_server -trace / s_client 'Extended master secret'",
  tlsext_padding = "s_server -trace: padding extension, ClientHello length",
  no_compression = "info('compression') is nil with and without",
  legacy_server_connect = "accepted; handshake with a peer doing RFC 5746 unchanged",
  allow_unsafe_legacy_renegotiation = "accepted; renegotiation with an RFC 5746 peer unchanged",
  no_anti_replay = "accepted; no early data API, handshake unchanged",
  disable_tlsext_ca_names = "s_client: no CA names sent either way (no client-CA list is configured)",
  -- names OpenSSL 3.2/3.3 add (in builds against them only)
  no_rx_certificate_compression = "s_server -trace -cert_comp: compress_certificate offered and " ..
    "a CompressedCertificate back without it; neither with it",
  prefer_no_dhe_kex = "s_client -allow_no_dhe_kex -trace, resuming TLS 1.3: no key_share in the " ..
    "ServerHello with it (and allow_no_dhe_kex)",
}

-- Options with nothing a peer can see here, and why. Each gets the
-- "accepted, same handshake" test below.
local NO_VISIBLE_EFFECT = {
  -- option_effects "none": defined as 0 by OpenSSL 3
  ephemeral_rsa = "0 on OpenSSL 3", microsoft_big_sslv3_buffer = "0 on OpenSSL 3",
  microsoft_sess_id_bug = "0 on OpenSSL 3", msie_sslv2_rsa_padding = "0 on OpenSSL 3",
  netscape_ca_dn_bug = "0 on OpenSSL 3", netscape_challenge_bug = "0 on OpenSSL 3",
  netscape_demo_cipher_change_bug = "0 on OpenSSL 3",
  netscape_reuse_cipher_change_bug = "0 on OpenSSL 3", no_sslv2 = "0 on OpenSSL 3",
  pkcs1_check_1 = "0 on OpenSSL 3", pkcs1_check_2 = "0 on OpenSSL 3",
  single_dh_use = "0 on OpenSSL 3", single_ecdh_use = "0 on OpenSSL 3",
  ssleay_080_client_dh_bug = "0 on OpenSSL 3", sslref2_reuse_cert_type_bug = "0 on OpenSSL 3",
  tls_block_padding_bug = "0 on OpenSSL 3", tls_d5_bug = "0 on OpenSSL 3",
  -- option_effects "dtls-only"
  cookie_exchange = "DTLS only", no_query_mtu = "DTLS only", no_dtls_mask = "DTLS only",
  no_dtlsv1 = "DTLS only (not TLS 1.0's bit here)", no_dtlsv1_2 = "DTLS only (not TLS 1.2's bit here)",
  cisco_anyconnect = "DTLS1_BAD_VER on DTLS clients only",
  -- live bits a peer cannot see on this build or with standard peers
  no_sslv3 = "SSLv3 is compiled out of Debian's OpenSSL",
  cleanse_plaintext = "wipes plaintext buffers in memory",
  enable_ktls = "kernel offload of the record layer, same bytes on the wire",
  tls_rollback_bug = "needs a crafted RSA ClientKeyExchange (tlsfuzzer)",
  safari_ecdhe_ecdsa_bug = "only reacts to old Safari ClientHello fingerprints",
  cryptopro_tlsext_bug = "GOST cipher suites only",
  dont_insert_empty_fragments = "TLS 1.0 CBC only, below the default security level",
  allow_no_dhe_kex = "TLS 1.3 resumption with psk_ke; resumption needs a session cache",
  no_session_resumption_on_renegotiation = "server renegotiation with a session cache only",
  -- names OpenSSL 3.2 adds (in builds against it only)
  no_tx_certificate_compression = "OpenSSL sends a CompressedCertificate only for certificates " ..
    "compressed beforehand (SSL_CTX_compress_certs), which the module never does",
  enable_ktls_tx_zerocopy_sendfile = "acts in SSL_sendfile over kernel TLS only, which the module never calls",
}

local function merge(t, extra)
  local r = {}
  for k, v in pairs(t) do r[k] = v end
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end


-- Our server and client params (the client verifies nothing: these specs
-- are about options, not trust).
local function server(extra)
  return certs.server_params(merge({ options = {} }, extra))
end
local function client(extra)
  return certs.client_params(merge({ options = {}, verify = "none",
    key = certs.NIL, certificate = certs.NIL }, extra))
end

local function both_ok(sres, cres)
  assert.same({ ok = true }, sres)
  assert.same({ ok = true }, cres)
end

-- A pair handshake; returns server conn, client conn (closed at the end).
local function connect(defer, sp, cp)
  local s, c, sres, cres = pair.connect(sp, cp)
  defer(s); defer(c)
  return s, c, sres, cres
end

-- Our server (one context with `options`, two connections in turn) and two
-- s_client runs (`args` extra): the first saves its session (-sess_out),
-- the second offers it (-sess_in) and prints "Reused" or "New". Returns
-- both outputs ({ nothing_saved = true } when there was no session to save).
local function two_connections(defer, options, args)
  local ctx = assert(ssl.newcontext(server { options = options }))
  local l = assert(socket.bind("127.0.0.1", 0))
  defer(l)
  local _, port = l:getsockname()
  local dir = process.mktempdir("sslua-ticket")
  defer(function() process.rmtree(dir) end)
  local sess = dir .. "/session.pem"
  local outs = {}
  for round = 1, 2 do
    if round == 2 then
      local f = io.open(sess, "rb")
      local saved = f and f:read("*a") or ""
      if f then f:close() end
      if saved == "" then outs.nothing_saved = true break end
    end
    local a = { round == 1 and "-sess_out" or "-sess_in", sess }
    for _, x in ipairs(args) do a[#a + 1] = x end
    local cli = defer(openssl.s_client { port = port, ign_eof = true, stdin = "", args = a })
    l:settimeout(10)
    local conn = assert(ssl.wrap(assert(l:accept()), ctx))
    conn:settimeout(10)
    assert.is_true(conn:dohandshake())
    assert.equal(3, conn:send("hi\n"))
    conn:close()
    assert(cli:wait(10))
    outs[round] = cli:output()
  end
  return outs
end

describe("option effects", function()
  after_each(helpers.stop_all)

  it("every option has a decided spec: an observed effect or a reason why none", function()
    local undecided, both = {}, {}
    for name in pairs(ssl.config.options) do
      if not OBSERVED[name] and not NO_VISIBLE_EFFECT[name] then undecided[#undecided + 1] = name end
      if OBSERVED[name] and NO_VISIBLE_EFFECT[name] then both[#both + 1] = name end
    end
    table.sort(undecided)
    assert.same({}, undecided, "options without a decided spec: " .. table.concat(undecided, ", "))
    assert.same({}, both)
    -- a name a newer OpenSSL adds is rightly missing from a build against an older one
    for _, t in ipairs { OBSERVED, NO_VISIBLE_EFFECT } do
      for name in pairs(t) do
        if newer.built_with(name) ~= false then
          assert.is_true(ssl.config.options[name], "unknown option " .. name)
        end
      end
    end
  end)

  it("every 'none' or 'dtls-only' option is in the no-visible-effect table", function()
    for name, effect in pairs(ssl.config.option_effects) do
      if effect ~= "effective" then assert.is_string(NO_VISIBLE_EFFECT[name], name) end
    end
  end)

  describe("no visible effect: accepted, and the handshake is the same as without", function()
    local names = {}
    -- (only the names this build has: the first test checks the others are newer)
    for name in pairs(NO_VISIBLE_EFFECT) do
      if ssl.config.options[name] then names[#names + 1] = name end
    end
    table.sort(names)
    for _, name in ipairs(names) do
      it(name .. " (" .. NO_VISIBLE_EFFECT[name] .. ")", function()
        local defer = helpers.cleanup(finally)
        local s0, c0, sres0, cres0 = connect(defer, server(), client())
        both_ok(sres0, cres0)
        -- on the server, on the client, and on both
        for _, where in ipairs { "server", "client", "both" } do
          local so = (where ~= "client") and { name } or {}
          local co = (where ~= "server") and { name } or {}
          local s, c, sres, cres = connect(defer, server { options = so }, client { options = co })
          both_ok(sres, cres)
          assert.equal(c0:info("protocol"), c:info("protocol"), where)
          assert.equal(c0:info("cipher"), c:info("cipher"), where)
          assert.equal(s0:info("cipher"), s:info("cipher"), where)
          assert.is_true(s:send("x\n") == 2 and c:receive("*l") == "x", where)
        end
      end)
    end
  end)

  describe("version options (oracle over every contiguous range on each end)", function()
    -- 1..4 = TLS 1.0 .. 1.3; both ends at @SECLEVEL=0, where all four work.
    local NAMES = { "no_tlsv1", "no_tlsv1_1", "no_tlsv1_2", "no_tlsv1_3" }
    local VERSION = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" }
    local function options_for(lo, hi)
      local t = {}
      for v = 1, 4 do if v < lo or v > hi then t[#t + 1] = NAMES[v] end end
      return t
    end
    -- OpenSSL 3.0's choice (see spec/protocols_spec.lua for the model): a
    -- client allowing TLS 1.3 offers its range in supported_versions and
    -- the server takes the highest common one; otherwise the server takes
    -- min(client max, server max), which the client refuses below its min.
    local function expect(clo, chi, slo, shi)
      if chi == 4 then
        local v = math.min(chi, shi)
        if v >= math.max(clo, slo) then return { ok = true, version = VERSION[v] } end
        return { server = "unsupported protocol", client = alerts.received("protocol version") }
      end
      if chi < slo then
        return { server = "unsupported protocol", client = alerts.received("protocol version") }
      end
      local v = math.min(chi, shi)
      if v < clo then return { server = "wrong version number", client = "unsupported protocol" } end
      return { ok = true, version = VERSION[v] }
    end
    local ranges = {}
    for lo = 1, 4 do for hi = lo, 4 do ranges[#ranges + 1] = { lo, hi } end end

    for _, sr in ipairs(ranges) do
      it(("server without TLS outside %s..%s, against every client range"):format(VERSION[sr[1]], VERSION[sr[2]]), function()
        local defer = helpers.cleanup(finally)
        for _, cr in ipairs(ranges) do
          local e = expect(cr[1], cr[2], sr[1], sr[2])
          local label = ("client %s..%s: %s"):format(VERSION[cr[1]], VERSION[cr[2]],
            e.ok and e.version or "fails")
          local s, c, sres, cres = connect(defer,
            server { options = options_for(sr[1], sr[2]), ciphers = "DEFAULT:@SECLEVEL=0" },
            client { options = options_for(cr[1], cr[2]), ciphers = "DEFAULT:@SECLEVEL=0" })
          if e.ok then
            both_ok(sres, cres)
            assert.equal(e.version, c:info("protocol"), label)
            assert.equal(e.version, s:info("protocol"), label)
          else
            assert.same({ ok = false, err = e.server }, sres, label)
            assert.same({ ok = false, err = e.client }, cres, label)
          end
        end
      end)
    end

    it("against s_client: no_tlsv1_3 makes TLS 1.2, and refuses s_client -tls1_3", function()
      local defer = helpers.cleanup(finally)
      for _, case in ipairs {
        { args = {}, version = "TLSv1.2" },
        { args = { "-tls1_3" }, refused = true },
      } do
        local l = assert(socket.bind("127.0.0.1", 0))
        defer(l)
        local _, port = l:getsockname()
        local cli = defer(openssl.s_client { port = port, args = case.args })
        l:settimeout(10)
        local conn = defer(assert(ssl.wrap(assert(l:accept()), server { options = { "no_tlsv1_3" } })))
        conn:settimeout(10)
        local ok, err = conn:dohandshake()
        assert(cli:wait(10))
        local r = openssl.parse(cli:output())
        if case.refused then
          assert.same({ false, "unsupported protocol" }, { ok, err })
          assert.equal(alerts.received("protocol version"), r.errors[1], cli:output())
        else
          assert.is_true(ok, err)
          assert.equal(case.version, r.protocol)
        end
      end
    end)

    it("no_ssl_mask leaves no version: the handshake fails on the end that has it", function()
      local defer = helpers.cleanup(finally)
      local _, _, sres, cres = connect(defer, server { options = { "no_ssl_mask" } }, client())
      assert.is_false(sres.ok)
      assert.is_false(cres.ok)
      _, _, sres, cres = connect(defer, server(), client { options = { "no_ssl_mask" } })
      assert.is_false(cres.ok)
      assert.is_false(sres.ok)
    end)
  end)

  describe("no_ticket", function()
    it("TLS 1.2: without it a ticket is sent and the session resumes", function()
      local outs = two_connections(helpers.cleanup(finally), {}, { "-tls1_2" })
      assert.truthy(outs[1]:find("TLS session ticket:", 1, true))
      assert.truthy(outs[2]:find("\nReused, TLSv1.2", 1, true))
    end)

    it("TLS 1.2: with it no ticket is sent and nothing can resume", function()
      local outs = two_connections(helpers.cleanup(finally), { "no_ticket" }, { "-tls1_2" })
      assert.truthy(outs[1]:find("\nNew, TLSv1.2", 1, true))
      assert.falsy(outs[1]:find("TLS session ticket:", 1, true))
      -- no ticket and no session id (the cache is off): nothing to save
      assert.is_true(outs.nothing_saved or outs[2]:find("\nNew, TLSv1.2", 1, true) ~= nil)
    end)

    it("TLS 1.3: without it the ticket resumes", function()
      local outs = two_connections(helpers.cleanup(finally), {}, { "-tls1_3" })
      assert.truthy(outs[1]:find("Post-Handshake New Session Ticket arrived", 1, true))
      assert.truthy(outs[2]:find("\nReused, TLSv1.3", 1, true))
    end)

    it("TLS 1.3: with it the (stateful) ticket still arrives but does not resume", function()
      local outs = two_connections(helpers.cleanup(finally), { "no_ticket" }, { "-tls1_3" })
      assert.truthy(outs[1]:find("Post-Handshake New Session Ticket arrived", 1, true))
      assert.truthy(outs[2]:find("\nNew, TLSv1.3", 1, true))
      assert.falsy(outs[2]:find("\nReused,", 1, true))
    end)
  end)

  describe("cipher choice", function()
    local A, B = "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"
    local CHACHA = "ECDHE-RSA-CHACHA20-POLY1305"
    local function chosen(defer, soptions, sciphers, cciphers, tls13)
      local sp, cp
      if tls13 then
        sp = server { options = soptions, protocol = "tlsv1_3", ciphersuites = sciphers }
        cp = client { protocol = "tlsv1_3", ciphersuites = cciphers }
      else
        sp = server { options = soptions, protocol = "tlsv1_2", ciphers = sciphers }
        cp = client { protocol = "tlsv1_2", ciphers = cciphers }
      end
      local s, c, sres, cres = connect(defer, sp, cp)
      both_ok(sres, cres)
      assert.equal(s:info("cipher"), c:info("cipher"))
      return c:info("cipher")
    end

    it("cipher_server_preference: the server's order wins (TLS 1.2)", function()
      local defer = helpers.cleanup(finally)
      assert.equal(B, chosen(defer, {}, A .. ":" .. B, B .. ":" .. A))
      assert.equal(A, chosen(defer, { "cipher_server_preference" }, A .. ":" .. B, B .. ":" .. A))
    end)

    it("cipher_server_preference: the server's order wins (TLS 1.3)", function()
      local defer = helpers.cleanup(finally)
      local a, b = "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"
      assert.equal(b, chosen(defer, {}, a .. ":" .. b, b .. ":" .. a, true))
      assert.equal(a, chosen(defer, { "cipher_server_preference" }, a .. ":" .. b, b .. ":" .. a, true))
    end)

    it("prioritize_chacha: a client preferring ChaCha20 gets it despite the server's order", function()
      local defer = helpers.cleanup(finally)
      local sorder = A .. ":" .. CHACHA
      assert.equal(A, chosen(defer, { "cipher_server_preference" }, sorder, CHACHA .. ":" .. A))
      assert.equal(CHACHA, chosen(defer, { "cipher_server_preference", "prioritize_chacha" },
        sorder, CHACHA .. ":" .. A))
      -- a client that prefers AES keeps the server's order
      assert.equal(A, chosen(defer, { "cipher_server_preference", "prioritize_chacha" },
        sorder, A .. ":" .. CHACHA))
    end)

    it("prioritize_chacha: the same with TLS 1.3 suites", function()
      local defer = helpers.cleanup(finally)
      local a, ch = "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"
      assert.equal(a, chosen(defer, { "cipher_server_preference" }, a .. ":" .. ch, ch .. ":" .. a, true))
      assert.equal(ch, chosen(defer, { "cipher_server_preference", "prioritize_chacha" },
        a .. ":" .. ch, ch .. ":" .. a, true))
    end)
  end)

  describe("ignore_unexpected_eof", function()
    -- A Lua peer sends a line and a partial one, then is killed (SIGTERM)
    -- before it could send close_notify: the kernel ends the TCP connection
    -- with a FIN.
    local function read_all(defer, options, patterns)
      local srv = defer(luapeer.server(server(), { actions = {
        { "send", "line\npartial" }, { "sleep", 30 } } }))
      local tcp = socket.tcp()
      tcp:settimeout(10)
      assert(tcp:connect("127.0.0.1", srv.port))
      local conn = defer(assert(ssl.wrap(tcp, client { options = options })))
      conn:settimeout(10)
      assert.is_true(conn:dohandshake())
      assert(srv:wait_output("RESULT send", 10, true))
      srv:stop()
      local r = {}
      for i, p in ipairs(patterns) do r[i] = { conn:receive(p) } end
      return r
    end

    it("without it, *l after the FIN is 'unexpected eof while reading' with the partial", function()
      local r = read_all(helpers.cleanup(finally), {}, { "*l", "*l" })
      assert.same({ "line" }, r[1])
      assert.same({ nil, "unexpected eof while reading", "partial" }, r[2])
    end)

    it("with it, *l after the FIN is 'closed' with the partial", function()
      local r = read_all(helpers.cleanup(finally), { "ignore_unexpected_eof" }, { "*l", "*l" })
      assert.same({ "line" }, r[1])
      assert.same({ nil, "closed", "partial" }, r[2])
    end)

    it("*a returns the data either way (README: LuaSocket's *a has no other end)", function()
      local defer = helpers.cleanup(finally)
      assert.same({ "line\npartial" }, read_all(defer, {}, { "*a" })[1])
      assert.same({ "line\npartial" }, read_all(defer, { "ignore_unexpected_eof" }, { "*a" })[1])
    end)
  end)

  describe("client-initiated renegotiation (s_client R on TLS 1.2)", function()
    -- Our server keeps reading, so that the renegotiation can progress;
    -- a successful one changes the Finished messages (getfinished()).
    local function renegotiate(defer, options)
      local l = assert(socket.bind("127.0.0.1", 0))
      defer(l)
      local _, port = l:getsockname()
      local cli = defer(openssl.s_client { port = port, stdin_fifo = true, args = { "-tls1_2" } })
      l:settimeout(10)
      local conn = defer(assert(ssl.wrap(assert(l:accept()), server { options = options })))
      conn:settimeout(10)
      assert.is_true(conn:dohandshake())
      local before = conn:getfinished()
      assert(cli:write("R\n"))
      assert(cli:wait_output("RENEGOTIATING", 10, true))
      socket.sleep(0.2)
      assert(cli:write("ping\n"))
      local r = { conn:receive("*l") }
      local changed = before ~= conn:getfinished()
      conn:close()
      cli:close_stdin()
      cli:wait(5)
      return r, changed, cli:output()
    end

    it("refused by default (OpenSSL 3): the client sees 'no renegotiation'", function()
      local r, changed, out = renegotiate(helpers.cleanup(finally), {})
      assert.same({ nil, alerts.received("handshake failure"), "" }, r)
      assert.is_false(changed)
      assert.truthy(out:find(":no renegotiation:", 1, true))
    end)

    it("allow_client_renegotiation: renegotiates, and the data after it arrives", function()
      local r, changed, out = renegotiate(helpers.cleanup(finally), { "allow_client_renegotiation" })
      assert.same({ "ping" }, r)
      assert.is_true(changed)
      assert.falsy(out:find(":no renegotiation:", 1, true))
    end)

    it("no_renegotiation wins over allow_client_renegotiation", function()
      local r, changed, out = renegotiate(helpers.cleanup(finally),
        { "allow_client_renegotiation", "no_renegotiation" })
      assert.same({ nil, alerts.received("handshake failure"), "" }, r)
      assert.is_false(changed)
      assert.truthy(out:find(":no renegotiation:", 1, true))
    end)

    it("legacy_server_connect / allow_unsafe_legacy_renegotiation: with a peer doing RFC 5746 nothing changes", function()
      -- Their effect needs a peer without the renegotiation_info extension
      -- (gnutls-serv %DISABLE_SAFE_RENEGOTIATION); against OpenSSL both are
      -- accepted and renegotiation behaves as without them.
      local defer = helpers.cleanup(finally)
      local r, changed = renegotiate(defer,
        { "allow_client_renegotiation", "allow_unsafe_legacy_renegotiation", "legacy_server_connect" })
      assert.same({ "ping" }, r)
      assert.is_true(changed)
      local s, c, sres, cres = connect(defer, server(),
        client { protocol = "tlsv1_2", options = { "legacy_server_connect", "allow_unsafe_legacy_renegotiation" } })
      both_ok(sres, cres)
      assert.equal("TLSv1.2", c:info("protocol"))
      assert.equal(s:info("cipher"), c:info("cipher"))
    end)
  end)

  describe("ClientHello and ServerHello contents (s_server -trace)", function()
    -- Our client connects to `openssl s_server -trace`, which prints every
    -- message and record it receives and sends.
    local function trace(defer, params, server_args)
      local args = { "-trace" }
      for _, a in ipairs(server_args or {}) do args[#args + 1] = a end
      local srv = defer(openssl.s_server { naccept = 1, args = args })
      local tcp = socket.tcp()
      tcp:settimeout(10)
      assert(tcp:connect("127.0.0.1", srv.port))
      local conn = defer(assert(ssl.wrap(tcp, client(params))))
      conn:settimeout(10)
      assert.is_true(conn:dohandshake())
      local version = conn:info("protocol")
      conn:close()
      assert(srv:wait(10))
      local out = srv:output()
      local hello = out:match("ClientHello, Length=%d+.-\n[^\n]*ServerHello") or ""
      return out, hello, version
    end

    it("enable_middlebox_compat: TLS 1.3 session_id of 32 bytes and a ChangeCipherSpec, with it and by default", function()
      local defer = helpers.cleanup(finally)
      for _, o in ipairs { { "enable_middlebox_compat" }, {} } do
        local out, hello, version = trace(defer, { options = o })
        assert.equal("TLSv1.3", version)
        assert.truthy(hello:find("session_id (len=32)", 1, true))
        -- "Received Record" up to OpenSSL 3.4, "Received TLS Record" from 3.5 on
        assert.truthy(out:find("\nReceived [%w ]*Record\nHeader:\n  Version = TLS 1%.2 %(0x303%)\n" ..
          "  Content Type = ChangeCipherSpec"))
      end
    end)

    -- OpenSSL pads only a ClientHello of 256 to 511 bytes (the range that
    -- upset some middleboxes). Classic groups keep it there: the hybrid
    -- X25519MLKEM768 key share OpenSSL 3.5 offers by default brings it to
    -- about 1500 bytes, which needs no padding.
    it("tlsext_padding (and all): a padding extension brings the ClientHello to 508 bytes", function()
      local defer = helpers.cleanup(finally)
      local groups = "X25519:P-256:P-384"
      local _, plain = trace(defer, { options = {}, curveslist = groups })
      assert.falsy(plain:find("extension_type=padding(21)", 1, true))
      local plain_len = tonumber(plain:match("ClientHello, Length=(%d+)"))
      assert.is_true(plain_len > 251 and plain_len < 508, "unpadded length " .. plain_len)
      for _, o in ipairs { { "tlsext_padding" }, { "all" } } do
        local _, padded = trace(defer, { options = o, curveslist = groups })
        assert.truthy(padded:find("extension_type=padding(21)", 1, true))
        assert.equal(508, tonumber(padded:match("ClientHello, Length=(%d+)")))
      end
    end)

    local CBC = "ECDHE-RSA-AES128-SHA256"
    for _, case in ipairs {
      { name = "no_encrypt_then_mac", ext = "encrypt_then_mac(22)" },
      { name = "no_extended_master_secret", ext = "extended_master_secret(23)" },
    } do
      it(case.name .. ": TLS 1.2 ClientHello and ServerHello lose " .. case.ext, function()
        local defer = helpers.cleanup(finally)
        local out = trace(defer, { protocol = "tlsv1_2", ciphers = CBC })
        local _, count = out:gsub("extension_type=" .. case.ext:gsub("%p", "%%%0"), "")
        assert.equal(2, count)
        out = trace(defer, { protocol = "tlsv1_2", ciphers = CBC, options = { case.name } })
        _, count = out:gsub("extension_type=" .. case.ext:gsub("%p", "%%%0"), "")
        assert.equal(0, count)
      end)
    end

    it("no_extended_master_secret on our server: s_client prints 'Extended master secret: no'", function()
      local defer = helpers.cleanup(finally)
      for _, case in ipairs { { {}, "yes" }, { { "no_extended_master_secret" }, "no" } } do
        local l = assert(socket.bind("127.0.0.1", 0))
        defer(l)
        local _, port = l:getsockname()
        local cli = defer(openssl.s_client { port = port, stdin = "", args = { "-tls1_2" } })
        l:settimeout(10)
        local conn = defer(assert(ssl.wrap(assert(l:accept()), server { options = case[1] })))
        conn:settimeout(10)
        assert.is_true(conn:dohandshake())
        conn:close()
        assert(cli:wait(10))
        assert.equal("Extended master secret: " .. case[2],
          cli:output():match("Extended master secret: %a+"))
      end
    end)

    -- Certificate compression (RFC 8879, OpenSSL 3.2 and later, with zlib,
    -- zstd or brotli built in): a client offers it in its ClientHello
    -- (compress_certificate), and s_server -cert_comp, whose certificate is
    -- compressed beforehand, then sends a CompressedCertificate.
    -- s_server says "Error compressing certs" when its OpenSSL has no
    -- algorithm: then nothing is offered or compressed either way.
    if ssl.config.options.no_rx_certificate_compression then
      it("no_rx_certificate_compression: no compress_certificate offered, a plain Certificate back", function()
        local defer = helpers.cleanup(finally)
        local function run(o)
          local out = trace(defer, { options = o }, { "-cert_comp" })
          return out:find("extension_type=compress_certificate(27)", 1, true) ~= nil,
            out:match("\n%s*(%a*Certificate), Length="), out
        end
        local offered, message, out = run({})
        local can = not out:find("Error compressing certs", 1, true)
        assert.equal(can, offered, out)
        assert.equal(can and "CompressedCertificate" or "Certificate", message, out)
        offered, message, out = run({ "no_rx_certificate_compression" })
        assert.is_false(offered, out)
        assert.equal("Certificate", message, out)
      end)
    end
  end)

  -- A TLS 1.3 server resuming a session with a client that offers both
  -- psk_ke and psk_dhe_ke (s_client -allow_no_dhe_kex) takes psk_dhe_ke,
  -- whose ServerHello carries a key_share; with allow_no_dhe_kex and
  -- prefer_no_dhe_kex it takes psk_ke, without one (s_client -trace).
  if ssl.config.options.prefer_no_dhe_kex then
    describe("prefer_no_dhe_kex (TLS 1.3 resumption, s_client -allow_no_dhe_kex -trace)", function()
      local function resumed_server_hello(options)
        local outs = two_connections(helpers.cleanup(finally), options,
          { "-tls1_3", "-allow_no_dhe_kex", "-trace" })
        assert.truthy(outs[2] and outs[2]:find("\nReused, TLSv1.3", 1, true), outs[2])
        -- the second ServerHello s_client received: the resumption's
        return outs[2]:match("ServerHello, Length=%d+\n(.-)\n\n") or ""
      end

      it("without it the server keeps an (EC)DHE key_share, even allowing psk_ke", function()
        assert.truthy(resumed_server_hello({ "allow_no_dhe_kex" }):find("extension_type=key_share(51)", 1, true))
        assert.truthy(resumed_server_hello({ "prefer_no_dhe_kex" }):find("extension_type=key_share(51)", 1, true))
      end)

      it("with allow_no_dhe_kex the server resumes without a key_share (psk_ke)", function()
        local hello = resumed_server_hello({ "allow_no_dhe_kex", "prefer_no_dhe_kex" })
        assert.truthy(hello:find("extension_type=supported_versions(43)", 1, true), hello)
        assert.falsy(hello:find("extension_type=key_share(51)", 1, true), hello)
      end)
    end)
  end

  -- Why no_tx_certificate_compression shows nothing: s_client offers
  -- compression, and our server sends a plain Certificate with or without it.
  if ssl.config.options.no_tx_certificate_compression then
    it("no_tx_certificate_compression: our server never compresses its certificate anyway", function()
      local defer = helpers.cleanup(finally)
      for _, o in ipairs { {}, { "no_tx_certificate_compression" } } do
        local out = two_connections(defer, o, { "-tls1_3", "-trace" })[1]
        assert.equal("Certificate", out:match("\n%s*(%a*Certificate), Length="), out)
      end
    end)
  end

  describe("options with nothing to show on this OpenSSL, checked anyway", function()
    it("no_compression: compression is never negotiated, with or without it", function()
      local defer = helpers.cleanup(finally)
      for _, o in ipairs { {}, { "no_compression" } } do
        local s, c, sres, cres = connect(defer, server { options = o, protocol = "tlsv1_2" },
          client { options = o, protocol = "tlsv1_2" })
        both_ok(sres, cres)
        assert.is_nil(s:info("compression"))
        assert.is_nil(c:info("compression"))
      end
    end)

    it("no_anti_replay: accepted on a TLS 1.3 server; without an early-data API the handshake is unchanged", function()
      local defer = helpers.cleanup(finally)
      local s0, c0 = connect(defer, server(), client())
      local s, c, sres, cres = connect(defer, server { options = { "no_anti_replay" } }, client())
      both_ok(sres, cres)
      assert.equal("TLSv1.3", c:info("protocol"))
      assert.equal(c0:info("cipher"), c:info("cipher"))
      assert.equal(s0:info("cipher"), s:info("cipher"))
    end)

    it("disable_tlsext_ca_names: no client-CA list is configured, so no CA names either way", function()
      local defer = helpers.cleanup(finally)
      for _, o in ipairs { {}, { "disable_tlsext_ca_names" } } do
        local l = assert(socket.bind("127.0.0.1", 0))
        defer(l)
        local _, port = l:getsockname()
        local cli = defer(openssl.s_client { port = port, stdin = "", leaf = "client-rsa" })
        l:settimeout(10)
        local conn = defer(assert(ssl.wrap(assert(l:accept()), server { options = o, verify = "peer" })))
        conn:settimeout(10)
        assert.is_true(conn:dohandshake())
        conn:close()
        assert(cli:wait(10))
        local out = cli:output()
        assert.truthy(out:find("No client certificate CA names sent", 1, true))
        assert.falsy(out:find("Acceptable client certificate CA names", 1, true))
      end
    end)
  end)
end)
