-- The seed programs' parameter tables (examples/client.lua, server.lua)
-- against real openssl peers: our client to `openssl s_server -Verify 1`,
-- our server to `openssl s_client -cert ...`, exchanging a line each way;
-- blocking and non-blocking (settimeout(0) + socket.select) I/O; RSA, ECDSA
-- and Ed25519 server certificates; once over IPv6 (::1).
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local alerts  = require "spec.helpers.alerts"

local C = certs.path
local DEADLINE = 10     -- seconds, per test

-- examples/client.lua
local function seed_client_params()
  return {
    mode        = "client",
    protocol    = "sslv23",
    key         = C("client-rsa.key"),
    certificate = C("client-rsa-chain.pem"),
    cafile      = C("ca.pem"),
    verify      = "peer",
    options     = { "all", "no_sslv3" },
  }
end

-- examples/server.lua, with the server key type as a parameter
local function seed_server_params(kind)
  return {
    mode        = "server",
    protocol    = "tlsv1_2",
    key         = C("server-" .. kind .. ".key"),
    certificate = C("server-" .. kind .. "-chain.pem"),
    cafile      = C("ca.pem"),
    verify      = { "peer", "fail_if_no_peer_cert" },
    options     = "all",
  }
end

---------------------------------------------------------------------------
-- I/O in the two styles. Each returns what the blocking call would.
---------------------------------------------------------------------------

local function wait_io(conn, err, deadline)
  local left = deadline - socket.gettime()
  assert(left > 0, "non-blocking I/O did not finish before the deadline")
  if err == "wantread" then
    socket.select({ conn }, nil, left)
  else
    socket.select(nil, { conn }, left)
  end
end

local function want(err) return err == "wantread" or err == "wantwrite" end

local IO = {}

IO.blocking = {
  setup = function(conn) conn:settimeout(5) end,
  handshake = function(conn) return conn:dohandshake() end,
  send = function(conn, data) return conn:send(data) end,
  receive = function(conn) return conn:receive("*l") end,
}

IO.nonblocking = {
  setup = function(conn) conn:settimeout(0) end,
  handshake = function(conn, deadline)
    -- (it may finish in one call: with timeout 0 the module still retries
    -- when a poll finds the peer's answer already there)
    while true do
      local ok, err = conn:dohandshake()
      if ok then return ok end
      if not want(err) then return ok, err end
      wait_io(conn, err, deadline)
    end
  end,
  send = function(conn, data, deadline)
    local i = 1
    while true do
      local last, err, sent = conn:send(data, i)
      if last then return last end
      if not want(err) then return nil, err, sent end
      i = sent + 1
      wait_io(conn, err, deadline)
    end
  end,
  receive = function(conn, deadline)
    local acc = ""
    while true do
      local line, err, partial = conn:receive("*l")
      if line then return acc .. line end
      acc = acc .. (partial or "")
      if not want(err) then return nil, err, acc end
      wait_io(conn, err, deadline)
    end
  end,
}

local function connect(host, port)
  local tcp = assert(host:find(":", 1, true) and socket.tcp6() or socket.tcp())
  tcp:settimeout(5)
  assert(tcp:connect(host, port))
  return tcp
end

local function accept(host)
  local listener = assert(socket.bind(host, 0))
  local _, port = listener:getsockname()
  return listener, port
end

local KINDS = { "rsa", "ecdsa", "ed25519" }
local STYLES = { "blocking", "nonblocking" }

describe("seed parameter tables against openssl", function()
  after_each(helpers.stop_all)   -- safety net; every test stops its own

  local client_cases, server_cases = {}, {}
  for _, kind in ipairs(KINDS) do
    for _, style in ipairs(STYLES) do
      client_cases[#client_cases + 1] = { kind = kind, style = style, host = "127.0.0.1" }
      server_cases[#server_cases + 1] = { kind = kind, style = style, host = "127.0.0.1" }
    end
  end
  client_cases[#client_cases + 1] = { kind = "rsa", style = "blocking", host = "::1" }
  server_cases[#server_cases + 1] = { kind = "rsa", style = "nonblocking", host = "::1" }

  for n, case in ipairs(client_cases) do
    it(string.format("seed client (sslv23, verify=peer, all+no_sslv3) <-> s_server -Verify 1"
        .. " with server-%s on %s, %s", case.kind, case.host, case.style), function()
      local defer = helpers.cleanup(finally)
      local drive = IO[case.style]
      local deadline = socket.gettime() + DEADLINE
      local srv = defer(openssl.s_server({ host = case.host, leaf = "server-" .. case.kind,
                                           Verify = 1, naccept = 1 }))
      local conn = defer(assert(ssl.wrap(connect(case.host, srv.port), seed_client_params())))
      drive.setup(conn)
      assert.same({ true }, { drive.handshake(conn, deadline) })
      assert.equal("TLSv1.3", conn:info("protocol"))

      local up = "ping from lua " .. n
      assert.equal(#up + 1, drive.send(conn, up .. "\n", deadline))
      assert(srv:wait_output(up, 5, true), "s_server did not print our line:\n" .. srv:output())
      local down = "pong from openssl " .. n
      assert(srv:write(down .. "\n"))
      assert.equal(down, drive.receive(conn, deadline))

      conn:close()
      assert.same({ true, 0 }, { srv:wait(5) })
      local out = srv:output()
      -- s_server verified our client's chain (leaf, int-ca, root-ca)
      assert.matches("depth=0 [^\n]*OU=client%-rsa, CN=client%.sslua%.test\nverify return:1",
        openssl.dn(out))
      assert.is_nil(out:find("verify error", 1, true), out)
      assert.same({}, openssl.parse(out).errors)
    end)
  end

  for n, case in ipairs(server_cases) do
    it(string.format("seed server (tlsv1_2, verify=peer+fail_if_no_peer_cert, all) with server-%s"
        .. " <-> s_client -cert client-rsa on %s, %s", case.kind, case.host, case.style), function()
      local defer = helpers.cleanup(finally)
      local drive = IO[case.style]
      local deadline = socket.gettime() + DEADLINE
      local listener, port = accept(case.host)
      defer(listener)
      local cli = defer(openssl.s_client({ host = case.host, port = port, leaf = "client-rsa",
                                           stdin_fifo = true, verify_return_error = true }))
      listener:settimeout(5)
      local tcp = assert(listener:accept())
      listener:close()
      local conn = defer(assert(ssl.wrap(tcp, seed_server_params(case.kind))))
      drive.setup(conn)
      assert.same({ true }, { drive.handshake(conn, deadline) })
      assert.equal("TLSv1.2", conn:info("protocol"))

      local down = "hello from lua " .. n
      assert.equal(#down + 1, drive.send(conn, down .. "\n", deadline))
      assert(cli:wait_output(down, 5, true), "s_client did not print our line:\n" .. cli:output())
      local up = "ping from openssl " .. n
      assert(cli:write(up .. "\n"))
      assert.equal(up, drive.receive(conn, deadline))

      conn:close()         -- close_notify: s_client ends
      assert.same({ true, 0 }, { cli:wait(5) })
      local r = openssl.parse(cli:output())
      assert.same({}, r.errors)
      assert.is_true(r.verify_ok)       -- s_client verified our chain
      assert.matches("\n%s*Protocol%s*:%s*TLSv1%.2\n", cli:output())
    end)
  end

  it("seed server refuses s_client without a certificate (TLS 1.2: both learn it in the handshake)", function()
    local defer = helpers.cleanup(finally)
    local listener, port = accept("127.0.0.1")
    defer(listener)
    local cli = defer(openssl.s_client({ port = port, ign_eof = true }))
    listener:settimeout(5)
    local tcp = assert(listener:accept())
    listener:close()
    local conn = defer(assert(ssl.wrap(tcp, seed_server_params("rsa"))))
    conn:settimeout(5)
    assert.same({ false, "peer did not return a certificate" }, { conn:dohandshake() })
    conn:close()
    local done, code = cli:wait(5)
    assert.is_true(done)
    assert.equal(1, code)
    assert.same({ alerts.received("handshake failure") }, openssl.parse(cli:output()).errors)
  end)

  it("seed client is refused by s_server that trusts another CA"
      .. " (-Verify 1 -verify_return_error -CAfile rogue-ca.pem)", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server({ leaf = "server-rsa", Verify = 1, naccept = 1,
                                         cafile = C("rogue-ca.pem"), args = { "-verify_return_error" } }))
    local conn = defer(assert(ssl.wrap(connect("127.0.0.1", srv.port), seed_client_params())))
    conn:settimeout(5)
    -- TLS 1.3: our handshake is over before s_server checked our certificate
    assert.same({ true }, { conn:dohandshake() })
    assert.same({ nil, alerts.received("unknown ca"), "" }, { conn:receive("*l") })
    conn:close()
    assert.is_true((srv:wait(5)))
    assert.same({ "certificate verify failed" }, openssl.parse(srv:output()).errors)
  end)
end)
