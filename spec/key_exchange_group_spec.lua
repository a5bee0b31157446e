-- The negotiated key-exchange group: conn:info().group names it by its TLS
-- (IANA) name, on every OpenSSL, in both roles, against our own peer and
-- against the openssl tools; `curveslist` selects any group this OpenSSL
-- offers, the post-quantum hybrid X25519MLKEM768 included where it exists
-- (OpenSSL 3.5 and later).
--
-- Which groups exist is asked of this OpenSSL twice, never assumed from a
-- version number: our module (does curveslist accept the name?) and the
-- openssl command of the same version (does s_client accept -groups NAME?);
-- the two must agree. With one group offered and accepted, the handshake
-- can only have used that group, so the name info() reports is checked
-- against the one configured.
local ssl     = require "ssl"
local pair    = require "spec.helpers.pair"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local process = require "spec.helpers.process"

-- TLS group names (RFC 8446, RFC 7919, and the hybrid ML-KEM groups).
local CANDIDATES = {
  "x25519", "x448", "secp256r1", "secp384r1", "secp521r1",
  "ffdhe2048", "ffdhe3072", "X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024",
}
local EC = { x25519 = true, x448 = true, secp256r1 = true, secp384r1 = true, secp521r1 = true }

local function module_knows(name)
  return ssl.newcontext { mode = "client", curveslist = name } ~= nil
end

-- Does the openssl command accept `-groups name`? When it does not, it
-- says so at once ("Call to SSL_CONF_cmd(-groups, NAME) failed"), before
-- connecting anywhere; a known group gets as far as the (refused) connect.
local function cli_knows(name)
  local out = process.run({ openssl.bin, "s_client", "-groups", name, "-connect", "127.0.0.1:1" }, 10)
  return not out:find("SSL_CONF_cmd(-groups", 1, true)
end

local function known()
  local list = {}
  for _, name in ipairs(CANDIDATES) do
    if module_knows(name) then list[#list + 1] = name end
  end
  return list
end

describe("the negotiated key-exchange group", function()
  after_each(helpers.stop_all)

  it("the module and the openssl command of this OpenSSL agree on which groups exist", function()
    for _, name in ipairs(CANDIDATES) do
      assert.equal(cli_knows(name), module_knows(name), name)
    end
  end)

  it("OpenSSL 3.5 and later offer the hybrid X25519MLKEM768; 3.0 does not", function()
    local lib = ssl.config.library
    assert.equal(lib.number >= 0x30500000, module_knows("X25519MLKEM768"), lib.version)
  end)

  for _, name in ipairs(known()) do
    local protocols = EC[name] and { "tlsv1_3", "tlsv1_2" } or { "tlsv1_3" }
    for _, protocol in ipairs(protocols) do
      it(("%s over %s: both ends report it"):format(name, protocol), function()
        local s, c, sres, cres = pair.connect(
          certs.server_params { protocol = protocol, curveslist = name },
          certs.client_params { protocol = protocol, curveslist = name })
        finally(function() s:close(); c:close() end)
        assert.same({ { ok = true }, { ok = true } }, { sres, cres })
        assert.equal(name:lower(), c:info("group"):lower())
        assert.equal(name:lower(), s:info().group:lower())
      end)
    end

    it(name .. ": our client against openssl s_server offering only it", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server({ args = { "-groups", name, "-tls1_3" }, naccept = 1 }))
      local conn, ok, err = openssl.connect(defer, srv, certs.client_params { curveslist = name })
      assert.same({ true }, { ok, err })
      assert.equal(name:lower(), conn:info("group"):lower())
    end)

    it(name .. ": our server against openssl s_client offering only it", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer,
        { args = { "-groups", name, "-tls1_3" }, stdin = "" },
        certs.server_params { curveslist = name }, nil, 10)
      assert.same({ true }, { ok, err })
      assert.equal(name:lower(), conn:info("group"):lower())
      conn:close()
      assert.is_true((cli:wait(10)))
    end)
  end

  it("is absent when no group was used (TLS 1.2 RSA key transport)", function()
    local s, c, sres, cres = pair.connect(
      certs.server_params { protocol = "tlsv1_2", ciphers = "AES128-GCM-SHA256" },
      certs.client_params { protocol = "tlsv1_2", ciphers = "AES128-GCM-SHA256" })
    finally(function() s:close(); c:close() end)
    assert.same({ { ok = true }, { ok = true } }, { sres, cres })
    assert.is_nil(c:info().group)
    assert.is_nil(s:info("group"))
  end)

  it("bits and algbits are numbers, as LuaSec pushes them", function()
    local s, c = pair.connect(certs.server_params(), certs.client_params())
    finally(function() s:close(); c:close() end)
    local info = c:info()
    assert.is_number(info.bits)
    assert.is_number(info.algbits)
    if math.type then   -- Lua 5.3+: floats, "256.0", as with LuaSec
      assert.equal("float", math.type(info.bits))
      assert.equal("float", math.type(info.algbits))
    end
  end)
end)

describe("ssl.config.library", function()
  it("names the OpenSSL loaded at run time, as the openssl command of this build says", function()
    local lib = ssl.config.library
    assert.equal("OpenSSL", lib.name)
    local out = process.run({ openssl.bin, "version" }, 10)
    local cli = assert(out:match("^OpenSSL (%d+%.%d+%.%d+)"), out)
    assert.equal(cli, lib.version)
    local major, minor, patch = lib.version:match("^(%d+)%.(%d+)%.(%d+)")
    -- OPENSSL_VERSION_NUMBER: 0xMNN00PP0
    assert.equal(tonumber(major) * 0x10000000 + tonumber(minor) * 0x100000 + tonumber(patch) * 0x10,
                 lib.number)
    assert.is_string(lib.headers)
  end)
end)
