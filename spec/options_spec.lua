-- Every option name LuaSec knows: accepted alone, in a list and all
-- together; reported in ssl.config with what it does on this OpenSSL;
-- and, for the version switches, an effect a peer can see.
local ssl   = require "ssl"
local certs = require "spec.helpers.certs"
local pair  = require "spec.helpers.pair"

local C = certs.path

-- The 53 names of LuaSec 1.2/1.3 on OpenSSL 3 (reference B6). Listed here,
-- not read from the module, so a name the module drops turns this red.
local LUASEC_OPTIONS = {
  "all", "allow_client_renegotiation", "allow_no_dhe_kex",
  "allow_unsafe_legacy_renegotiation", "cipher_server_preference",
  "cisco_anyconnect", "cleanse_plaintext", "cookie_exchange",
  "cryptopro_tlsext_bug", "disable_tlsext_ca_names",
  "dont_insert_empty_fragments", "enable_ktls", "enable_middlebox_compat",
  "ephemeral_rsa", "ignore_unexpected_eof", "legacy_server_connect",
  "microsoft_big_sslv3_buffer", "microsoft_sess_id_bug",
  "msie_sslv2_rsa_padding", "netscape_ca_dn_bug", "netscape_challenge_bug",
  "netscape_demo_cipher_change_bug", "netscape_reuse_cipher_change_bug",
  "no_anti_replay", "no_compression", "no_dtls_mask", "no_dtlsv1",
  "no_dtlsv1_2", "no_encrypt_then_mac", "no_extended_master_secret",
  "no_query_mtu", "no_renegotiation",
  "no_session_resumption_on_renegotiation", "no_ssl_mask", "no_sslv2",
  "no_sslv3", "no_ticket", "no_tlsv1", "no_tlsv1_1", "no_tlsv1_2",
  "no_tlsv1_3", "pkcs1_check_1", "pkcs1_check_2", "prioritize_chacha",
  "safari_ecdhe_ecdsa_bug", "single_dh_use", "single_ecdh_use",
  "ssleay_080_client_dh_bug", "sslref2_reuse_cert_type_bug",
  "tls_block_padding_bug", "tls_d5_bug", "tls_rollback_bug", "tlsext_padding",
}

-- Names OpenSSL 3 defines as 0 (reference B6): accepted, no effect.
local NO_EFFECT = {
  ephemeral_rsa = true, microsoft_big_sslv3_buffer = true,
  microsoft_sess_id_bug = true, msie_sslv2_rsa_padding = true,
  netscape_ca_dn_bug = true, netscape_challenge_bug = true,
  netscape_demo_cipher_change_bug = true, netscape_reuse_cipher_change_bug = true,
  no_sslv2 = true, pkcs1_check_1 = true, pkcs1_check_2 = true,
  single_dh_use = true, single_ecdh_use = true, ssleay_080_client_dh_bug = true,
  sslref2_reuse_cert_type_bug = true, tls_block_padding_bug = true, tls_d5_bug = true,
}

-- DTLS-only names: no effect on the TLS contexts this module makes.
local DTLS_ONLY = {
  cisco_anyconnect = true, cookie_exchange = true, no_query_mtu = true,
  no_dtls_mask = true, no_dtlsv1 = true, no_dtlsv1_2 = true,
}

local function context(options)
  return ssl.newcontext { mode = "client", protocol = "any", options = options }
end

describe("option names", function()
  it("ssl.config.options lists exactly LuaSec's 53 names", function()
    local listed, n = {}, 0
    for name, v in pairs(ssl.config.options) do
      assert.is_true(v)
      listed[name] = true
      n = n + 1
    end
    for _, name in ipairs(LUASEC_OPTIONS) do assert.is_true(listed[name], name) end
    assert.equal(#LUASEC_OPTIONS, n)
  end)

  for _, name in ipairs(LUASEC_OPTIONS) do
    it("accepts " .. name .. " alone and in a list", function()
      local ctx, err = context(name)
      assert.is_nil(err)
      assert.is_userdata(ctx)
      ctx, err = context { "all", name }
      assert.is_nil(err)
      assert.is_userdata(ctx)
    end)

    it("reports the effect of " .. name, function()
      local expected = NO_EFFECT[name] and "none" or DTLS_ONLY[name] and "dtls-only" or "effective"
      assert.equal(expected, ssl.config.option_effects[name])
    end)
  end

  it("accepts all names together", function()
    local ctx, err = context(LUASEC_OPTIONS)
    assert.is_nil(err)
    assert.is_userdata(ctx)
  end)

  it("rejects unknown names, wrong case and non-strings", function()
    assert.same({ nil, "invalid option (bogus)" }, { context "bogus" })
    assert.same({ nil, "invalid option (NO_TLSV1)" }, { context { "all", "NO_TLSV1" } })
    assert.same({ nil, "invalid option (12)" }, { context { "all", 12 } })
    assert.same({ nil, "invalid options parameter (string or table expected, got number)" },
                { context(12) })
  end)
end)

describe("version options seen by a peer", function()
  local function server(options, protocol)
    return { mode = "server", protocol = protocol or "any", options = options,
             key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }
  end
  local function client(options, protocol)
    return { mode = "client", protocol = protocol or "any", options = options }
  end

  it("no_tlsv1_3 on the server makes the handshake TLS 1.2", function()
    local s, c, sres, cres = pair.connect(server "no_tlsv1_3", client())
    assert.is_true(sres.ok)
    assert.is_true(cres.ok)
    assert.equal("TLSv1.2", pair.version(c))
    s:close(); c:close()
  end)

  it("no_tlsv1_2 refuses a client pinned to TLS 1.2", function()
    -- Older versions off too, or the server would fall back to TLS 1.1.
    local only13 = { "no_tlsv1", "no_tlsv1_1", "no_tlsv1_2" }
    local s, c, sres, cres = pair.connect(server(only13), client(nil, "tlsv1_2"))
    assert.same({ ok = false, err = "unsupported protocol" }, sres)
    assert.same({ ok = false, err = "tlsv1 alert protocol version" }, cres)
    s:close(); c:close()
  end)

  it("no_dtlsv1_2 does not disable TLS 1.2 (LuaSec's shared-bit fault)", function()
    local s, c, sres, cres = pair.connect(server("no_dtlsv1_2", "tlsv1_2"), client(nil, "tlsv1_2"))
    assert.is_true(sres.ok)
    assert.is_true(cres.ok)
    s:close(); c:close()
  end)
end)

describe("context.getoptions", function()
  local ssl_context = require "ssl.context"

  it("lists the names set, and only names whose bits this OpenSSL has", function()
    local base = assert(ssl.newcontext { mode = "client" })
    local before = {}
    for _, name in ipairs(ssl_context.getoptions(base)) do before[name] = true end
    assert.is_nil(before.no_ticket)
    local ctx = assert(ssl.newcontext { mode = "client", options = { "no_ticket", "ephemeral_rsa", "no_dtlsv1" } })
    local now = {}
    for _, name in ipairs(ssl_context.getoptions(ctx)) do
      now[name] = true
      assert.equal("effective", ssl.config.option_effects[name], name)
    end
    assert.is_true(now.no_ticket)
    assert.is_nil(now.ephemeral_rsa)   -- defined as 0 on OpenSSL 3
    assert.is_nil(now.no_dtlsv1)       -- DTLS only: never set on a TLS context
    for name in pairs(before) do assert.is_true(now[name], name) end   -- defaults stay
  end)

  it("answers false, 'closed' on a closed context", function()
    local ctx = assert(ssl.newcontext { mode = "client" })
    getmetatable(ctx).__gc(ctx)
    assert.same({ false, "closed" }, { ssl_context.getoptions(ctx) })
  end)
end)
