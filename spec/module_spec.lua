-- The module table and its submodules, as LuaSec programs reach them.
local ssl = require "ssl"

describe("require 'ssl'", function()
  it("is sslua, with LuaSec's API level first in _VERSION", function()
    assert.equal("sslua", ssl._IMPLEMENTATION)
    assert.matches("^1%.3%.2%-sslua%-%d+%.%d+%.%d+$", ssl._VERSION)
    assert.is_string(ssl._COPYRIGHT)
  end)

  it("exposes LuaSec's submodules under their names", function()
    assert.equal(ssl.config, require "ssl.config")
    assert.equal(ssl.x509, require "ssl.x509")
    assert.is_function((require "ssl.core").create)
    assert.is_function((require "ssl.context").create)
    assert.equal(-1, (require "ssl.core").SOCKET_INVALID)
  end)

  it("sets no global", function()
    assert.is_nil(rawget(_G, "ssl"))
  end)

  it("loadcertificate is ssl.x509.load: PEM in, certificate out; garbage gives a message", function()
    local certs = require "spec.helpers.certs"
    local pem = certs.read "server-rsa.pem"
    local cert = assert(ssl.loadcertificate(pem))
    assert.equal(pem, cert:pem())
    assert.equal(cert, ssl.x509.load(pem))
    local none, err = ssl.loadcertificate("not a certificate")
    assert.is_nil(none)
    assert.matches("^error loading certificate %(.+%)$", err)
  end)

  it("ssl.config reports the OpenSSL it runs on", function()
    assert.matches("^OpenSSL 3%.", ssl.config.openssl)
    assert.is_true(ssl.config.algorithms.ec)
    assert.is_true(ssl.config.curves["P-256"])
    assert.is_true(ssl.config.curves.X25519)
  end)

  it("ssl.config.curves lists exactly names the curve parameter accepts", function()
    local n = 0
    for name, v in pairs(ssl.config.curves) do
      assert.is_true(v)
      local ctx, err = ssl.newcontext { mode = "client", curve = name }
      assert.is_nil(err, name)
      assert.is_userdata(ctx)
      n = n + 1
    end
    assert.is_true(n >= 10)
    assert.is_nil(ssl.config.curves.secp112r1)   -- built in, but no TLS group
  end)

  it("ssl.config.capabilities has LuaSec's shape", function()
    assert.same({ alpn = true, curves_list = true, ecdh_auto = true, psk = true,
                  dane = { no_ee_namechecks = true } }, ssl.config.capabilities)
  end)
end)
