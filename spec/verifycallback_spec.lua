-- verifycallback: a Lua function that sees each certificate of the chain
-- with OpenSSL's verdict, depth and error, and decides. On a client against
-- our own server (pair), on a server against `openssl s_client`.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local identity = require "spec.helpers.identity"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local oracle  = require "spec.helpers.x509oracle"

local C = certs.path
local client, run = identity.client, identity.run

describe("verifycallback", function()
  after_each(helpers.stop_all)

  it("sees each certificate with ok, depth and OpenSSL's error", function()
    local defer = helpers.cleanup(finally)
    local seen = {}
    local cres = run(defer, nil, client {
      verifyhost = "other.sslua.test",
      verifycallback = function(ok, cert, depth, err)
        seen[#seen + 1] = { ok, tostring(cert):match("^X509 certificate") ~= nil, depth, err }
        return true
      end,
    })
    assert.same({ ok = true }, cres)
    assert.same({ false, true, 0, "hostname mismatch" }, seen[1])
    assert.same({ { true, true, 2 }, { true, true, 1 }, { true, true, 0 } },
                { seen[2], seen[3], seen[4] })
  end)

  it("can accept what OpenSSL rejects; getpeerverification keeps OpenSSL's error", function()
    local defer = helpers.cleanup(finally)
    local cres, c = run(defer, nil, client {
      cafile = C "rogue-ca.pem", verifycallback = function() return true end })
    assert.same({ ok = true }, cres)
    assert.same({ false, "unable to get local issuer certificate" }, { c:getpeerverification() })
  end)

  it("false rejects: OpenSSL's application verification failure, where it happened", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client {
      verifycallback = function(_, _, depth) return depth ~= 1 end })
    assert.same({ ok = false, err = "certificate verify failed (application verification failure at depth 1: "
                                    .. oracle.subject(certs.read "int-ca.pem") .. ")" }, cres)
  end)

  it("an error or a non-boolean rejects, with the reason in the message", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client { verifycallback = function() error("no trust", 0) end })
    assert.same({ ok = false, err = "certificate verify failed (callback: no trust)" }, cres)
    cres = run(defer, nil, client { verifycallback = function() error({}) end })
    assert.same({ ok = false, err = "certificate verify failed (callback: (error object is not a string))" }, cres)
    cres = run(defer, nil, client { verifycallback = function() return "yes" end })
    assert.same({ ok = false, err = "certificate verify failed (callback: boolean expected, got string)" }, cres)
    cres = run(defer, nil, client { verifycallback = function() end })
    assert.same({ ok = false, err = "certificate verify failed (callback: boolean expected, got nil)" }, cres)
  end)

  it("works with lsec_continue: its rejections are recorded and the handshake goes on", function()
    local defer = helpers.cleanup(finally)
    local cres, c = run(defer, nil, client {
      verifyext = "lsec_continue",
      verifycallback = function(ok, _, depth) return ok and depth ~= 1 end })
    assert.same({ ok = true }, cres)
    assert.same({ false, { [2] = { "application verification failure" } } },
                { c:getpeerverification() })
  end)

  it("is refused when not a function", function()
    assert.same({ nil, "invalid verifycallback parameter (function expected, got string)" },
                { ssl.newcontext(client { verifycallback = "x" }) })
    local ctx = assert(ssl.newcontext(client()))
    assert.same({ false, "invalid verifycallback (function expected, got number)" },
                { require("ssl.context").setverifycallback(ctx, 1) })
  end)

  it("runs on a server for client certificates, against openssl s_client", function()
    local defer = helpers.cleanup(finally)
    local depths = {}
    local ctx = assert(ssl.newcontext {
      mode = "server", key = C "server-rsa.key", certificate = C "server-rsa-chain.pem",
      cafile = C "ca.pem", verify = { "peer", "fail_if_no_peer_cert" },
      verifycallback = function(ok, _, depth) depths[#depths + 1] = depth; return ok and depth > 0 end,
    })
    local _, ok, err, cli = openssl.accept_s_client(defer, { leaf = "client-rsa", stdin = "" }, ctx, nil, 5)
    assert.same({ false, "certificate verify failed (application verification failure)" }, { ok, err })
    assert.same({ 2, 1, 0 }, depths)
    cli:wait(5)
  end)
end)
