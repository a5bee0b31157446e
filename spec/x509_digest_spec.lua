-- x509_digest_spec: cert:digest(alg) refuses digests that make no
-- fingerprint - unknown names, and "null", which OpenSSL knows but whose
-- output is zero bytes long - with `nil, "digest algorithm not supported
-- (alg)"`, never an empty string.
local x509  = require "ssl.x509"
local certs = require "spec.helpers.certs"

describe("x509:digest and digests without output", function()
  local cert
  setup(function()
    certs.ensure()
    cert = assert(x509.load(certs.read("ca.pem")))
  end)

  for _, alg in ipairs { "null", "NULL", "no-such-digest" } do
    it(alg .. " is not supported", function()
      assert.same({ nil, "digest algorithm not supported (" .. alg .. ")" }, { cert:digest(alg) })
    end)
  end

  it("a real digest still works after a refused one", function()
    assert.is_nil(cert:digest("null"))
    assert.equal(64, #assert(cert:digest("sha256")))
  end)
end)
