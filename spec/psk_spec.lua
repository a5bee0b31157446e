-- Pre-shared keys (the `psk` parameter of LuaSec 1.3) on TLS 1.2 PSK suites
-- and TLS 1.3 external PSKs: the client and server functions, the identity
-- hint, misbehaving functions, closed contexts. Peers: our own
-- (spec.helpers.pair) and the openssl tools (s_server / s_client -psk).
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local alerts  = require "spec.helpers.alerts"

local context = require "ssl.context"

local KEYHEX = "00112233445566778899aabbccddeeff0123456789abcdef0011223344556677"
local KEY = (KEYHEX:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
local PSK_CIPHER = "PSK-AES128-GCM-SHA256"

-- A PSK-only server (no certificate) and client for `protocol`.
local function psk_server(protocol, psk, extra)
  local t = { mode = "server", protocol = protocol, psk = psk }
  if protocol == "tlsv1_2" then t.ciphers = PSK_CIPHER end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local function psk_client(protocol, psk)
  local t = { mode = "client", protocol = protocol, psk = psk }
  if protocol == "tlsv1_2" then t.ciphers = PSK_CIPHER end
  return t
end

local function alice_key(identity)
  if identity == "alice" then return KEY end
  return nil
end

local function as_alice() return "alice", KEY end

-- How each version reacts when the handshake cannot use the PSK: TLS 1.2
-- has a PSK suite and alerts unknown_psk_identity; TLS 1.3 goes on without
-- a PSK, and a server without certificate then has nothing to sign with
-- (handshake_failure). The client reports the alert in this OpenSSL's
-- words (alerts.received).
local NO_PSK_ALERT = { tlsv1_2 = "unknown psk identity", tlsv1_3 = "handshake failure" }
local NO_PSK = {
  tlsv1_2 = { server = "psk identity not found", client = alerts.received(NO_PSK_ALERT.tlsv1_2) },
  tlsv1_3 = { server = "no suitable signature algorithm", client = alerts.received(NO_PSK_ALERT.tlsv1_3) },
}
-- What the client sees when the server's function failed.
local SERVER_FAILED = {
  tlsv1_2 = alerts.received(NO_PSK_ALERT.tlsv1_2),
  tlsv1_3 = alerts.received(NO_PSK_ALERT.tlsv1_3),
}

-- A wrong key: what each end reports is OpenSSL's business (the alert for
-- a TLS 1.3 binder that does not verify changed in 3.5: illegal_parameter
-- became decrypt_error), so the openssl tools of the same OpenSSL meet
-- with mismatched keys and their first errors are the expectation:
-- { server = s_server's, client = s_client's }, once per protocol.
local wrong_key_seen = {}
local function wrong_key_oracle(defer, protocol)
  if wrong_key_seen[protocol] then return wrong_key_seen[protocol] end
  local version = protocol == "tlsv1_2" and { "-tls1_2", "-cipher", PSK_CIPHER } or { "-tls1_3" }
  local function args(key)
    local t = { "-psk", key, "-psk_identity", "alice" }
    for _, a in ipairs(version) do t[#t + 1] = a end
    return t
  end
  local srv = defer(openssl.s_server({ nocert = true, naccept = 1, args = args(KEYHEX) }))
  local cli = defer(openssl.s_client({ port = srv.port, cafile = false, args = args(("6b"):rep(32)) }))
  assert(cli:wait(10), "s_client did not end: " .. cli:output())
  assert(srv:wait(10), "s_server did not end: " .. srv:output())
  local r = { server = openssl.parse(srv:output()).errors[1], client = openssl.parse(cli:output()).errors[1] }
  assert(r.server and r.client, "the tools did not fail on a wrong key:\n" .. srv:output() .. cli:output())
  wrong_key_seen[protocol] = r
  return r
end
local VERSION = { tlsv1_2 = "TLSv1.2", tlsv1_3 = "TLSv1.3" }

describe("psk", function()
  for _, protocol in ipairs { "tlsv1_2", "tlsv1_3" } do
    describe("on " .. VERSION[protocol], function()
      it("agrees on a key between our client and our server, without certificates", function()
        local seen = {}
        local s, c, sres, cres = pair.connect(
          psk_server(protocol, function(...)
            seen.server = { n = select("#", ...), ... }
            return alice_key(...)
          end),
          psk_client(protocol, function(...)
            seen.client = { n = select("#", ...), ... }
            return as_alice()
          end))
        assert.same({ ok = true }, sres)
        assert.same({ ok = true }, cres)
        assert.equal(VERSION[protocol], c:info("protocol"))
        if protocol == "tlsv1_2" then assert.equal(PSK_CIPHER, c:info("cipher")) end
        -- client: (hint_or_nil, max_identity_len, max_psk_len)
        assert.same({ n = 3, nil, 256, 512 }, seen.client)
        -- server: (identity, max_psk_len)
        assert.same({ n = 2, "alice", 512 }, seen.server)
        assert(c:send("ping\n"))
        assert.equal("ping", s:receive())
      end)

      it("a verifying server and a verifying client still agree on the PSK", function()
        -- A verifying server sets a session id context (context.c); the
        -- PSK session OpenSSL builds must match it. Without a certificate
        -- on the server only the PSK can complete this handshake.
        for _, verify in ipairs { "peer", { "peer", "fail_if_no_peer_cert" } } do
          local sp = psk_server(protocol, alice_key, { verify = verify })
          local cp = psk_client(protocol, as_alice)
          cp.verify = "peer"
          local s, c, sres, cres = pair.connect(sp, cp)
          assert.same({ ok = true }, sres)
          assert.same({ ok = true }, cres)
          assert.is_nil(c:getpeercertificate())
          s:close(); c:close()
        end
      end)

      it("an unknown identity (server returns nil) fails the handshake", function()
        local _, _, sres, cres = pair.connect(psk_server(protocol, alice_key),
                                              psk_client(protocol, function() return "bob", KEY end))
        assert.same({ ok = false, err = NO_PSK[protocol].server }, sres)
        assert.same({ ok = false, err = NO_PSK[protocol].client }, cres)
      end)

      -- (TLS 1.2: the server's Finished check fails - AES-GCM's tag, so
      -- the provider's "cipher operation failed" is the oldest error - and
      -- it alerts bad_record_mac; TLS 1.3: the PSK binder does not verify.)
      it("a wrong key fails the handshake", function()
        local want = wrong_key_oracle(helpers.cleanup(finally), protocol)
        local _, _, sres, cres = pair.connect(psk_server(protocol, alice_key),
                                              psk_client(protocol, function() return "alice", ("k"):rep(32) end))
        assert.same({ ok = false, err = want.server }, sres)
        assert.same({ ok = false, err = want.client }, cres)
      end)

      it("identities and keys up to the maxima given work", function()
        local _, _, sres, cres = pair.connect(
          psk_server(protocol, function(id, max)
            if id == ("i"):rep(256) then return ("k"):rep(max) end
          end),
          psk_client(protocol, function(_, max_id, max_psk)
            return ("i"):rep(max_id), ("k"):rep(max_psk)
          end))
        assert.same({ ok = true }, sres)
        assert.same({ ok = true }, cres)
      end)

      -- Client functions that misbehave: the client fails with "callback
      -- failed (PSK callback: <why>)" (never a Lua error through OpenSSL,
      -- never a crash).
      local function failed(why) return "callback failed (PSK callback: " .. why .. ")" end
      -- The yield error's wording (and position prefix) differs between Lua
      -- 5.1, LuaJIT and 5.2+; what matters is that it is the yield error.
      local YIELD = { pattern = "^callback failed %(PSK callback: .*attempt to yield .*%)$" }
      local function check(res, want)
        assert.is_false(res.ok)
        if type(want) == "table" then
          assert.matches(want.pattern, res.err)
        else
          assert.equal(want, res.err)
        end
      end
      local STRINGS = failed "identity and key must be strings"
      local bad_client = {
        { "raises", function() error("client boom", 0) end, failed "client boom" },
        { "raises a table", function() error({}) end, failed "(error object is not a string)" },
        { "returns numbers", function() return 1, 2 end, STRINGS },
        { "returns no key", function() return "alice" end, STRINGS },
        { "returns a too long identity", function(_, max_id) return ("i"):rep(max_id + 1), KEY end,
          failed "invalid identity" },
        { "returns an identity with a zero byte", function() return "ali\0ce", KEY end,
          failed "invalid identity" },
        { "returns a too long key", function(_, _, max_psk) return "alice", ("k"):rep(max_psk + 1) end,
          failed "invalid key length" },
        { "returns an empty key", function() return "alice", "" end, failed "invalid key length" },
        { "yields", function() coroutine.yield() end, YIELD },
      }
      for _, case in ipairs(bad_client) do
        it("a client function that " .. case[1] .. " fails the handshake cleanly", function()
          local _, c, sres, cres = pair.connect(psk_server(protocol, alice_key),
                                                psk_client(protocol, case[2]))
          check(cres, case[3])
          assert.is_false(sres.ok)
          -- the failure sticks, and the connection stays usable as an object
          local again = { c:dohandshake() }
          assert.same({ false, cres.err }, again)
          assert.same({ nil, "closed" }, { c:info() })
        end)
      end

      it("a client function returning nil offers no PSK", function()
        local _, _, sres, cres = pair.connect(psk_server(protocol, alice_key),
                                              psk_client(protocol, function() return nil end))
        assert.is_false(sres.ok)
        if protocol == "tlsv1_2" then
          -- TLS 1.2: the PSK suite needs one
          assert.same({ ok = false, err = "psk identity not found" }, cres)
        else
          -- TLS 1.3: a plain handshake, which this certificate-less server cannot do
          assert.same({ ok = false, err = alerts.received("handshake failure") }, cres)
          assert.equal("no suitable signature algorithm", sres.err)
        end
      end)

      local bad_server = {
        { "raises", function() error("server boom", 0) end, failed "server boom" },
        { "returns a number", function() return 42 end, failed "key must be a string or nil" },
        { "returns a too long key", function(_, max) return ("k"):rep(max + 1) end,
          failed "invalid key length" },
        { "yields", function() coroutine.yield() end, YIELD },
      }
      for _, case in ipairs(bad_server) do
        it("a server function that " .. case[1] .. " fails the handshake cleanly", function()
          local _, _, sres, cres = pair.connect(psk_server(protocol, case[2]),
                                                psk_client(protocol, as_alice))
          check(sres, case[3])
          assert.same({ ok = false, err = SERVER_FAILED[protocol] }, cres)
        end)
      end

      it("an empty key from the server means an unknown identity", function()
        local _, _, sres, cres = pair.connect(psk_server(protocol, function() return "" end),
                                              psk_client(protocol, as_alice))
        assert.same({ ok = false, err = NO_PSK[protocol].server }, sres)
        assert.same({ ok = false, err = NO_PSK[protocol].client }, cres)
      end)

      it("fails cleanly when the client's context was closed before the handshake", function()
        local sctx = assert(ssl.newcontext(psk_server(protocol, alice_key)))
        local cctx = assert(ssl.newcontext(psk_client(protocol, as_alice)))
        local s, c = pair.wrap(sctx, cctx)
        getmetatable(cctx).__close(cctx)
        local sres, cres = pair.handshake(s, c)
        assert.same({ ok = false, err = failed "no PSK function (context closed?)" }, cres)
        assert.is_false(sres.ok)
      end)

      it("fails cleanly when the server's context was closed before the handshake", function()
        local sctx = assert(ssl.newcontext(psk_server(protocol, alice_key)))
        local cctx = assert(ssl.newcontext(psk_client(protocol, as_alice)))
        local s, c = pair.wrap(sctx, cctx)
        getmetatable(sctx).__gc(sctx)
        local sres, cres = pair.handshake(s, c)
        assert.same({ ok = false, err = failed "no PSK function (context closed?)" }, sres)
        assert.same({ ok = false, err = SERVER_FAILED[protocol] }, cres)
      end)

      it("runs the functions on the coroutine driving the handshake", function()
        local where = {}
        local s, c = pair.wrap(
          psk_server(protocol, function(id) where.server = coroutine.running(); return alice_key(id) end),
          psk_client(protocol, function() where.client = coroutine.running(); return as_alice() end))
        s:settimeout(0)
        c:settimeout(0)
        local function driver(conn)
          return coroutine.create(function()
            while true do
              local ok, err = conn:dohandshake()
              if ok or (err ~= "wantread" and err ~= "wantwrite") then return ok, err end
              coroutine.yield()
            end
          end)
        end
        local cos = { driver(s), driver(c) }
        local results = {}
        local deadline = socket.gettime() + 10
        while not (results[1] and results[2]) and socket.gettime() < deadline do
          for i = 1, 2 do
            if not results[i] then
              local r = { coroutine.resume(cos[i]) }
              assert(r[1], r[2])
              if coroutine.status(cos[i]) == "dead" then results[i] = { r[2], r[3] } end
            end
          end
          socket.select({ s, c }, nil, 0.01)
        end
        assert.same({ { true }, { true } }, results)
        assert.equal(cos[1], where.server)
        assert.equal(cos[2], where.client)
      end)
    end)
  end

  it("TLS 1.2: the server's identity hint reaches the client; TLS 1.3 has none", function()
    local hints = {}
    for _, protocol in ipairs { "tlsv1_2", "tlsv1_3" } do
      local _, _, sres, cres = pair.connect(
        psk_server(protocol, nil, { psk = { hint = "sslua-hint", callback = alice_key } }),
        psk_client(protocol, function(hint) hints[protocol] = hint or false; return as_alice() end))
      assert.is_true(sres.ok)
      assert.is_true(cres.ok)
    end
    assert.same({ tlsv1_2 = "sslua-hint", tlsv1_3 = false }, hints)
  end)

  it("TLS 1.3, server with a certificate: an unknown identity falls back to a certificate handshake", function()
    local _, c, sres, cres = pair.connect(
      certs.server_params { psk = function() return nil end },
      certs.client_params { psk = as_alice })
    assert.is_true(sres.ok)
    assert.is_true(cres.ok)
    assert.is_truthy(c:getpeercertificate())
  end)

  it("bad psk parameters: 'invalid PSK configuration', from Lua and from C", function()
    local cases = {
      { mode = "client", psk = "key" },
      { mode = "client", psk = { callback = as_alice } },
      { mode = "server", psk = 1 },
      { mode = "server", psk = { hint = "h" } },
      { mode = "server", psk = { hint = 1, callback = alice_key } },
    }
    for _, params in ipairs(cases) do
      params.protocol = "any"
      local ctx, err = ssl.newcontext(params)
      assert.is_nil(ctx)
      assert.equal("invalid PSK configuration", err)
    end
    local ctx = assert(context.create("any"))
    assert.same({ false, "invalid PSK configuration" }, { context.setclientpskcb(ctx, "x") })
    assert.same({ false, "invalid PSK configuration" }, { context.setserverpskcb(ctx) })
  end)

  it("a bad identity hint is reported", function()
    local ctx = assert(context.create("any"))
    assert.same({ true }, { context.setpskhint(ctx, ("h"):rep(256)) })
    assert.same({ false, "invalid PSK identity hint (data length too long)" },
                { context.setpskhint(ctx, ("h"):rep(257)) })
    assert.same({ false, "invalid PSK identity hint (embedded zero)" },
                { context.setpskhint(ctx, "a\0b") })
    assert.same({ false, "invalid PSK identity hint (string expected, got number)" },
                { context.setpskhint(ctx, 1) })
  end)

  it("the PSK functions on a closed context: false, 'closed'", function()
    local ctx = assert(context.create("any"))
    getmetatable(ctx).__close(ctx)
    assert.same({ false, "closed" }, { context.setclientpskcb(ctx, as_alice) })
    assert.same({ false, "closed" }, { context.setserverpskcb(ctx, alice_key) })
    assert.same({ false, "closed" }, { context.setpskhint(ctx, "h") })
  end)

  describe("with the openssl tools", function()
    after_each(helpers.stop_all)

    local function s_server_args(protocol, extra)
      local args = { "-psk", KEYHEX, "-psk_identity", "alice" }
      if protocol == "tlsv1_2" then
        args[#args + 1] = "-tls1_2"
      else
        args[#args + 1] = "-tls1_3"
      end
      for _, a in ipairs(extra or {}) do args[#args + 1] = a end
      return args
    end

    for _, protocol in ipairs { "tlsv1_2", "tlsv1_3" } do
      it(VERSION[protocol] .. ": our client against s_server -psk -nocert", function()
        local defer = helpers.cleanup(finally)
        local srv = defer(openssl.s_server({ nocert = true, naccept = 1,
                                             args = s_server_args(protocol, { "-psk_hint", "tool-hint" }) }))
        local hint
        local conn, ok, err = openssl.connect(defer, srv, psk_client(protocol, function(h)
          hint = h or false
          return as_alice()
        end))
        assert.same({ true }, { ok, err })
        assert.equal(VERSION[protocol], conn:info("protocol"))
        assert.equal(protocol == "tlsv1_2" and "tool-hint" or false, hint)
        assert(conn:send("hello from sslua\n"))
        assert.is_true((srv:wait_output("hello from sslua", 10, true)))
      end)

      -- s_server's TLS 1.2 callback only warns about an identity it does not
      -- expect and hands out its key anyway; its TLS 1.3 lookup refuses it.
      it(VERSION[protocol] .. ": s_server and our client's wrong identity", function()
        local defer = helpers.cleanup(finally)
        local srv = defer(openssl.s_server({ nocert = true, naccept = 1, args = s_server_args(protocol) }))
        local _, ok, err = openssl.connect(defer, srv, psk_client(protocol, function() return "mallory", KEY end))
        if protocol == "tlsv1_2" then
          assert.is_true(ok, err)
          assert.is_true((srv:wait_output("client identity not what we expected (got 'mallory'", 10, true)))
        else
          assert.is_false(ok)
          assert.equal(SERVER_FAILED[protocol], err)
        end
      end)

      it(VERSION[protocol] .. ": s_client -psk against our server", function()
        local defer = helpers.cleanup(finally)
        local args = { "-psk", KEYHEX, "-psk_identity", "alice",
                       protocol == "tlsv1_2" and "-tls1_2" or "-tls1_3" }
        if protocol == "tlsv1_2" then args[#args + 1] = "-cipher"; args[#args + 1] = PSK_CIPHER end
        local identity
        local conn, ok, err, cli = openssl.accept_s_client(defer,
          { cafile = false, args = args, stdin = "ping from s_client\n", ign_eof = true },
          psk_server(protocol, function(id)
            identity = id
            return alice_key(id)
          end))
        assert.same({ true }, { ok, err })
        assert.equal("alice", identity)
        assert.equal(VERSION[protocol], conn:info("protocol"))
        assert.equal("ping from s_client", conn:receive())
        conn:close()
        local info = openssl.report(cli)
        assert.equal(VERSION[protocol], info.protocol)
        if protocol == "tlsv1_2" then assert.equal(PSK_CIPHER, info.cipher) end
      end)
    end
  end)
end)
