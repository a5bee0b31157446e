-- verifyext: lsec_continue (record chain errors per depth and go on),
-- lsec_ignore_purpose (verify as a server certificate whatever the role),
-- crl_check and crl_check_chain (revocation from CRLs in the cafile).
-- Expected outcomes come from one oracle table below; openssl's own
-- `verify` command confirms the scenarios (certs/check.sh).
local ssl   = require "ssl"
local certs = require "spec.helpers.certs"
local pair  = require "spec.helpers.pair"
local oracle = require "spec.helpers.x509oracle"

local C = certs.path

local function server_with(leaf, extra)
  local p = { mode = "server", protocol = "any",
              key = C(leaf .. ".key"), certificate = C(leaf .. "-chain.pem") }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function verifying_client(cafile, verifyext)
  return { mode = "client", protocol = "any", verify = "peer",
           cafile = C(cafile), verifyext = verifyext }
end

-- What a failed handshake says when the server presents `leaf` with its
-- chain: openssl verify's reason for the same chain, trust and CRL checks.
local function failure(leaf, cafile, flags)
  return oracle.handshake_message { leaf = C(leaf .. ".pem"), untrusted = C "int-ca.pem",
    cafile = C(cafile), crl_check = flags == "crl_check", crl_check_all = flags == "crl_check_chain" }
end

-- scenario: server leaf, client cafile, verifyext -> expected client result
-- and, when the handshake goes on, what getpeerverification reports.
local cases = {
  { "good chain, crl_check",        "server-rsa", "ca-crl.pem", { "crl_check" },
    ok = true, verification = { true } },
  { "good chain, crl_check_chain",  "server-rsa", "ca-crl.pem", { "crl_check_chain" },
    ok = true, verification = { true } },
  { "revoked, no CRL flag",         "revoked", "ca-crl.pem", nil,
    ok = true, verification = { true } },
  { "revoked, crl_check",           "revoked", "ca-crl.pem", { "crl_check" },
    ok = false, err = { "revoked", "ca-crl.pem", "crl_check" } },
  { "revoked, crl_check + lsec_continue", "revoked", "ca-crl.pem", { "crl_check", "lsec_continue" },
    ok = true, verification = { false, { { "certificate revoked" } } } },
  { "expired CRL, crl_check + lsec_continue", "server-rsa", "ca-crl-expired.pem",
    { "crl_check", "lsec_continue" },
    ok = true, verification = { false, { { "CRL has expired" } } } },
  { "no CRL at all, crl_check_chain", "server-rsa", "ca.pem", { "crl_check_chain" },
    ok = false, err = { "server-rsa", "ca.pem", "crl_check_chain" } },
  { "expired leaf, lsec_continue",  "expired", "ca.pem", "lsec_continue",
    ok = true, verification = { false, { { "certificate has expired" } } } },
  { "expired leaf, no flag",        "expired", "ca.pem", nil,
    ok = false, err = { "expired", "ca.pem" } },
  { "untrusted root, lsec_continue", "untrusted", "ca.pem", { "lsec_continue" },
    ok = true,
    verification = { false, { [2] = { "self-signed certificate in certificate chain" } } } },
}

describe("verifyext", function()
  for _, case in ipairs(cases) do
    it(case[1], function()
      local s, c, sres, cres = pair.connect(server_with(case[2]), verifying_client(case[3], case[4]))
      finally(function() s:close(); c:close() end)
      if case.ok then
        assert.same({ ok = true }, cres)
        assert.same({ ok = true }, sres)
        assert.same(case.verification, { c:getpeerverification() })
      else
        assert.same({ ok = false, err = failure(case.err[1], case.err[2], case.err[3]) }, cres)
      end
    end)
  end

  it("reports a copy: changing the table does not change the next answer", function()
    local s, c = pair.connect(server_with "expired", verifying_client("ca.pem", "lsec_continue"))
    finally(function() s:close(); c:close() end)
    local _, errors = c:getpeerverification()
    errors[1][1] = "changed"
    assert.same({ false, { { "certificate has expired" } } }, { c:getpeerverification() })
  end)

  describe("lsec_ignore_purpose", function()
    -- A client presenting a certificate whose EKU is serverAuth only.
    local function server(verifyext)
      return server_with("server-rsa", { verify = { "peer", "fail_if_no_peer_cert" },
                                         cafile = C "ca.pem", verifyext = verifyext })
    end
    local client = { mode = "client", protocol = "tlsv1_2",
                     key = C "client-eku-server.key", certificate = C "client-eku-server-chain.pem" }

    it("is needed for a server to accept a server-only certificate from a client", function()
      local s, c, sres = pair.connect(server(nil), client)
      finally(function() s:close(); c:close() end)
      assert.same({ ok = false, err = oracle.handshake_message { leaf = C "client-eku-server.pem",
        untrusted = C "int-ca.pem", cafile = C "ca.pem", purpose = "sslclient" } }, sres)
    end)

    it("lets the server accept it", function()
      local s, c, sres, cres = pair.connect(server "lsec_ignore_purpose", client)
      finally(function() s:close(); c:close() end)
      assert.same({ ok = true }, sres)
      assert.same({ ok = true }, cres)
      assert.same({ true }, { s:getpeerverification() })
    end)
  end)

  describe("ctx:setverifyext", function()
    it("sets flags on an existing context", function()
      local ctx = assert(ssl.newcontext(verifying_client("ca.pem")))
      assert.is_true(ctx:setverifyext("lsec_continue"))
      local s, c, _, cres = pair.connect(server_with "expired", ctx)
      finally(function() s:close(); c:close() end)
      assert.same({ ok = true }, cres)
      assert.same({ false, { { "certificate has expired" } } }, { c:getpeerverification() })
    end)

    it("with no lsec flag turns lsec_continue off again", function()
      local ctx = assert(ssl.newcontext(verifying_client("ca.pem", "lsec_continue")))
      assert.is_true(ctx:setverifyext())
      local s, c, _, cres = pair.connect(server_with "expired", ctx)
      finally(function() s:close(); c:close() end)
      assert.same({ ok = false, err = failure("expired", "ca.pem") }, cres)
    end)

    it("rejects unknown flags with LuaSec's message", function()
      local ctx = assert(ssl.newcontext { mode = "client" })
      assert.same({ false, "invalid verify option (lsec_bogus)" }, { ctx:setverifyext("lsec_bogus") })
      assert.same({ false, "invalid verify option (1)" }, { ctx:setverifyext(1) })
    end)

    it("answers false, closed on a closed context", function()
      local ctx = assert(ssl.newcontext { mode = "client" })
      getmetatable(ctx).__close(ctx)
      assert.same({ false, "closed" }, { ctx:setverifyext("crl_check") })
    end)
  end)

  it("newcontext rejects unknown verifyext names and wrong types", function()
    assert.same({ nil, "invalid verify option (nope)" },
                { ssl.newcontext { mode = "client", verifyext = { "crl_check", "nope" } } })
    assert.same({ nil, "invalid verifyext parameter (string or table expected, got number)" },
                { ssl.newcontext { mode = "client", verifyext = 3 } })
  end)
end)
