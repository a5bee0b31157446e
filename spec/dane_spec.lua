-- DANE: the `dane` parameter, conn:setdane and conn:settlsa - TLSA records
-- of every usage the module supports, name checks, bad records, and the
-- calls in every connection state. Peers: our own (spec.helpers.pair) and
-- openssl s_server. TLSA digests are computed with the openssl command
-- line, an oracle independent of the module.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local oracle  = require "spec.helpers.x509oracle"
local alerts  = require "spec.helpers.alerts"

local context = require "ssl.context"

local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

local function der_of(pem_name)
  return sh(openssl.bin .. " x509 -in '" .. certs.path(pem_name) .. "' -outform DER")
end

-- SHA-256 of a certificate's SubjectPublicKeyInfo (selector 1, mtype 1).
local function spki_sha256(pem_name)
  return sh(openssl.bin .. " x509 -in '" .. certs.path(pem_name) .. "' -pubkey -noout | " ..
            openssl.bin .. " pkey -pubin -outform DER | " .. openssl.bin .. " dgst -sha256 -binary")
end

local function cert_sha256(pem_name)
  return sh(openssl.bin .. " x509 -in '" .. certs.path(pem_name) .. "' -outform DER | " ..
            openssl.bin .. " dgst -sha256 -binary")
end

-- A client trusting nothing but DANE: verify = "peer", no cafile.
local function dane_client(dane, overrides)
  if dane == nil then dane = true end
  return certs.client_params(certs.merge({ cafile = certs.NIL, key = certs.NIL,
                                           certificate = certs.NIL, dane = dane }, overrides))
end

-- Our server and a DANE client with one TLSA record for basedomain.
local function dane_connect(record, basedomain, dane, overrides)
  local s, c = pair.wrap(certs.server_params(), dane_client(dane, overrides))
  assert.same({ true }, { c:setdane(basedomain or "localhost") })
  assert.same({ true }, { c:settlsa(record[1], record[2], record[3], record[4]) })
  local sres, cres = pair.handshake(s, c)
  return s, c, sres, cres
end

describe("dane", function()
  it("3 1 1 with the server key's digest authenticates the server without any CA", function()
    local spki = spki_sha256("server-rsa.pem")
    assert.equal(32, #spki)
    local _, c, sres, cres = dane_connect({ 3, 1, 1, spki })
    assert.same({ ok = true }, sres)
    assert.same({ ok = true }, cres)
    assert.same({ true }, { c:getpeerverification() })
  end)

  it("the same client without the TLSA record fails: nothing else is trusted", function()
    local s, c = pair.wrap(certs.server_params(), dane_client())
    assert.same({ true }, { c:setdane("localhost") })
    local _, cres = pair.handshake(s, c)
    assert.same({ ok = false, err = oracle.handshake_message {
      leaf = certs.path "server-rsa.pem", untrusted = certs.path "int-ca.pem", cafile = false } }, cres)
  end)

  it("3 1 1 with a wrong digest: 'certificate verify failed'", function()
    local _, _, sres, cres = dane_connect({ 3, 1, 1, ("\0"):rep(32) })
    -- DANE's own verify error; openssl verify has no TLSA records to model it
    assert.same({ ok = false, err = "certificate verify failed (no matching DANE TLSA records)" }, cres)
    assert.same({ ok = false, err = alerts.received("bad certificate") }, sres)
  end)

  it("without verify = 'peer' a mismatch is only reported by getpeerverification", function()
    local _, c, _, cres = dane_connect({ 3, 1, 1, ("\0"):rep(32) }, nil, nil, { verify = "none" })
    assert.same({ ok = true }, cres)
    assert.same({ false, "no matching DANE TLSA records" }, { c:getpeerverification() })
  end)

  it("3 0 1 (digest of the whole leaf) works too", function()
    local _, _, _, cres = dane_connect({ 3, 0, 1, cert_sha256("server-rsa.pem") })
    assert.same({ ok = true }, cres)
  end)

  it("2 0 0 with the root CA as trust anchor works", function()
    local _, c, _, cres = dane_connect({ 2, 0, 0, der_of("root-ca.pem") })
    assert.same({ ok = true }, cres)
    assert.same({ true }, { c:getpeerverification() })
  end)

  it("2 1 1 with the intermediate the server sends works", function()
    local _, _, _, cres = dane_connect({ 2, 1, 1, spki_sha256("int-ca.pem") })
    assert.same({ ok = true }, cres)
  end)

  it("2 0 1 with a digest of a root the server does not send fails (OpenSSL needs the full anchor)", function()
    local _, _, _, cres = dane_connect({ 2, 0, 1, cert_sha256("root-ca.pem") })
    assert.same({ ok = false, err = "certificate verify failed (no matching DANE TLSA records at depth 1: "
                                    .. oracle.subject(certs.read "int-ca.pem") .. ")" }, cres)
  end)

  it("the base domain is checked against the certificate's names", function()
    -- DANE sets the name itself (not verifyhost): OpenSSL's plain text
    local _, _, _, cres = dane_connect({ 2, 0, 0, der_of("root-ca.pem") }, "wrong.example")
    assert.same({ ok = false, err = "certificate verify failed (hostname mismatch)" }, cres)
    _, _, _, cres = dane_connect({ 3, 1, 1, spki_sha256("server-rsa.pem") }, "wrong.example")
    assert.same({ ok = false, err = "certificate verify failed (hostname mismatch)" }, cres)
  end)

  it("no_ee_namechecks skips the name check for DANE-EE(3) only", function()
    local flags = { "no_ee_namechecks" }
    local _, _, _, cres = dane_connect({ 3, 1, 1, spki_sha256("server-rsa.pem") }, "wrong.example", flags)
    assert.same({ ok = true }, cres)
    _, _, _, cres = dane_connect({ 2, 0, 0, der_of("root-ca.pem") }, "wrong.example", flags)
    assert.same({ ok = false, err = "certificate verify failed (hostname mismatch)" }, cres)
  end)

  it("authenticates an openssl s_server too", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server({ naccept = 1 }))
    local conn, ok, err = openssl.connect(defer, srv, dane_client(), function(c)
      assert.same({ true }, { c:setdane("localhost") })
      assert.same({ true }, { c:settlsa(3, 1, 1, spki_sha256("server-rsa.pem")) })
    end)
    assert.same({ true }, { ok, err })
    assert.same({ true }, { conn:getpeerverification() })
  end)

  it("dane parameter: true, a flag list, or 'invalid DANE flag (X)'", function()
    assert.is_userdata((ssl.newcontext(dane_client(true))))
    assert.is_userdata((ssl.newcontext(dane_client({}))))
    assert.is_userdata((ssl.newcontext(dane_client({ "no_ee_namechecks" }))))
    local ctx, err = ssl.newcontext(dane_client({ "no_ee_namechecks", "bogus" }))
    assert.is_nil(ctx)
    assert.equal("invalid DANE flag (bogus)", err)
    local c = assert(context.create("any"))
    assert.same({ false, "invalid DANE flag (1)" }, { context.setdane(c, 1) })
    assert.same({ true }, { context.setdane(c) })
    getmetatable(c).__close(c)
    assert.same({ false, "closed" }, { context.setdane(c) })
  end)

  it("setdane and settlsa need DANE on the context", function()
    local _, c = pair.wrap(certs.server_params(), dane_client(false))
    assert.same({ false, "context not dane enabled" }, { c:setdane("localhost") })
    assert.same({ false, "dane not enabled" }, { c:settlsa(3, 1, 1, ("\0"):rep(32)) })
  end)

  it("settlsa reports unusable records and bad arguments", function()
    local _, c = pair.wrap(certs.server_params(), dane_client())
    assert.same({ true }, { c:setdane("localhost") })
    local digest = ("\0"):rep(32)
    local cases = {
      { { 3, 1, 1, "short" }, "dane tlsa bad digest length" },
      { { 4, 1, 1, digest }, "dane tlsa bad certificate usage" },
      { { 3, 2, 1, digest }, "dane tlsa bad selector" },
      { { 3, 1, 9, digest }, "dane tlsa bad matching type" },
      { { 3, 1, 0, "not DER" }, "dane tlsa bad public key" },
      { { "3", 1, 1, digest }, "invalid TLSA usage (3)" },
      { { 3, 1.5, 1, digest }, "invalid TLSA selector (1.5)" },
      { { 3, 1, 256, digest }, "invalid TLSA matching type (256)" },
      { { 3, 1, -1, digest }, "invalid TLSA matching type (-1)" },
      { { 3, 1, 1 }, "invalid TLSA data (string expected, got nil)" },
    }
    for _, case in ipairs(cases) do
      local a = case[1]
      assert.same({ false, case[2] }, { c:settlsa(a[1], a[2], a[3], a[4]) })
    end
    assert.same({ true }, { c:settlsa(3.0, 1, 1, digest) })
    local _, fresh = pair.wrap(certs.server_params(), dane_client())
    assert.same({ false, "invalid DANE base domain (string expected, got nil)" }, { fresh:setdane(nil) })
    assert.same({ false, "invalid DANE base domain (string expected, got number)" }, { fresh:setdane(1) })
  end)

  describe("setdane and settlsa in every connection state", function()
    local record

    before_each(function()
      record = { 3, 1, 1, spki_sha256("server-rsa.pem") }
    end)

    local function both(c)
      return { c:setdane("localhost") }, { c:settlsa(record[1], record[2], record[3], record[4]) }
    end

    it("fresh: accepted", function()
      local _, c = pair.wrap(certs.server_params(), dane_client())
      local a, b = both(c)
      assert.same({ true }, a)
      assert.same({ true }, b)
    end)

    it("handshake in progress: 'handshake already started'", function()
      local _, c = pair.wrap(certs.server_params(), dane_client())
      c:settimeout(0)
      assert.same({ false, "wantread" }, { c:dohandshake() })
      local a, b = both(c)
      assert.same({ false, "handshake already started" }, a)
      assert.same({ false, "handshake already started" }, b)
    end)

    it("connected: 'handshake already started'", function()
      local _, c, _, cres = dane_connect(record)
      assert.is_true(cres.ok)
      local a, b = both(c)
      assert.same({ false, "handshake already started" }, a)
      assert.same({ false, "handshake already started" }, b)
    end)

    it("failed: 'handshake already started'", function()
      local _, c, _, cres = dane_connect({ 3, 1, 1, ("\0"):rep(32) })
      assert.is_false(cres.ok)
      local a, b = both(c)
      assert.same({ false, "handshake already started" }, a)
      assert.same({ false, "handshake already started" }, b)
    end)

    it("closed, before or after a handshake: 'closed' (LuaSec segfaults)", function()
      local _, c = pair.wrap(certs.server_params(), dane_client())
      c:close()
      local a, b = both(c)
      assert.same({ false, "closed" }, a)
      assert.same({ false, "closed" }, b)
      local _, c2, _, cres = dane_connect(record)
      assert.is_true(cres.ok)
      c2:close()
      a, b = both(c2)
      assert.same({ false, "closed" }, a)
      assert.same({ false, "closed" }, b)
      -- after __gc as well
      getmetatable(c2).__gc(c2)
      a, b = both(c2)
      assert.same({ false, "closed" }, a)
      assert.same({ false, "closed" }, b)
    end)
  end)
end)
