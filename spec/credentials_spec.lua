-- Credentials from memory: key, certificate and cafile as PEM or DER
-- strings or x509 objects, and PKCS#12 bundles (files and bytes) made with
-- `openssl pkcs12 -export` in a temporary directory at test time. Against
-- our own peer (pair) and `openssl s_client` / `s_server`.
local ssl     = require "ssl"
local socket  = require "socket"
local context = require "ssl.context"
local pair    = require "spec.helpers.pair"
local certs   = require "spec.helpers.certs"
local oracle  = require "spec.helpers.x509oracle"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local process = require "spec.helpers.process"

certs.ensure()
local C, read = certs.path, certs.read

local PASSWORD = (read "password.txt"):gsub("%s+$", "")

-- Runs `openssl args...` (paths quoted) and returns the output file's bytes.
local function make(dir, name, args)
  local out = dir .. "/" .. name
  local argv = { openssl.bin }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  argv[#argv + 1] = "-out"
  argv[#argv + 1] = out
  assert(process.execute(process.shell_join(argv) .. " >/dev/null 2>&1"), "openssl " .. args[1])
  return assert(process.read_file(out)), out
end

local dir, files = nil, {}

setup(function()
  dir = process.mktempdir("sslua-credentials")
  files.cert_der = make(dir, "cert.der", { "x509", "-in", C "server-rsa.pem", "-outform", "DER" })
  files.key_der = make(dir, "key.der", { "pkey", "-in", C "server-rsa.key", "-outform", "DER" })
  files.enc_der = make(dir, "enc.der", { "pkcs8", "-topk8", "-in", C "server-rsa.key", "-outform", "DER",
                                         "-passout", "pass:" .. PASSWORD })
  files.ca_der = make(dir, "ca.der", { "x509", "-in", C "root-ca.pem", "-outform", "DER" })
  files.p12, files.p12_path = make(dir, "server.p12", {
    "pkcs12", "-export", "-in", C "server-rsa.pem", "-inkey", C "server-rsa.key",
    "-certfile", C "int-ca.pem", "-passout", "pass:" .. PASSWORD })
  files.p12_open = make(dir, "open.p12", {
    "pkcs12", "-export", "-in", C "server-rsa.pem", "-inkey", C "server-rsa.key",
    "-certfile", C "int-ca.pem", "-passout", "pass:" })
  files.p12_nokey = make(dir, "nokey.p12", {
    "pkcs12", "-export", "-nokeys", "-in", C "server-rsa.pem", "-passout", "pass:" })
end)

teardown(function() process.rmtree(dir) end)

local VERIFYING = { mode = "client", verify = "peer", cafile = C "ca.pem", verifyhost = "localhost" }

-- Handshakes `server_params` against a verifying client; returns results.
local function serve(server_params, client_params)
  local s, c, sres, cres = pair.connect(server_params, client_params or VERIFYING)
  local chain = cres.ok and #c:getpeerchain()
  s:close(); c:close()
  return sres, cres, chain
end

local function server(extra)
  local p = { mode = "server" }
  for k, v in pairs(extra) do p[k] = v end
  return p
end

describe("credentials from memory", function()
  after_each(helpers.stop_all)

  it("PEM strings for key, certificate chain and cafile", function()
    local sres, cres, chain = serve(server { key = read "server-rsa.key",
                                             certificate = read "server-rsa-chain.pem" },
                                    { mode = "client", verify = "peer", cafile = read "ca.pem" })
    assert.same({ { ok = true }, { ok = true }, 2 }, { sres, cres, chain })
  end)

  it("DER strings for key, certificate and cafile", function()
    local _, cres = serve(server { key = files.key_der, certificate = files.cert_der },
                          { mode = "client", verify = "peer", cafile = files.ca_der })
    -- a DER certificate is the leaf alone: the client lacks the intermediate
    assert.same({ ok = false, err = oracle.handshake_message { leaf = C "server-rsa.pem",
                                                               cafile = C "root-ca.pem" } }, cres)
    local sres, chain
    sres, cres, chain = serve(server { key = files.key_der, certificate = files.cert_der },
                              { mode = "client", verify = "peer", cafile = read "all-ca.pem" })
    assert.same({ { ok = true }, { ok = true }, 1 }, { sres, cres, chain })
  end)

  it("x509 objects for certificate and cafile", function()
    local leaf = assert(ssl.loadcertificate(read "server-rsa.pem"))
    local root = assert(ssl.loadcertificate(read "root-ca.pem"))
    local int = assert(ssl.loadcertificate(read "int-ca.pem"))
    local ctx = assert(ssl.newcontext { mode = "client", verify = "peer", cafile = root })
    assert.is_true(context.loadcadata(ctx, int))
    local sres, cres = serve(server { key = C "server-rsa.key", certificate = leaf }, ctx)
    assert.same({ { ok = true }, { ok = true } }, { sres, cres })
  end)

  it("encrypted keys with a password string or function", function()
    for _, pw in ipairs { PASSWORD, function() return PASSWORD end } do
      for _, key in ipairs { read "server-rsa-enc.key", files.enc_der } do
        local sres = serve(server { key = key, password = pw, certificate = C "server-rsa-chain.pem" })
        assert.same({ ok = true }, sres)
      end
    end
  end)

  it("errors keep LuaSec's template, with the reason alone in the parentheses", function()
    local enc = read "server-rsa-enc.key"
    local cases = {
      { { key = enc }, "error loading private key (password required)" },
      { { key = enc, password = "wrong" }, "error loading private key (bad decrypt)" },
      { { key = enc, password = function() error("no pw", 0) end },
        "error loading private key (password callback failed: no pw)" },
      { { key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" },
        "error loading private key (unsupported)" },
      { { certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" },
        "error loading certificate (wrong tag)" },
      { { certificate = "\48\1\2" }, "error loading certificate (header too long)" },
      { { certificate = io.stdout }, "error loading certificate (string or x509 expected, got userdata)" },
      { { certificate = 5 }, "invalid certificate parameter (string expected, got number)" },
      { { cafile = "-----BEGIN nothing" }, "error loading CA locations (no certificate found)" },
      { { cafile = {} }, "invalid cafile parameter (string expected, got table)" },
      { { key = read "client-rsa.key", certificate = read "server-rsa-chain.pem" },
        "private key does not match public key" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { ssl.newcontext(server(case[1])) })
    end
  end)

  it("a path stays a path: a missing file keeps the file error", function()
    assert.same({ nil, "error loading private key (No such file or directory)" },
                { ssl.newcontext(server { key = "/nonexistent/k.pem" }) })
    -- a file whose name looks like PEM data is still read as a file
    local odd = dir .. "/-----BEGIN ca"
    process.write_file(odd, read "ca.pem")
    assert.is_truthy(ssl.newcontext { mode = "client", cafile = odd })
  end)

  it("a server with an in-memory identity, against openssl s_client", function()
    local defer = helpers.cleanup(finally)
    local ctx = assert(ssl.newcontext(server { key = read "server-rsa.key",
                                               certificate = read "server-rsa-chain.pem" }))
    local l = defer(assert(socket.bind("127.0.0.1", 0)))
    local _, port = l:getsockname()
    local cli = defer(openssl.s_client { port = port, servername = "localhost", stdin = "",
                                         verify_return_error = true,
                                         args = { "-verify_hostname", "localhost" } })
    l:settimeout(5)
    local conn = defer(assert(ssl.wrap(assert(l:accept()), ctx)))
    conn:settimeout(5)
    assert.is_true(conn:dohandshake())
    cli:wait(5)
    assert.is_true(openssl.parse(cli:output()).verify_ok)
  end)
end)

describe("pkcs12", function()
  after_each(helpers.stop_all)

  it("loads key, certificate and chain from a file or from bytes", function()
    for _, p12 in ipairs { files.p12_path, files.p12 } do
      local sres, cres, chain = serve(server { pkcs12 = p12, password = PASSWORD })
      assert.same({ { ok = true }, { ok = true }, 2 }, { sres, cres, chain })
    end
    local sres = serve(server { pkcs12 = files.p12, password = function() return PASSWORD end })
    assert.same({ ok = true }, sres)
    sres = serve(server { pkcs12 = files.p12_open })
    assert.same({ ok = true }, sres)
  end)

  it("reports what went wrong", function()
    local cases = {
      { { pkcs12 = files.p12 }, "error loading PKCS#12 (password required)" },
      { { pkcs12 = files.p12, password = "wrong" }, "error loading PKCS#12 (mac verify failure)" },
      { { pkcs12 = files.p12_path, password = "wrong" },
        "error loading PKCS#12 (mac verify failure)" },
      { { pkcs12 = files.p12, password = 1 }, "invalid password type" },
      { { pkcs12 = "/nonexistent.p12" }, "error loading PKCS#12 (No such file or directory)" },
      { { pkcs12 = files.cert_der }, "error loading PKCS#12 (wrong tag)" },
      { { pkcs12 = files.p12_nokey }, "error loading PKCS#12 (no private key found)" },
      { { pkcs12 = 3 }, "invalid pkcs12 parameter (string expected, got number)" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { ssl.newcontext(server(case[1])) })
    end
  end)

  it("a client certificate from PKCS#12, against openssl s_server -Verify", function()
    local defer = helpers.cleanup(finally)
    local client_p12 = make(dir, "client.p12", {
      "pkcs12", "-export", "-in", C "client-rsa.pem", "-inkey", C "client-rsa.key",
      "-certfile", C "int-ca.pem", "-passout", "pass:" .. PASSWORD })
    local srv = defer(openssl.s_server { naccept = 1, Verify = 2, args = { "-verify_return_error" } })
    local tcp = socket.tcp()
    tcp:settimeout(5)
    assert(tcp:connect("127.0.0.1", srv.port))
    local conn = defer(assert(ssl.wrap(tcp, { mode = "client", pkcs12 = client_p12, password = PASSWORD,
                                               verify = "peer", cafile = C "ca.pem", verifyhost = "localhost",
                                               protocol = "tlsv1_2" })))
    conn:settimeout(5)
    assert.is_true(conn:dohandshake())
    assert.equal(2, #conn:getlocalchain())
  end)

  it("context functions on a closed context say closed", function()
    local ctx = assert(ssl.newcontext(server {}))
    getmetatable(ctx).__gc(ctx)
    assert.same({ false, "closed" }, { context.loadpkcs12(ctx, files.p12, PASSWORD, true) })
    assert.same({ false, "closed" }, { context.loadkeydata(ctx, "x") })
    assert.same({ false, "closed" }, { context.loadcertdata(ctx, "x") })
    assert.same({ false, "closed" }, { context.loadcadata(ctx, "x") })
    assert.same({ false, "closed" }, { context.loadsystemca(ctx) })
  end)
end)
