-- Identity checks beyond LuaSec: verifyhost (newcontext key and
-- conn:setverifyhost), the Lua verifycallback, cafile = "system" and
-- ssl.secureclient. Against our own server (pair) and `openssl s_server`.
local ssl     = require "ssl"
local socket  = require "socket"
local pair    = require "spec.helpers.pair"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local process = require "spec.helpers.process"
local luapeer = require "spec.helpers.luapeer"

certs.ensure()
local C = certs.path

local SERVER = { mode = "server", key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }
local WRONG  = { mode = "server", key = C "wronghost.key", certificate = C "wronghost-chain.pem" }

local function client(extra)
  local p = { mode = "client", verify = "peer", cafile = C "ca.pem" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- Handshakes a pair; returns the client's result and both ends (closed
-- by the test's cleanup).
local function run(defer, server, cli, setup)
  local s, c = pair.wrap(server or SERVER, cli)
  defer(s); defer(c)
  if setup then setup(s, c) end
  local _, cres = pair.handshake(s, c)
  return cres, c, s
end

-- Our client against a running s_server.
local function against(defer, srv, params, setup)
  local tcp = socket.tcp()
  tcp:settimeout(5)
  assert(tcp:connect("127.0.0.1", srv.port))
  local conn = defer(assert(ssl.wrap(tcp, params)))
  conn:settimeout(5)
  if setup then setup(conn) end
  return conn, conn:dohandshake()
end

local MISMATCH = 'certificate verify failed (hostname mismatch: "%s")'

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

  it("leaves every other verify error as the plain message", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client { verifyhost = "localhost", cafile = C "rogue-ca.pem" })
    assert.same({ ok = false, err = "certificate verify failed" }, cres)
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
    local _, ok, err = against(defer, srv, client { verifyhost = "localhost" })
    assert.same({ false, MISMATCH:format("localhost") }, { ok, err })
    local conn
    conn, ok, err = against(defer, srv, client(), function(c) c:setverifyhost("wrong.sslua.test") end)
    assert.same({ true }, { ok, err })
    assert.is_true(conn:getpeerverification())
  end)
end)

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

  it("false rejects with the plain message", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client {
      verifycallback = function(_, _, depth) return depth ~= 1 end })
    assert.same({ ok = false, err = "certificate verify failed" }, cres)
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
    local l = defer(assert(socket.bind("127.0.0.1", 0)))
    local _, port = l:getsockname()
    local cli = defer(openssl.s_client { port = port, leaf = "client-rsa", stdin = "" })
    l:settimeout(5)
    local conn = defer(assert(ssl.wrap(assert(l:accept()), ctx)))
    conn:settimeout(5)
    assert.same({ false, "certificate verify failed" }, { conn:dohandshake() })
    assert.same({ 2, 1, 0 }, depths)
    cli:wait(5)
  end)
end)

describe("cafile = 'system'", function()
  after_each(helpers.stop_all)

  it("loads the system store, which does not hold the test root", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client { cafile = "system" })
    assert.same({ ok = false, err = "certificate verify failed" }, cres)
  end)

  -- A child process: OpenSSL's default paths honour SSL_CERT_FILE, and a
  -- file named "system" in the current directory wins over the store.
  local CHILD = [[
local socket, ssl = require "socket", require "ssl"
local port = tonumber(arg[1])
local tcp = socket.tcp(); tcp:settimeout(5); assert(tcp:connect("127.0.0.1", port))
local conn = assert(ssl.wrap(tcp, { mode = "client", verify = "peer", cafile = "system",
                                    verifyhost = "localhost" }))
conn:settimeout(5)
print("RESULT", conn:dohandshake())
conn:close()
]]

  local function absolute(path)
    return (path:gsub("([^;]+)", function(p)
      if p:sub(1, 1) == "/" or p:sub(1, 1) == "." then return p end
      return certs.root() .. "/" .. p
    end))
  end

  local function child(defer, env, system_file)
    local srv = defer(openssl.s_server { naccept = 1 })
    local dir = process.mktempdir("sslua-system")
    defer(function() process.rmtree(dir) end)
    process.write_file(dir .. "/child.lua", CHILD)
    if system_file then process.write_file(dir .. "/system", certs.read(system_file)) end
    env.LUA_PATH, env.LUA_CPATH = absolute(package.path), absolute(package.cpath)
    local h = defer(process.spawn({ luapeer.interpreter(), dir .. "/child.lua", srv.port },
                                  { dir = dir, cwd = dir, env = env, name = "system-ca child" }))
    local _, out = h:wait_output("RESULT[^\n]*\n", 10)
    return out:match("RESULT\t([^\n]*)")
  end

  it("is OpenSSL's default store: SSL_CERT_FILE points it elsewhere", function()
    local defer = helpers.cleanup(finally)
    assert.equal("true", child(defer, { SSL_CERT_FILE = C "ca.pem" }))
  end)

  it("is a path when a file of that name exists", function()
    local defer = helpers.cleanup(finally)
    assert.equal("true", child(defer, {}, "ca.pem"))
    assert.equal("false\tcertificate verify failed", child(defer, { SSL_CERT_FILE = C "ca.pem" }, "rogue-ca.pem"))
  end)
end)

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
    assert.same({ ok = false, err = "certificate verify failed" },
                (run(defer, nil, ssl.secureclient { verifyhost = "localhost" })))
    assert.same({ ok = true }, (run(defer, nil, ssl.secureclient {
      verifyhost = "localhost", cafile = C "ca.pem" })))
    assert.same({ ok = false, err = MISMATCH:format("localhost") }, (run(defer, WRONG,
      ssl.secureclient { verifyhost = "localhost", cafile = C "ca.pem" })))
  end)

  it("refuses TLS 1.1 and older, against openssl s_server", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server { naccept = 1, args = { "-tls1_1" } })
    local _, ok, err = against(defer, srv, ssl.secureclient { verifyhost = "localhost", cafile = C "ca.pem" })
    assert.is_false(ok)
    assert.is_string(err)
  end)
end)
