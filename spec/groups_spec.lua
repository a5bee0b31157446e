-- Key exchange groups: dhparam (DH parameters for DHE suites), curve and
-- curveslist (named groups for ECDHE and the TLS 1.3 key share).
--
-- Which group a handshake used is read from the openssl tools as an
-- independent oracle: s_client prints the server's ephemeral key ("Server
-- Temp Key: ECDH, secp384r1, 384 bits", "DH, 3072 bits"; "Peer Temp Key"
-- from OpenSSL 3.5 on, openssl.parse reads both), s_server the groups the
-- client offered ("Supported groups: secp384r1").
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local alerts  = require "spec.helpers.alerts"

local context = require "ssl.context"

local DHE = "DHE-RSA-AES128-GCM-SHA256"

local function dh2048() return certs.read("dh2048.pem") end

local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

-- PEM DH parameters of the RFC 7919 group ffdhe3072 (larger than what
-- OpenSSL's automatic choice gives an RSA-2048 server, so s_client shows
-- whose parameters were used).
local ffdhe3072
local function dh3072()
  ffdhe3072 = ffdhe3072 or sh(openssl.bin .. " genpkey -genparam -algorithm DH -pkeyopt group:ffdhe3072 2>/dev/null")
  assert(ffdhe3072:find("BEGIN DH PARAMETERS", 1, true), "openssl genpkey gave no DH parameters")
  return ffdhe3072
end

local function server(overrides) return certs.server_params(overrides) end
local function client(overrides)
  return certs.client_params(certs.merge({ key = certs.NIL, certificate = certs.NIL }, overrides))
end

-- Our server (params) against `openssl s_client` (opts.args extra): our
-- handshake result and s_client's full output.
local function serve_s_client(defer, params, args)
  local listener = assert(socket.bind("127.0.0.1", 0))
  local _, port = listener:getsockname()
  local cli = defer(openssl.s_client({ port = port, servername = "localhost", args = args }))
  listener:settimeout(10)
  local tcp = assert(listener:accept())
  listener:close()
  local conn = assert(ssl.wrap(tcp, params))
  conn:settimeout(10)
  local ok, err = conn:dohandshake()
  conn:close()
  assert(cli:wait(10))
  return ok, err, cli:output()
end

-- Our client (params) against an `openssl s_server` (opts.args extra);
-- returns our handshake result and s_server's output once it finished.
local function connect_s_server(defer, params, args)
  local srv = defer(openssl.s_server({ naccept = 1, args = args }))
  local tcp = socket.tcp()
  tcp:settimeout(10)
  assert(tcp:connect("127.0.0.1", srv.port))
  local conn = assert(ssl.wrap(tcp, params))
  conn:settimeout(10)
  local ok, err = conn:dohandshake()
  if ok then assert(conn:send("hello\n")) end
  conn:close()
  srv:wait(10)
  return ok, err, srv:output()
end

local function temp_key(output)
  return openssl.parse(output).temp_key
end

describe("dhparam", function()
  it("calls the function once, at once, with LuaSec's arguments (false, 2048)", function()
    local calls = {}
    local ctx, err = ssl.newcontext(server { dhparam = function(...)
      calls[#calls + 1] = table.pack and table.pack(...) or { n = select("#", ...), ... }
      return dh2048()
    end })
    assert.is_nil(err)
    assert.is_userdata(ctx)
    assert.equal(1, #calls)
    assert.equal(2, calls[1].n)
    assert.is_false(calls[1][1])
    assert.equal(2048, calls[1][2])
    -- handshakes do not call it again
    local _, _, sres, cres = pair.connect(ctx, client { protocol = "tlsv1_2" })
    assert.is_true(sres.ok)
    assert.is_true(cres.ok)
    assert.equal(1, #calls)
  end)

  it("makes DHE work on TLS 1.2 with the parameters given", function()
    local _, c, sres, cres = pair.connect(
      server { protocol = "tlsv1_2", ciphers = DHE, dhparam = dh2048 },
      client { protocol = "tlsv1_2" })
    assert.same({ ok = true }, sres)
    assert.same({ ok = true }, cres)
    assert.equal(DHE, c:info("cipher"))
    assert.equal("DH", c:info("key"))
  end)

  it("without dhparam a DHE-only server has no usable suite", function()
    local _, _, sres, cres = pair.connect(
      server { protocol = "tlsv1_2", ciphers = DHE },
      client { protocol = "tlsv1_2" })
    assert.same({ ok = false, err = "no shared cipher" }, sres)
    assert.same({ ok = false, err = alerts.received("handshake failure") }, cres)
  end)

  it("nil from the function keeps OpenSSL's automatic DH parameters", function()
    local called = false
    local _, c, sres, cres = pair.connect(
      server { protocol = "tlsv1_2", ciphers = DHE,
               dhparam = function() called = true; return nil end },
      client { protocol = "tlsv1_2" })
    assert.is_true(called)
    assert.is_true(sres.ok)
    assert.is_true(cres.ok)
    assert.equal(DHE, c:info("cipher"))
  end)

  it("the parameters returned are the ones a peer sees (ffdhe3072 -> DH 3072 bits)", function()
    local defer = helpers.cleanup(finally)
    local ok, err, out = serve_s_client(defer,
      server { protocol = "tlsv1_2", ciphers = DHE, dhparam = dh3072 },
      { "-tls1_2", "-cipher", DHE })
    assert.is_nil(err)
    assert.is_true(ok)
    assert.equal("DH, 3072 bits", temp_key(out))
    assert.equal(DHE, openssl.parse(out).cipher)
    -- and the automatic choice for this RSA-2048 server is smaller
    ok, err, out = serve_s_client(defer,
      server { protocol = "tlsv1_2", ciphers = DHE, dhparam = function() end },
      { "-tls1_2", "-cipher", DHE })
    assert.is_true(ok, err)
    assert.equal("DH, 2048 bits", temp_key(out))
  end)

  it("a Lua error in the function: false, 'invalid DH parameters (<message>)'", function()
    local ctx, err = ssl.newcontext(server { dhparam = function() error("no params today") end })
    assert.is_nil(ctx)
    assert.matches("^invalid DH parameters %(.*no params today%)$", err)
    ctx, err = ssl.newcontext(server { dhparam = function() error("plain", 0) end })
    assert.is_nil(ctx)
    assert.equal("invalid DH parameters (plain)", err)
    ctx, err = ssl.newcontext(server { dhparam = function() error({}) end })
    assert.is_nil(ctx)
    assert.equal("invalid DH parameters ((error object is a table value))", err)
  end)

  it("a bad PEM: false, 'invalid DH parameters (<OpenSSL reason>)'", function()
    local cases = {
      { "garbage", "invalid DH parameters (unsupported)" },
      { "-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n",
        "invalid DH parameters (unsupported)" },
      { certs.read("server-rsa.pem"), "invalid DH parameters (unsupported)" },
      { "", "invalid DH parameters (unsupported)" },
    }
    for _, case in ipairs(cases) do
      local ctx, err = ssl.newcontext(server { dhparam = function() return case[1] end })
      assert.is_nil(ctx)
      assert.equal(case[2], err)
    end
  end)

  it("parameters that are not DH, or too weak for the security level, are refused", function()
    local ec = sh(openssl.bin .. " ecparam -name prime256v1 2>/dev/null")
    local ctx, err = ssl.newcontext(server { dhparam = function() return ec end })
    assert.is_nil(ctx)
    assert.equal("invalid DH parameters (not DH parameters (EC))", err)
    -- 1024 bits (DSA-style generation, fast: X9.42 DH), below level 2
    local weak = sh(openssl.bin .. " dhparam -dsaparam 1024 2>/dev/null")
    assert(weak:find("DH PARAMETERS", 1, true))
    ctx, err = ssl.newcontext(server { dhparam = function() return weak end })
    assert.is_nil(ctx)
    assert.equal("invalid DH parameters (dh key too small)", err)
  end)

  it("a result of the wrong type: false, 'invalid DH parameters (string expected, got T)'", function()
    local ctx, err = ssl.newcontext(server { dhparam = function() return 2048 end })
    assert.is_nil(ctx)
    assert.equal("invalid DH parameters (string expected, got number)", err)
    ctx, err = ssl.newcontext(server { dhparam = function() return {} end })
    assert.is_nil(ctx)
    assert.equal("invalid DH parameters (string expected, got table)", err)
  end)

  it("a dhparam that is not a function: 'invalid DH parameter type'", function()
    for _, v in ipairs { "pem", 1, true, {} } do
      local ctx, err = ssl.newcontext(server { dhparam = v })
      assert.is_nil(ctx)
      assert.equal("invalid DH parameter type", err)
    end
    -- and the C function itself returns it rather than raising
    local ctx = assert(context.create("any"))
    assert.same({ false, "invalid DH parameter type" }, { context.setdhparam(ctx, "x") })
  end)

  it("on a closed context: false, 'closed'", function()
    local ctx = assert(context.create("any"))
    getmetatable(ctx).__close(ctx)
    assert.same({ false, "closed" }, { context.setdhparam(ctx, dh2048) })
  end)
end)

describe("curve", function()
  for _, name in ipairs { "P-256", "prime256v1", "secp384r1", "P-521", "X25519", "X448", "ffdhe2048" } do
    it("accepts the single group " .. name, function()
      local ctx, err = ssl.newcontext(client { curve = name })
      assert.is_nil(err)
      assert.is_userdata(ctx)
    end)
  end

  it("accepts a colon list (LuaSec rejects lists)", function()
    local ctx, err = ssl.newcontext(client { curve = "X25519:P-256:ffdhe2048" })
    assert.is_nil(err)
    assert.is_userdata(ctx)
  end)

  it("an unknown name: false, \"elliptic curve 'X' not supported\"", function()
    local ctx, err = ssl.newcontext(client { curve = "bogus" })
    assert.is_nil(ctx)
    assert.equal("elliptic curve 'bogus' not supported", err)
  end)

  it("an unknown name in a list: the message names that element", function()
    local ctx, err = ssl.newcontext(client { curve = "P-256:bogus:X25519" })
    assert.is_nil(ctx)
    assert.equal("elliptic curve 'bogus' not supported", err)
    ctx, err = ssl.newcontext(client { curve = "P-256:X25519:nope" })
    assert.is_nil(ctx)
    assert.equal("elliptic curve 'nope' not supported", err)
  end)

  -- Which of these lists OpenSSL refuses depends on its version (3.5
  -- accepts a duplicate and the empty list; 3.0 refuses all four), so
  -- openssl s_client -groups of the same OpenSSL says; ":" is refused by all.
  it("a list OpenSSL refuses though each name is fine names the whole list", function()
    local refused = 0
    for _, list in ipairs { "P-256:P-256", "P-256::X25519", "", ":" } do
      local ctx, err = ssl.newcontext(client { curve = list })
      if openssl.accepts_groups(list) then
        assert.is_nil(err, list)
        assert.is_userdata(ctx, list)
      else
        refused = refused + 1
        assert.is_nil(ctx, list)
        assert.equal("elliptic curve '" .. list .. "' not supported", err)
      end
    end
    assert.is_true(refused > 0, "this OpenSSL refuses none of the lists")
  end)

  it("a failed call leaves the groups the context had", function()
    local ctx = assert(context.create("any"))
    assert.is_true(context.setmode(ctx, "server"))
    assert.is_true(context.loadkey(ctx, certs.path("server-rsa.key")))
    assert.is_true(context.loadcert(ctx, certs.path("server-rsa-chain.pem")))
    assert.is_true(context.setcurve(ctx, "P-384"))
    assert.same({ false, "elliptic curve 'bogus' not supported" },
                { context.setcurve(ctx, "X25519:bogus") })
    -- still P-384 only: a client offering X25519 alone finds no group
    local _, _, sres, cres = pair.connect(ctx, client { curveslist = "X25519" })
    assert.same({ ok = false, err = "no suitable key share" }, sres)
    assert.is_false(cres.ok)
  end)

  it("a non-string value is reported, not raised", function()
    local ctx, err = ssl.newcontext(client { curve = 25519 })
    assert.is_nil(ctx)
    assert.equal("invalid curve parameter (string expected, got number)", err)
    local c = assert(context.create("any"))
    assert.same({ false, "elliptic curve '25519' not supported" }, { context.setcurve(c, 25519) })
  end)

  it("a server's single curve is the group a peer gets", function()
    local defer = helpers.cleanup(finally)
    local ok, err, out = serve_s_client(defer, server { curve = "P-521" }, {})
    assert.is_nil(err)
    assert.is_true(ok)
    assert.equal("ECDH, secp521r1, 521 bits", temp_key(out))
  end)

  it("a server's curve list: the group is one of the list", function()
    local defer = helpers.cleanup(finally)
    local ok, err, out = serve_s_client(defer, server { curve = "X448:P-521" }, {})
    assert.is_true(ok, err)
    local key = temp_key(out)
    assert.is_truthy(key == "X448, 448 bits" or key == "ECDH, secp521r1, 521 bits", key)
  end)

  it("on a closed context: false, 'closed'", function()
    local ctx = assert(context.create("any"))
    getmetatable(ctx).__close(ctx)
    assert.same({ false, "closed" }, { context.setcurve(ctx, "P-256") })
    assert.same({ false, "closed" }, { context.setcurveslist(ctx, "P-256") })
  end)
end)

describe("curveslist", function()
  for _, list in ipairs { "P-256", "X25519:P-256", "X448:secp384r1:prime256v1", "ffdhe2048:ffdhe3072:X25519" } do
    it("accepts " .. list, function()
      local ctx, err = ssl.newcontext(client { curveslist = list })
      assert.is_nil(err)
      assert.is_userdata(ctx)
    end)
  end

  -- An unknown name is refused by every OpenSSL; a duplicate and the empty
  -- list only by some (openssl s_client -groups of the same OpenSSL says).
  it("an unknown name: false, 'unknown elliptic curve in \"LIST\"'", function()
    for _, list in ipairs { "bogus", "P-256:bogus", "P-256:P-256", "" } do
      local ctx, err = ssl.newcontext(client { curveslist = list })
      local accepted = openssl.accepts_groups(list)
      if list:find("bogus", 1, true) then assert.is_false(accepted, list) end
      if accepted then
        assert.is_nil(err, list)
        assert.is_userdata(ctx, list)
      else
        assert.is_nil(ctx, list)
        assert.equal('unknown elliptic curve in "' .. list .. '"', err)
      end
    end
  end)

  it("a non-string value is reported, not raised", function()
    local ctx, err = ssl.newcontext(client { curveslist = { "P-256" } })
    assert.is_nil(ctx)
    assert.equal("invalid curveslist parameter (string expected, got table)", err)
    local c = assert(context.create("any"))
    assert.same({ false, 'unknown elliptic curve in "true"' }, { context.setcurveslist(c, true) })
  end)

  it("wins over curve when both are given", function()
    local defer = helpers.cleanup(finally)
    -- curve is not even looked at: a bad one does not matter
    local ctx, err = ssl.newcontext(client { curve = "bogus", curveslist = "P-256" })
    assert.is_nil(err)
    assert.is_userdata(ctx)
    local ok, out
    ok, err, out = serve_s_client(defer, server { curve = "X25519", curveslist = "P-384" }, {})
    assert.is_true(ok, err)
    assert.equal("ECDH, secp384r1, 384 bits", temp_key(out))
  end)

  it("a client with P-384 against a default server negotiates P-384", function()
    local defer = helpers.cleanup(finally)
    -- our pair: the handshake works
    local _, c, sres, cres = pair.connect(server {}, client { curveslist = "P-384" })
    assert.is_true(sres.ok)
    assert.is_true(cres.ok)
    assert.equal("TLSv1.3", c:info("protocol"))
    -- s_server sees P-384 as the only group offered, so the only one shared
    local ok, err, out = connect_s_server(defer, client { curveslist = "P-384" }, {})
    assert.is_nil(err)
    assert.is_true(ok)
    assert.matches("Supported groups: secp384r1\n", out, 1, true)
    assert.matches("Shared groups: secp384r1\n", out, 1, true)
    assert.matches("hello", out, 1, true)
    -- and a single curve on the client does the same
    ok, err, out = connect_s_server(defer, client { curve = "P-384" }, {})
    assert.is_true(ok, err)
    assert.matches("Shared groups: secp384r1\n", out, 1, true)
  end)

  it("a server with P-384 against a default s_client: the key exchange is P-384", function()
    local defer = helpers.cleanup(finally)
    local ok, err, out = serve_s_client(defer, server { curveslist = "P-384" }, {})
    assert.is_nil(err)
    assert.is_true(ok)
    assert.equal("ECDH, secp384r1, 384 bits", temp_key(out))
    assert.equal("TLSv1.3", openssl.parse(out).protocol)
  end)

  it("no group in common fails the handshake on both sides", function()
    local _, _, sres, cres = pair.connect(server { curveslist = "X25519" }, client { curveslist = "P-384" })
    assert.same({ ok = false, err = "no suitable key share" }, sres)
    assert.same({ ok = false, err = alerts.received("handshake failure") }, cres)
    _, _, sres, cres = pair.connect(server { curve = "X25519" }, client { curve = "P-384" })
    assert.same({ ok = false, err = "no suitable key share" }, sres)
    assert.same({ ok = false, err = alerts.received("handshake failure") }, cres)
  end)
end)
