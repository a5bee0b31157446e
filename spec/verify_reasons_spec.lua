-- Why a certificate verification failed, as sslua tells it: the handshake's
-- message, getpeerverification() after the failed handshake and the error
-- object (errorobjects = true), for every verify error the test PKI can
-- produce, in both roles (our client verifying a server, our server
-- verifying a client), non-blocking (both ends in this process) and
-- blocking (an openssl s_server / s_client peer in a child process).
--
-- The expected reason text, X509_V_ERR code and depth come from OpenSSL:
-- `openssl verify` on the same certificates, with the same trust, purpose,
-- name, depth and CRL settings (spec/helpers/x509oracle.lua); nothing here
-- spells a verify reason. Both run X509_verify_cert with the chain the peer
-- sent as the untrusted certificates, so openssl verify's first error is the
-- one the handshake stops at, at the same depth; the oracle's own tests
-- below check that the subject it names is the one `openssl x509 -subject
-- -nameopt RFC2253` prints for the certificate at that depth.
--
-- Also: a peer that does not speak TLS (the reason stays OpenSSL's, again
-- asked of openssl s_client / s_server, and the error object gets a hint),
-- and a blocking handshake that times out ("wantread", LuaSec's word).
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local oracle  = require "spec.helpers.x509oracle"

local C = certs.path
local PEER_TIMEOUT = 10   -- seconds for any one blocking step
local NOT_TLS_HINT = "peer does not speak TLS (plain TCP or wrong port?)"

---------------------------------------------------------------------------
-- The cases
---------------------------------------------------------------------------

-- Who presents the certificate, and the purpose a TLS stack checks it for.
local ROLES = {
  { name = "our client verifies the server", presenter = "server", purpose = "sslserver" },
  { name = "our server verifies the client", presenter = "client", purpose = "sslclient" },
}

-- leaf: the test PKI name the presenting side uses (per role when they
-- differ); alone: sent without the CA certificates of its chain file;
-- server_profile: a server leaf that is also presented as a client
-- certificate - the verifying server then checks it as a server's
-- (lsec_ignore_purpose, and -purpose sslserver for the oracle), or the
-- purpose check would fail before the error the case is about.
-- cafile, depth, verifyhost, verifyext: the verifying side's settings.
local CASES = {
  { name = "untrusted root (only the rogue CA is trusted)",
    leaf = { server = "server-rsa", client = "client-rsa" }, cafile = "rogue-ca.pem" },
  { name = "untrusted leaf (issued by the rogue CA, sent alone)",
    leaf = "untrusted", alone = true, server_profile = true },
  { name = "missing intermediate (the leaf without its chain)",
    leaf = { server = "server-rsa", client = "client-rsa" }, alone = true },
  { name = "expired", leaf = "expired", server_profile = true },
  { name = "not yet valid", leaf = "notyet", server_profile = true },
  { name = "self-signed leaf", leaf = "selfsigned", alone = true, server_profile = true },
  { name = "self-signed certificate in the chain (the rogue CA sent along)",
    leaf = "untrusted", server_profile = true },
  { name = "wrong purpose (client EKU as a server, server EKU as a client)",
    leaf = { server = "server-eku-client", client = "client-eku-server" } },
  { name = "hostname mismatch (verifyhost)",
    leaf = { server = "wronghost", client = "client-rsa" }, verifyhost = "localhost" },
  { name = "IP address mismatch (verifyhost)",
    leaf = { server = "wronghost", client = "client-rsa" }, verifyhost = "127.0.0.1" },
  { name = "depth exceeded (depth = 2 under five CAs)", leaf = "deep", depth = 2,
    server_profile = true },
  { name = "revoked (crl_check, the CRLs in the cafile)", leaf = "revoked",
    cafile = "ca-crl.pem", verifyext = "crl_check", server_profile = true },
}

local function is_ip(name)
  return name:match("^[%d%.]+$") ~= nil or name:find(":", 1, true) ~= nil
end

-- What each side is given for one case in one role, and the oracle's
-- arguments for the same chain.
local function setup(case, role)
  local leaf = type(case.leaf) == "table" and case.leaf[role.presenter] or case.leaf
  local as_server = role.presenter == "client" and case.server_profile
  local sent = leaf .. (case.alone and ".pem" or "-chain.pem")
  local verifyext = {}
  if case.verifyext then verifyext[#verifyext + 1] = case.verifyext end
  if as_server then verifyext[#verifyext + 1] = "lsec_ignore_purpose" end
  local host = case.verifyhost
  return {
    leaf = leaf,
    sent = sent,
    verifier = {
      cafile = C(case.cafile or "ca.pem"),
      depth = case.depth,
      verifyhost = host,
      verifyext = #verifyext > 0 and verifyext or nil,
    },
    oracle = {
      leaf = C(leaf .. ".pem"),
      untrusted = not case.alone and C(sent) or nil,
      cafile = C(case.cafile or "ca.pem"),
      purpose = as_server and "sslserver" or role.purpose,
      hostname = host and not is_ip(host) and host or nil,
      ip = host and is_ip(host) and host or nil,
      depth = case.depth,
      crl_check = case.verifyext == "crl_check",
    },
  }
end

-- The subject of the certificate at `depth` of the chain file `sent`.
local function subject_at(sent, depth)
  local block = certs.pem_blocks(certs.read(sent))[depth + 1]
  return block and oracle.subject(block) or nil
end

-- What OpenSSL says about a case: { code, depth, reason, subject, message }.
-- Asked once per case and role.
local answers = {}
local function expected(case, role)
  local key = case.name .. "|" .. role.name
  if answers[key] then return answers[key] end
  local s = setup(case, role)
  local r = oracle.verify(s.oracle)
  if r.ok then error("openssl verify accepts this chain, the case proves nothing:\n" .. r.output) end
  local message
  if case.verifyhost then
    -- The name checked came from verifyhost: the message says which.
    message = ('certificate verify failed (%s: "%s")'):format(r.reason, case.verifyhost)
  elseif r.depth > 0 then
    local subject = subject_at(s.sent, r.depth) or r.subject
    message = ("certificate verify failed (%s at depth %d: %s)"):format(r.reason, r.depth, subject)
  else
    message = ("certificate verify failed (%s)"):format(r.reason)
  end
  answers[key] = { code = r.code, depth = r.depth, reason = r.reason, subject = r.subject,
                   message = message, setup = s }
  return answers[key]
end

---------------------------------------------------------------------------
-- Running one handshake: -> the verifying connection, its handshake result
---------------------------------------------------------------------------

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local VERIFY_CLIENT = { verify = { "peer", "fail_if_no_peer_cert" } }

-- The verifying side's params for the role (errorobjects as asked).
local function verifier_params(role, s, objects)
  local p = with(s.verifier, { errorobjects = objects or nil })
  if role.presenter == "server" then return certs.client_params(p) end
  return certs.server_params(with(VERIFY_CLIENT, p))
end

-- Both ends ours, in this process, non-blocking (spec/helpers/pair.lua).
local function run_nonblocking(role, s, objects, defer)
  local own = { certificate = C(s.sent), key = C(s.leaf .. ".key") }
  local sp, cp
  if role.presenter == "server" then
    sp, cp = certs.server_params(own), verifier_params(role, s, objects)
  else
    sp, cp = verifier_params(role, s, objects), certs.client_params(with(own, { verify = "none" }))
  end
  local srv, cli, sres, cres = pair.connect(sp, cp)
  defer(srv)
  defer(cli)
  if role.presenter == "server" then return cli, cres end
  return srv, sres
end

-- The openssl options that present the case's certificate.
local function presenter_opts(s, extra)
  local o = s.sent:find("-chain.pem", 1, true) and { leaf = s.leaf }
    or { cert = C(s.leaf .. ".pem"), key = C(s.leaf .. ".key") }
  return with(o, extra)
end

local function blocking_handshake(conn)
  conn:settimeout(PEER_TIMEOUT)
  local ok, err = conn:dohandshake()
  return { ok = ok, err = err }
end

-- Ours blocking, the presenting peer an openssl process.
local function run_blocking(role, s, objects, defer)
  local params = verifier_params(role, s, objects)
  if role.presenter == "server" then
    local peer = defer(openssl.s_server(presenter_opts(s, { naccept = 1 })))
    local tcp = assert(socket.tcp())
    tcp:settimeout(PEER_TIMEOUT)
    assert(tcp:connect("127.0.0.1", peer.port))
    local conn = defer(assert(ssl.wrap(tcp, params)))
    return conn, blocking_handshake(conn)
  end
  local listener = defer(assert(socket.bind("127.0.0.1", 0)))
  local _, port = listener:getsockname()
  defer(openssl.s_client(presenter_opts(s, { port = port })))
  listener:settimeout(PEER_TIMEOUT)
  local tcp = assert(listener:accept())
  local conn = defer(assert(ssl.wrap(tcp, params)))
  return conn, blocking_handshake(conn)
end

local MODES = {
  { name = "non-blocking (both ends in this process)", run = run_nonblocking },
  { name = "blocking (an openssl peer process)", run = run_blocking },
}

---------------------------------------------------------------------------
-- The oracle itself
---------------------------------------------------------------------------

describe("verify reasons", function()
  after_each(helpers.stop_all)

  describe("the openssl verify oracle", function()
    it("reads the first error: code, depth, reason and the subject line before it", function()
      -- openssl verify goes on after an expired leaf; a handshake stops there.
      local r = oracle.parse(table.concat({
        "CN=a,O=b",
        "error 10 at 0 depth lookup: certificate has expired",
        "CN=c,O=d",
        "error 20 at 1 depth lookup: unable to get local issuer certificate",
        "error leaf.pem: verification failed",
      }, "\n") .. "\n")
      assert.same({ code = 10, depth = 0, reason = "certificate has expired",
                    subject = "CN=a,O=b", crl_path = false }, r)
    end)

    it("reads an error met on a CRL's path", function()
      local r = oracle.parse("CN=x\n[CRL path] error 3 at 0 depth lookup: unable to get certificate CRL\n")
      assert.same({ code = 3, depth = 0, reason = "unable to get certificate CRL",
                    subject = "CN=x", crl_path = true }, r)
    end)

    it("reads a chain that verifies, and nothing from other text", function()
      assert.same({ ok = true }, oracle.parse("leaf.pem: OK\n"))
      assert.is_nil(oracle.parse("Could not open file or uri for loading\n"))
      assert.is_nil(oracle.parse(""))
    end)

    it("a good chain verifies (the oracle is not always failing)", function()
      local r = oracle.verify({ leaf = C("server-rsa.pem"), untrusted = C("server-rsa-chain.pem"),
                                cafile = C("ca.pem"), purpose = "sslserver", hostname = "localhost" })
      assert.is_true(r.ok, r.output)
    end)

    for _, role in ipairs(ROLES) do
      for _, case in ipairs(CASES) do
        it(role.name .. ", " .. case.name .. ": a verify error; past the leaf, " ..
           "its subject is openssl x509's for that depth of the chain sent", function()
          local want = expected(case, role)
          assert.is_number(want.code)
          assert.is_true(want.code > 0)
          if want.depth > 0 then
            assert.equal(subject_at(want.setup.sent, want.depth), want.subject)
          end
        end)
      end
    end
  end)

  ---------------------------------------------------------------------------
  -- Every case, both roles, both modes
  ---------------------------------------------------------------------------

  for _, mode in ipairs(MODES) do
    describe(mode.name, function()
      for _, role in ipairs(ROLES) do
        describe(role.name, function()
          for _, case in ipairs(CASES) do
            it(case.name .. ": the message and getpeerverification()", function()
              local want = expected(case, role)
              local defer = helpers.cleanup(finally)
              local conn, res = mode.run(role, want.setup, false, defer)
              assert.is_falsy(res.ok)
              assert.equal(want.message, res.err)
              local ok, why = conn:getpeerverification()
              assert.is_false(ok)
              assert.equal(want.reason, why)
            end)

            it(case.name .. ": the error object", function()
              local want = expected(case, role)
              local defer = helpers.cleanup(finally)
              local _, res = mode.run(role, want.setup, true, defer)
              local err = res.err
              assert.is_falsy(res.ok)
              assert.equal("table", type(err))
              assert.equal("verify", err.kind)
              assert.equal(want.reason, err.reason)
              assert.equal(want.code, err.verify_code)
              assert.equal(want.depth, err.depth)
              assert.equal(want.message, err.message)
              assert.equal(want.message, tostring(err))
            end)
          end
        end)
      end
    end)
  end

  ---------------------------------------------------------------------------
  -- Not TLS at all; no answer at all
  ---------------------------------------------------------------------------

  local HTTP_RESPONSE = "HTTP/1.0 200 OK\r\n\r\n"
  local HTTP_REQUEST = "GET / HTTP/1.0\r\n\r\n"

  -- What openssl s_client says about a plain-TCP server answering
  -- HTTP_RESPONSE (asked once).
  local plain_server_reason
  local function openssl_on_plain_server(defer)
    if plain_server_reason then return plain_server_reason end
    local listener = defer(assert(socket.bind("127.0.0.1", 0)))
    local _, port = listener:getsockname()
    local cli = defer(openssl.s_client({ port = port, cafile = false }))
    listener:settimeout(PEER_TIMEOUT)
    local tcp = defer(assert(listener:accept()))
    tcp:settimeout(PEER_TIMEOUT)
    assert(tcp:send(HTTP_RESPONSE))
    assert(cli:wait(PEER_TIMEOUT))
    plain_server_reason = openssl.parse(cli:output()).errors[1]
    assert(plain_server_reason, "s_client reported no error:\n" .. cli:output())
    return plain_server_reason
  end

  -- What openssl s_server says about a client sending HTTP_REQUEST.
  local plain_client_reason
  local function openssl_on_plain_client(defer)
    if plain_client_reason then return plain_client_reason end
    local srv = defer(openssl.s_server({ naccept = 1 }))
    local tcp = defer(assert(socket.tcp()))
    tcp:settimeout(PEER_TIMEOUT)
    assert(tcp:connect("127.0.0.1", srv.port))
    assert(tcp:send(HTTP_REQUEST))
    tcp:receive("*a")   -- s_server closes the connection
    assert(srv:wait(PEER_TIMEOUT))
    plain_client_reason = openssl.parse(srv:output()).errors[1]
    assert(plain_client_reason, "s_server reported no error:\n" .. srv:output())
    return plain_client_reason
  end

  -- Our blocking client against a plain-TCP server that answers at once.
  local function client_of_plain_server(objects, defer)
    local s, c = pair.tcp()
    defer(s)
    assert(s:send(HTTP_RESPONSE))
    local conn = defer(assert(ssl.wrap(c, certs.client_params({ errorobjects = objects or nil }))))
    return blocking_handshake(conn)
  end

  -- Our non-blocking client; the server answers once it got the hello.
  local function nonblocking_client_of_plain_server(objects, defer)
    local s, c = pair.tcp()
    defer(s)
    local conn = defer(assert(ssl.wrap(c, certs.client_params({ errorobjects = objects or nil }))))
    conn:settimeout(0)
    s:settimeout(PEER_TIMEOUT)
    local answered = false
    local deadline = socket.gettime() + PEER_TIMEOUT
    while socket.gettime() < deadline do
      local ok, err = conn:dohandshake()
      local why = tostring(err)
      if ok or (why ~= "wantread" and why ~= "wantwrite") then return { ok = ok, err = err } end
      if not answered then
        assert(s:receive(5))   -- the start of the ClientHello record
        assert(s:send(HTTP_RESPONSE))
        answered = true
      end
      socket.select({ conn }, nil, 0.05)
    end
    error("the handshake did not end within " .. PEER_TIMEOUT .. " s")
  end

  -- Our blocking server; the client sends an HTTP request.
  local function server_of_plain_client(objects, defer)
    local s, c = pair.tcp()
    defer(c)
    assert(c:send(HTTP_REQUEST))
    local conn = defer(assert(ssl.wrap(s, certs.server_params({ errorobjects = objects or nil }))))
    return blocking_handshake(conn)
  end

  describe("a peer that does not speak TLS", function()
    local RUNS = {
      { name = "a plain-TCP server answering HTTP, our blocking client",
        run = client_of_plain_server, oracle = openssl_on_plain_server },
      { name = "a plain-TCP server answering HTTP, our non-blocking client",
        run = nonblocking_client_of_plain_server, oracle = openssl_on_plain_server },
      { name = "a plain-TCP client sending HTTP, our blocking server",
        run = server_of_plain_client, oracle = openssl_on_plain_client },
    }
    for _, r in ipairs(RUNS) do
      it(r.name .. ": the message is OpenSSL's reason, as openssl reports it", function()
        local defer = helpers.cleanup(finally)
        local reason = r.oracle(defer)
        local res = r.run(false, defer)
        assert.is_falsy(res.ok)
        assert.equal(reason, res.err)
      end)

      it(r.name .. ": the error object has the hint", function()
        local defer = helpers.cleanup(finally)
        local reason = r.oracle(defer)
        local res = r.run(true, defer)
        local err = res.err
        assert.is_falsy(res.ok)
        assert.equal("table", type(err))
        assert.equal("tls", err.kind)
        assert.equal(reason, err.reason)
        assert.equal(NOT_TLS_HINT, err.hint)
        assert.equal(reason, tostring(err))
      end)
    end
  end)

  describe("a blocking handshake with a peer that never answers", function()
    local SIDES = {
      { name = "our client", params = certs.client_params, ours = 2 },
      { name = "our server", params = certs.server_params, ours = 1 },
    }
    -- pair.tcp() gives (server socket, client socket); `ours` picks ours.
    local function silent_peer(side, objects, defer)
      local sockets = { pair.tcp() }
      defer(sockets[3 - side.ours])
      local conn = defer(assert(ssl.wrap(sockets[side.ours], side.params({ errorobjects = objects or nil }))))
      conn:settimeout(0.2)
      local ok, err = conn:dohandshake()
      return { ok = ok, err = err }
    end

    for _, side in ipairs(SIDES) do
      it(side.name .. ": 'wantread'", function()
        local res = silent_peer(side, false, helpers.cleanup(finally))
        assert.is_falsy(res.ok)
        assert.equal("wantread", res.err)
      end)

      it(side.name .. ": the error object is a timeout waiting to read", function()
        local res = silent_peer(side, true, helpers.cleanup(finally))
        local err = res.err
        assert.is_falsy(res.ok)
        assert.equal("table", type(err))
        assert.equal("timeout", err.kind)
        assert.equal("read", err.want)
        assert.equal("wantread", tostring(err))
      end)
    end
  end)
end)
