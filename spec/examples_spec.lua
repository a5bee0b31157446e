-- The programs in examples/ do what their comments promise, run as a user
-- runs them: each in a Lua process of its own (the suite's interpreter and
-- module paths, the test PKI through SSLUA_CERTS), against peers on
-- 127.0.0.1. Expected results come from an independent source: the bytes
-- a server was given to serve, the certificate file a server was given
-- for a name, and the reason `openssl s_client` reports for the same
-- refusal.
local ssl     = require "ssl"
local socket  = require "socket"
local helpers = require "spec.helpers.peer"
local process = require "spec.helpers.process"
local ports   = require "spec.helpers.ports"
local certs   = require "spec.helpers.certs"
local openssl = require "spec.helpers.openssl"
local luapeer = require "spec.helpers.luapeer"

certs.ensure()
local EXAMPLES = certs.root() .. "/examples/"
local LUA = luapeer.interpreter()
local WAIT = 20        -- seconds: bound on every wait for an example

-- example(name, args, env) -> handle of `lua examples/NAME ARGS...`.
local function example(name, args, env)
  local argv = { LUA, EXAMPLES .. name }
  for _, a in ipairs(args) do argv[#argv + 1] = tostring(a) end
  return process.spawn(argv, { name = name, max_life = 120,
    env = certs.merge({ SSLUA_CERTS = certs.dir() }, env) })
end

-- A server example on a free port, once it says it listens there.
local function server(defer, name, args, env)
  local port = ports.free()
  local all = { port }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  local h = defer(example(name, all, env))
  local ok, out = h:wait_output("listening on 127.0.0.1:" .. port, WAIT, true)
  assert(ok, name .. " did not start: " .. out)
  h.port = port
  return h
end

-- Runs a client example to its end: exit code, output (stdout + stderr).
local function run(defer, name, args)
  local h = defer(example(name, args))
  local done, code = h:wait(WAIT)
  assert(done, name .. " did not end within " .. WAIT .. " s: " .. h:output())
  return code, h:output()
end

-- A blocking TLS client in this process that verifies the server against
-- the test CA; `overrides` change its ssl.wrap parameters.
local function connect(defer, port, overrides, servername)
  local tcp = socket.tcp()
  tcp:settimeout(WAIT)
  assert(tcp:connect("127.0.0.1", port))
  local conn = defer(assert(ssl.wrap(tcp, certs.client_params(overrides))))
  conn:settimeout(WAIT)
  if servername then conn:sni(servername) end    -- LuaSec returns nothing: not asserted
  assert(conn:dohandshake())
  return conn
end
local NO_CERT = { key = certs.NIL, certificate = certs.NIL }

-- The first OpenSSL reason openssl s_client prints against `port` (the
-- oracle for a refusal); s_client_opts adds to its options.
local function openssl_reason(defer, port, s_client_opts)
  local opts = certs.merge({ port = port, ign_eof = true, stdin = "" }, s_client_opts)
  local cli = defer(openssl.s_client(opts))
  assert(cli:wait(WAIT), "s_client did not end: " .. cli:output())
  local reason = openssl.parse(cli:output()).errors[1]
  assert(reason, "s_client reported no error: " .. cli:output())
  return reason
end

local function common_name(cert)
  for _, entry in ipairs(cert:subject()) do
    if entry.name == "commonName" then return entry.value end
  end
end

-- Debian's lua-copas installs copas, plain Lua, for Lua 5.1 and 5.2 only;
-- other Luas get that same copy at the end of their module path. Without
-- lua-copas this fails: the copas example is part of what is checked.
local function copas_env()
  local base = os.getenv("LUA_PATH") or ";;"
  for _, extra in ipairs({ "", ";/usr/share/lua/5.1/?.lua" }) do
    local path = base .. extra
    if process.execute("LUA_PATH=" .. process.quote(path) .. " timeout 10 " ..
        process.quote(LUA) .. " -e 'require \"copas\"' >/dev/null 2>&1") then
      return { LUA_PATH = path }
    end
  end
  error("copas is not installed for " .. LUA ..
    ": apt-get install lua-copas (`make test-deps` installs it)", 2)
end

describe("examples", function()
  after_each(helpers.stop_all)

  it("client.lua prints exactly the line server.lua sends (make demo)", function()
    local defer = helpers.cleanup(finally)
    local dir = process.mktempdir("sslua-demo")
    defer(function() process.rmtree(dir) end)
    -- server.lua serves one client and writes its port to a file.
    local function start_server(portfile)
      defer(example("server.lua", { certs.dir(), portfile }))
      local deadline = socket.gettime() + WAIT
      repeat
        local port = tonumber(process.read_file(portfile) or "")
        if port then return port end
        socket.sleep(0.05)
      until socket.gettime() > deadline
      error("server.lua wrote no port to " .. portfile)
    end
    local conn = connect(defer, start_server(dir .. "/oracle"), {})
    local sent = assert(conn:receive("*a"))
    local code, out = run(defer, "client.lua", { certs.dir(), start_server(dir .. "/port") })
    assert.equal(0, code)
    assert.equal(sent, out)
  end)

  describe("https_get.lua", function()
    local function www(defer, body)
      local dir = process.mktempdir("sslua-www")
      defer(function() process.rmtree(dir) end)
      process.write_file(dir .. "/page.txt", body)
      return defer(openssl.s_server({ args = { "-WWW" }, cwd = dir, quiet = true }))
    end

    it("prints the body after verifying the server", function()
      local defer = helpers.cleanup(finally)
      local body = ("page %d\n"):format(os.time()):rep(100)
      local srv = www(defer, body)
      local code, out = run(defer, "https_get.lua",
        { "https://127.0.0.1:" .. srv.port .. "/page.txt", certs.path("ca.pem") })
      assert.equal(0, code)
      assert.equal(body, out)
    end)

    it("fails, for the reason openssl gives, when the CA file does not vouch for the server", function()
      local defer = helpers.cleanup(finally)
      local srv = www(defer, "secret\n")
      local rogue = certs.path("rogue-ca.pem")
      local reason = openssl_reason(defer, srv.port, { cafile = rogue, verify_return_error = true })
      local code, out = run(defer, "https_get.lua",
        { "https://127.0.0.1:" .. srv.port .. "/page.txt", rogue })
      assert.equal(1, code)
      assert.truthy(out:find(reason, 1, true), "want '" .. reason .. "' in: " .. out)
      assert.falsy(out:find("secret", 1, true))
    end)
  end)

  it("copas_echo_server.lua echoes every line of 20 clients connected at once", function()
    local defer = helpers.cleanup(finally)
    local srv = server(defer, "copas_echo_server.lua", {}, copas_env())
    -- All 20 finish their handshakes and stay open: a server serving one
    -- client at a time would never get past the first.
    local clients = {}
    for i = 1, 20 do clients[i] = connect(defer, srv.port, NO_CERT) end
    -- Two lines each, sent round by round; one long enough to need many
    -- records each way.
    local function line(i, round)
      local text = ("client %d round %d "):format(i, round)
      return (i == 7 and round == 1) and text .. ("x"):rep(256 * 1024) or text
    end
    for round = 1, 2 do
      for i, conn in ipairs(clients) do assert(conn:send(line(i, round) .. "\n")) end
    end
    for i = #clients, 1, -1 do
      for round = 1, 2 do assert.equal(line(i, round), clients[i]:receive("*l")) end
    end
    assert.is_true(srv:alive())
  end)

  it("sni_server.lua answers each name with that name's certificate", function()
    local defer = helpers.cleanup(finally)
    local map = { ["server.sslua.test"] = "server-ecdsa", ["wrong.sslua.test"] = "wronghost" }
    local args = { "server-rsa" }
    for name, leaf in pairs(map) do args[#args + 1] = name .. "=" .. leaf end
    local srv = server(defer, "sni_server.lua", args)
    local cases = {                          -- name sent -> certificate file served
      { "server.sslua.test", map["server.sslua.test"] },
      { "wrong.sslua.test", map["wrong.sslua.test"] },
      { "unlisted.sslua.test", "server-rsa" },
    }
    for _, case in ipairs(cases) do
      local name, leaf = case[1], case[2]
      local conn = connect(defer, srv.port, NO_CERT, name)
      local want = assert(ssl.loadcertificate(certs.read(leaf .. ".pem")))
      assert.equal(want:digest("sha256"), conn:getpeercertificate():digest("sha256"))
      assert.equal("hello " .. name, conn:receive("*l"))
      conn:close()
    end
    local conn = connect(defer, srv.port, NO_CERT)    -- no name at all
    local want = assert(ssl.loadcertificate(certs.read("server-rsa.pem")))
    assert.equal(want:digest("sha256"), conn:getpeercertificate():digest("sha256"))
  end)

  describe("mtls_server.lua and mtls_client.lua", function()
    it("a client with a certificate from the CA is greeted by its certificate's name", function()
      local defer = helpers.cleanup(finally)
      local srv = server(defer, "mtls_server.lua")
      for _, leaf in ipairs({ "client-rsa", "client-ecdsa" }) do
        local cn = common_name(assert(ssl.loadcertificate(certs.read(leaf .. ".pem"))))
        local code, out = run(defer, "mtls_client.lua", { srv.port, leaf })
        assert.equal(0, code)
        assert.equal("hello " .. cn .. "\n", out)
      end
    end)

    -- leaf: the client's certificate ("none": none); s_client_opts: the same
    -- client for openssl.
    local refusals = {
      { "without a certificate", "none", {} },
      { "whose certificate no trusted CA issued", "untrusted", { leaf = "untrusted" } },
    }
    for _, case in ipairs(refusals) do
      local what, leaf, s_client_opts = case[1], case[2], case[3]
      it("a client " .. what .. " is refused, for the reason openssl's client gets", function()
        local defer = helpers.cleanup(finally)
        local srv = server(defer, "mtls_server.lua")
        local reason = openssl_reason(defer, srv.port, s_client_opts)
        local code, out = run(defer, "mtls_client.lua", { srv.port, leaf })
        assert.equal(1, code)
        assert.equal("refused: " .. reason .. "\n", out)
        -- The server logged both refusals and still serves good clients.
        local _, log = srv:wait_output("refused:.*refused:", WAIT)
        assert.equal(2, select(2, log:gsub("\nrefused: ", "")))
        assert.equal(0, (run(defer, "mtls_client.lua", { srv.port, "client-rsa" })))
      end)
    end
  end)
end)
