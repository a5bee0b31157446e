-- Every newcontext parameter with good values and bad ones: a good value
-- gives a context, a bad one `nil, message` with LuaSec's template, and
-- nothing raises.
local ssl   = require "ssl"
local certs = require "spec.helpers.certs"

local C = certs.path

local function server(extra)
  local p = { mode = "server", protocol = "any",
              key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function client(extra)
  local p = { mode = "client", protocol = "any" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- newcontext must fail with exactly `msg` (plain) or a message matching it.
local function rejects(params, msg, plain)
  local ok, ctx, err = pcall(ssl.newcontext, params)
  assert.is_true(ok, "newcontext raised: " .. tostring(ctx))
  assert.is_nil(ctx)
  assert.is_string(err)
  if plain then
    assert.equal(msg, err)
  else
    assert.truthy(err:match(msg), ("%q does not match %q"):format(err, msg))
  end
  assert.falsy(err:find("(null)", 1, true), "stale error text: " .. err)
end

local function accepts(params)
  local ctx, err = ssl.newcontext(params)
  assert.is_nil(err)
  assert.truthy(tostring(ctx):match("^SSL context: "))
  return ctx
end

describe("newcontext", function()
  it("rejects a parameter table that is not a table", function()
    for _, v in ipairs { "x", 1, true } do
      rejects(v, "invalid context parameter (table expected, got " .. type(v) .. ")", true)
    end
    rejects(nil, "invalid context parameter (table expected, got nil)", true)
  end)

  it("ignores keys it does not know, as LuaSec does", function()
    accepts(client { no_such_key = 1, [1] = "x" })
  end)
end)

describe("param mode", function()
  it("accepts client and server", function()
    accepts(client())
    accepts(server())
  end)

  it("rejects unknown, missing and non-string modes at newcontext", function()
    rejects(client { mode = "bogus" }, "invalid mode (bogus)", true)
    rejects(client { mode = false }, "invalid mode (false)", true)
    rejects(client { mode = 42 }, "invalid mode (42)", true)
    local p = client(); p.mode = nil
    rejects(p, "invalid mode (nil)", true)
  end)
end)

describe("param protocol", function()
  for _, name in ipairs { "any", "sslv23", "tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3" } do
    it("accepts " .. name, function()
      accepts(client { protocol = name })
      assert.is_true(ssl.config.protocols[name])
    end)
  end

  for _, name in ipairs { "sslv3", "sslv2", "dtlsv1", "tlsv1_4", "", "TLSV1_2" } do
    it("rejects " .. (name == "" and "the empty string" or name), function()
      rejects(client { protocol = name }, "invalid protocol (" .. name .. ")", true)
      assert.is_nil(ssl.config.protocols[name])
    end)
  end

  it("rejects a non-string protocol", function()
    rejects(client { protocol = 3 }, "invalid protocol (3)", true)
    rejects(client { protocol = true }, "invalid protocol (true)", true)
  end)

  it("defaults to any when missing", function()
    local p = client(); p.protocol = nil
    accepts(p)
  end)

  it("reports the protocol error before the mode error (LuaSec's order)", function()
    rejects({ mode = "bogus", protocol = "sslv3" }, "invalid protocol (sslv3)", true)
  end)
end)

describe("params key and certificate", function()
  it("accept a matching key and certificate chain", function()
    for _, t in ipairs { "rsa", "ecdsa", "ed25519" } do
      accepts(server { key = C("server-" .. t .. ".key"), certificate = C("server-" .. t .. "-chain.pem") })
    end
  end)

  -- LuaSec's shape, the reason alone in the parentheses (programs parse
  -- it); with errorobjects = true the file is in the error object.
  it("say why a key file cannot be loaded, and name it in the error object", function()
    rejects(server { key = "/nonexistent/k.pem" },
            "error loading private key (No such file or directory)", true)
    local _, err = ssl.newcontext(server { key = "/nonexistent/k.pem", errorobjects = true })
    assert.same({ "load", "private key", "No such file or directory", "/nonexistent/k.pem" },
                { err.kind, err.what, err.reason, err.file })
  end)

  it("say why a certificate file cannot be loaded", function()
    rejects(server { certificate = "/nonexistent/c.pem" },
            "error loading certificate (No such file or directory)", true)
  end)

  it("reject a file that holds no certificate", function()
    rejects(server { certificate = C "server-rsa.key" }, "error loading certificate (no start line)", true)
  end)

  it("reject a file that holds no key", function()
    -- OpenSSL 3's decoders find no key type that reads it
    rejects(server { key = C "server-rsa.pem" }, "^error loading private key %([%w ]+%)$")
  end)

  it("reject a key that does not match the certificate", function()
    rejects(server { key = C "client-rsa.key" }, "private key does not match public key", true)
    rejects(server { key = C "server-ecdsa.key" }, "private key does not match public key", true)
  end)

  it("load the key before the certificate, so its error wins", function()
    rejects(server { key = "/nonexistent/k", certificate = "/nonexistent/c" },
            "^error loading private key")
  end)

  it("reject non-string values", function()
    rejects(server { key = 42 }, "invalid key parameter (string expected, got number)", true)
    rejects(server { certificate = {} }, "invalid certificate parameter (string expected, got table)", true)
  end)
end)

describe("param password", function()
  local enc = C "server-rsa-enc.key"
  local secret = certs.read("password.txt")

  it("opens an encrypted key with the right string", function()
    accepts(server { key = enc, password = secret })
  end)

  it("opens an encrypted key with a function returning it", function()
    local calls = 0
    accepts(server { key = enc, password = function() calls = calls + 1; return secret end })
    assert.equal(1, calls)
  end)

  it("rejects a wrong password with OpenSSL's reason", function()
    rejects(server { key = enc, password = "wrong" }, "error loading private key (bad decrypt)", true)
  end)

  it("never prompts: a missing password is an error", function()
    rejects(server { key = enc }, "error loading private key (password required)", true)
  end)

  it("turns an error inside the callback into a message", function()
    rejects(server { key = enc, password = function() error("vault locked", 0) end },
            "error loading private key (password callback failed: vault locked)", true)
  end)

  it("treats a non-string callback result as an empty passphrase", function()
    rejects(server { key = enc, password = function() return {} end }, "^error loading private key")
  end)

  it("rejects a password of another type", function()
    rejects(server { key = enc, password = 1234 }, "invalid password type", true)
    rejects(server { key = enc, password = {} }, "invalid password type", true)
  end)

  it("is not needed by a plain key", function()
    accepts(server { password = "unused" })
  end)
end)

describe("param certificates", function()
  it("loads several identities", function()
    accepts(server { key = nil, certificate = nil, certificates = {
      { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" },
      { key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem" },
      { key = C "server-ed25519.key", certificate = C "server-ed25519-chain.pem" },
    } })
  end)

  it("loads encrypted keys in an identity", function()
    accepts(server { certificates = {
      { key = C "server-rsa-enc.key", certificate = C "server-rsa-chain.pem", password = certs.read("password.txt") },
    } })
  end)

  it("reports the failing entry's error", function()
    rejects(server { certificates = {
      { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" },
      { key = C "server-rsa.key", certificate = C "server-ecdsa-chain.pem" },
    } }, "private key does not match public key", true)
  end)

  it("rejects entries that are not tables and a list that is not a table", function()
    rejects(server { certificates = { "x" } },
            "invalid certificates parameter (entry 1: table expected, got string)", true)
    rejects(server { certificates = "x" },
            "invalid certificates parameter (table expected, got string)", true)
  end)
end)

describe("params cafile and capath", function()
  it("accept a CA bundle and a hashed directory", function()
    accepts(client { cafile = C "ca.pem" })
    accepts(client { capath = C "capath" })
    accepts(client { cafile = C "ca.pem", capath = C "capath" })
  end)

  it("name a missing cafile", function()
    rejects(client { cafile = "/nonexistent/ca.pem" },
            "error loading CA locations (No such file or directory)", true)
  end)

  it("reject a cafile without certificates", function()
    rejects(client { cafile = C "password.txt" }, "error loading CA locations (no certificate or crl found)", true)
  end)

  it("reject a missing capath, which LuaSec accepted silently", function()
    rejects(client { capath = "/nonexistent/dir" },
            "error loading CA locations (No such file or directory)", true)
  end)

  it("reject a capath that is a file", function()
    rejects(client { capath = C "ca.pem" }, "error loading CA locations (Not a directory)", true)
  end)

  it("reject non-string values", function()
    rejects(client { cafile = 1 }, "invalid cafile parameter (string expected, got number)", true)
    rejects(client { capath = true }, "invalid capath parameter (string expected, got boolean)", true)
  end)
end)

describe("params ciphers and ciphersuites", function()
  it("accept OpenSSL cipher strings", function()
    accepts(client { ciphers = "HIGH:!aNULL" })
    accepts(client { ciphers = "ECDHE-RSA-AES128-GCM-SHA256" })
    accepts(client { ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256" })
  end)

  it("reject strings that match nothing", function()
    rejects(client { ciphers = "NOPE" }, "error setting cipher list (no cipher match)", true)
    rejects(client { ciphersuites = "TLS_NOPE" }, "error setting cipher list (no cipher match)", true)
  end)

  it("reject non-string values", function()
    rejects(client { ciphers = {} }, "invalid ciphers parameter (string expected, got table)", true)
    rejects(client { ciphersuites = 5 }, "invalid ciphersuites parameter (string expected, got number)", true)
  end)
end)

describe("param verify", function()
  for _, flag in ipairs { "none", "peer", "client_once", "fail_if_no_peer_cert" } do
    it("accepts " .. flag .. " alone and in a list", function()
      assert.is_true(ssl.config.verify[flag])
      accepts(server { verify = flag })
      accepts(server { verify = { flag } })
    end)
  end

  it("accepts all flags together", function()
    accepts(server { verify = { "none", "peer", "client_once", "fail_if_no_peer_cert" } })
  end)

  it("rejects unknown names and non-string entries", function()
    rejects(server { verify = "everything" }, "invalid verify option (everything)", true)
    rejects(server { verify = { "peer", "Peer" } }, "invalid verify option (Peer)", true)
    rejects(server { verify = { "peer", 7 } }, "invalid verify option (7)", true)
  end)

  it("rejects a value that is neither string nor list", function()
    rejects(server { verify = 1 }, "invalid verify parameter (string or table expected, got number)", true)
  end)
end)

describe("param depth", function()
  it("accepts non-negative integers", function()
    accepts(client { depth = 0 })
    accepts(client { depth = 9 })
  end)

  it("rejects negative, fractional and non-number depths", function()
    rejects(client { depth = -1 }, "invalid depth (-1)", true)
    rejects(client { depth = 1.5 }, "invalid depth (1.5)", true)
    rejects(client { depth = "3" }, "invalid depth parameter (number expected, got string)", true)
  end)
end)
