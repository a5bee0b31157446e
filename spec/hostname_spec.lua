-- verifyhost: the newcontext key and conn:setverifyhost - the server's
-- certificate must carry the name (DNS or IP SANs, no partial wildcards),
-- and a mismatch names the name. Against our own server (pair) and
-- `openssl s_server`.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local identity = require "spec.helpers.identity"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local oracle  = require "spec.helpers.x509oracle"

local C = certs.path
local SERVER, client, run, MISMATCH = identity.SERVER, identity.client, identity.run, identity.MISMATCH

describe("verifyhost", function()
  after_each(helpers.stop_all)

  it("accepts a name the certificate carries, in DNS or IP SANs", function()
    local defer = helpers.cleanup(finally)
    for _, name in ipairs { "localhost", "LOCALHOST", "server.sslua.test", "127.0.0.1", "::1" } do
      local cres, c = run(defer, nil, client { verifyhost = name })
      assert.same({ ok = true }, cres, name)
      assert.is_true(c:getpeerverification())
    end
  end)

  it("fails the handshake on another name, saying which", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client { verifyhost = "other.sslua.test" })
    assert.same({ ok = false, err = MISMATCH:format("other.sslua.test") }, cres)
  end)

  it("matches IP literals against IP SANs only", function()
    local defer = helpers.cleanup(finally)
    assert.same({ ok = false, err = 'certificate verify failed (IP address mismatch: "10.1.2.3")' },
                (run(defer, nil, client { verifyhost = "10.1.2.3" })))
    assert.same({ ok = false, err = 'certificate verify failed (IP address mismatch: "::2")' },
                (run(defer, nil, client { verifyhost = "::2" })))
  end)

  it("refuses partial wildcards and names beside the certificate's", function()
    local defer = helpers.cleanup(finally)
    for _, name in ipairs { "sslua.test", "x.server.sslua.test", "*.sslua.test", "local*" } do
      local cres = run(defer, nil, client { verifyhost = name })
      assert.same({ ok = false, err = MISMATCH:format(name) }, cres)
    end
  end)

  it("leaves every other verify error to OpenSSL's words", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client { verifyhost = "localhost", cafile = C "rogue-ca.pem" })
    assert.same({ ok = false, err = oracle.handshake_message {
      leaf = C "server-rsa.pem", untrusted = C "int-ca.pem", cafile = C "rogue-ca.pem" } }, cres)
  end)

  it("under verify = 'none' only shows in getpeerverification()", function()
    local defer = helpers.cleanup(finally)
    local cres, c = run(defer, nil, client { verify = "none", verifyhost = "other.sslua.test" })
    assert.same({ ok = true }, cres)
    assert.same({ false, "hostname mismatch" }, { c:getpeerverification() })
  end)

  it("is recorded per depth by lsec_continue", function()
    local defer = helpers.cleanup(finally)
    local cres, c = run(defer, nil, client { verifyhost = "nope.test", verifyext = "lsec_continue" })
    assert.same({ ok = true }, cres)
    assert.same({ false, { [1] = { "hostname mismatch" } } }, { c:getpeerverification() })
  end)

  it("conn:setverifyhost overrides the context, and false removes the check", function()
    local defer = helpers.cleanup(finally)
    local ctx = assert(ssl.newcontext(client { verifyhost = "other.sslua.test" }))
    assert.same({ ok = true }, (run(defer, nil, ctx, function(_, c)
      assert.is_true(c:setverifyhost("localhost"))
    end)))
    assert.same({ ok = true }, (run(defer, nil, ctx, function(_, c)
      assert.is_true(c:setverifyhost(false))
    end)))
    assert.same({ ok = false, err = MISMATCH:format("other.sslua.test") }, (run(defer, nil, ctx)))
    -- the override is per connection: the context still checks its name
    assert.same({ ok = false, err = 'certificate verify failed (IP address mismatch: "10.0.0.1")' },
                (run(defer, nil, ctx, function(_, c) c:setverifyhost("10.0.0.1") end)))
  end)

  it("checks a name other than the SNI sent", function()
    local defer = helpers.cleanup(finally)
    local cres, _, s = run(defer, nil, client(), function(_, c)
      assert.is_true(c:sni("server.sslua.test"))
      assert.is_true(c:setverifyhost("localhost"))
    end)
    assert.same({ ok = true }, cres)
    assert.equal("server.sslua.test", s:getsniname())
    cres = run(defer, nil, client(), function(_, c)
      c:sni("localhost")
      c:setverifyhost("wrong.sslua.test")
    end)
    assert.same({ ok = false, err = MISMATCH:format("wrong.sslua.test") }, cres)
  end)

  it("rejects bad values with nil, message and never raises", function()
    local cases = {
      { 42, "invalid verifyhost parameter (string expected, got number)" },
      { true, "invalid verifyhost parameter (string expected, got boolean)" },
      { "", "invalid verifyhost (empty string)" },
      { ("a"):rep(254), "invalid verifyhost (length > 253)" },
      { "a\0b", "invalid verifyhost (contains a zero byte)" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { ssl.newcontext(client { verifyhost = case[1] }) })
    end
    assert.is_truthy(ssl.newcontext(client { verifyhost = false }))
    local s, c = pair.wrap(SERVER, client())
    finally(function() s:close(); c:close() end)
    assert.same({ nil, "invalid verifyhost (string expected, got number)" }, { c:setverifyhost(1) })
    assert.same({ nil, "invalid verifyhost (empty string)" }, { c:setverifyhost("") })
    assert.same({ nil, "invalid verifyhost (string expected, got no value)" }, { c:setverifyhost() })
  end)

  it("conn:setverifyhost answers in every state", function()
    local defer = helpers.cleanup(finally)
    local cres, c = run(defer, nil, client())
    assert.is_true(cres.ok)
    assert.same({ nil, "handshake already started" }, { c:setverifyhost("localhost") })
    cres, c = run(defer, nil, client { cafile = C "rogue-ca.pem" })
    assert.is_false(cres.ok)
    assert.same({ nil, "handshake already started" }, { c:setverifyhost("localhost") })
    c:close()
    assert.same({ nil, "closed" }, { c:setverifyhost("localhost") })
  end)

  it("ssl.context.setverifyhost on a closed context", function()
    local ctx = assert(ssl.newcontext(client()))
    getmetatable(ctx).__gc(ctx)
    assert.same({ false, "closed" }, { require("ssl.context").setverifyhost(ctx, "x") })
  end)

  it("against openssl s_server with a certificate for another host", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server { leaf = "wronghost", naccept = 2 })
    local _, ok, err = openssl.connect(defer, srv, client { verifyhost = "localhost" }, nil, 5)
    assert.same({ false, MISMATCH:format("localhost") }, { ok, err })
    local conn
    conn, ok, err = openssl.connect(defer, srv, client(), function(c) c:setverifyhost("wrong.sslua.test") end, 5)
    assert.same({ true }, { ok, err })
    assert.is_true(conn:getpeerverification())
  end)
end)
