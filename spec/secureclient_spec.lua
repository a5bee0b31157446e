-- ssl.secureclient: client parameters that verify the server against the
-- system store and check its name, TLS 1.2 at least. Against our own server
-- (pair) and `openssl s_server`.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local identity = require "spec.helpers.identity"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local oracle  = require "spec.helpers.x509oracle"

local C = certs.path
local run, MISMATCH = identity.run, identity.MISMATCH
local WRONG = { mode = "server", key = C "wronghost.key", certificate = C "wronghost-chain.pem" }

describe("ssl.secureclient", function()
  it("returns fresh client parameters that verify", function()
    local a, b = ssl.secureclient(), ssl.secureclient()
    assert.same({ mode = "client", protocol = { min = "tlsv1_2" }, verify = "peer",
                  cafile = "system", options = { "all", "no_compression" } }, a)
    assert.are_not.equal(a.protocol, b.protocol)
    assert.are_not.equal(a.options, b.options)
    local c = ssl.secureclient { verifyhost = "localhost", cafile = C "ca.pem" }
    assert.equal("localhost", c.verifyhost)
    assert.equal(C "ca.pem", c.cafile)
    assert.same({ nil, "invalid overrides parameter (table expected, got string)" },
                { ssl.secureclient("x") })
  end)

  it("checks the server's certificate and name", function()
    local defer = helpers.cleanup(finally)
    -- the system store does not hold the test root
    assert.same({ ok = false, err = oracle.handshake_message {
                  leaf = C "server-rsa.pem", untrusted = C "int-ca.pem", cafile = false } },
                (run(defer, nil, ssl.secureclient { verifyhost = "localhost" })))
    assert.same({ ok = true }, (run(defer, nil, ssl.secureclient {
      verifyhost = "localhost", cafile = C "ca.pem" })))
    assert.same({ ok = false, err = MISMATCH:format("localhost") }, (run(defer, WRONG,
      ssl.secureclient { verifyhost = "localhost", cafile = C "ca.pem" })))
  end)

  it("refuses TLS 1.1 and older, against openssl s_server", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server { naccept = 1, args = { "-tls1_1" } })
    local _, ok, err = openssl.connect(defer, srv, ssl.secureclient { verifyhost = "localhost", cafile = C "ca.pem" }, nil, 5)
    assert.is_false(ok)
    assert.is_string(err)
  end)
end)
