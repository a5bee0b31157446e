-- Certificate verification: verify mode x certificate scenario x trust store
-- x depth x TLS version, in both roles (our client checking a server, our
-- server checking a client), against our own peer and against openssl
-- s_server / s_client.
--
-- The expectations come from an oracle: a small model of the test PKI
-- (certs/README.md; the chain facts are checked against build/certs below)
-- and of the order in which OpenSSL verifies a chain. Every combination
-- is run and compared with it: both sides' dohandshake results with their
-- exact texts, and in TLS 1.3 the client's first read when the server
-- rejected the client's certificate after the client had finished. The
-- texts are this OpenSSL's: a verification error's from openssl verify
-- (x509oracle) on a chain that fails with it, a received alert's from
-- alerts.received.
--
-- Known gaps, encoded in the oracle and named in the test titles:
--  * no host name / IP check exists: `wronghost` verifies with verify=peer;
--  * CRLs in the cafile are not consulted without a crl_check flag:
--    `revoked` verifies even with cafile = ca-crl.pem.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local x509oracle = require "spec.helpers.x509oracle"
local alerts  = require "spec.helpers.alerts"

local C, NIL = certs.path, certs.NIL

---------------------------------------------------------------------------
-- The model of the test PKI
---------------------------------------------------------------------------

-- For each leaf: `path`, its issuers from the first up to the self-signed
-- root; `chain`, the CA certificates its X-chain.pem carries after the leaf
-- (nil: there is no chain file); `eku`; `time` ("expired"/"notyet"/nil);
-- `self_signed` when the leaf is its own issuer. `hostname_mismatch` and
-- `revoked` are facts the module does not check yet (see the top).
local INT  = { "int-ca", "root-ca" }
local DEEP = { "deep4", "deep3", "deep2", "deep1", "root-ca" }
local LEAVES = {
  ["server-rsa"]        = { path = INT, chain = { "int-ca" }, eku = "serverAuth" },
  ["server-ecdsa"]      = { path = INT, chain = { "int-ca" }, eku = "serverAuth" },
  ["server-ed25519"]    = { path = INT, chain = { "int-ca" }, eku = "serverAuth" },
  ["client-rsa"]        = { path = INT, chain = { "int-ca" }, eku = "clientAuth" },
  ["client-ecdsa"]      = { path = INT, chain = { "int-ca" }, eku = "clientAuth" },
  ["client-ed25519"]    = { path = INT, chain = { "int-ca" }, eku = "clientAuth" },
  ["expired"]           = { path = INT, chain = { "int-ca" }, eku = "serverAuth", time = "expired" },
  ["notyet"]            = { path = INT, chain = { "int-ca" }, eku = "serverAuth", time = "notyet" },
  ["wronghost"]         = { path = INT, chain = { "int-ca" }, eku = "serverAuth", hostname_mismatch = true },
  ["server-eku-client"] = { path = INT, chain = { "int-ca" }, eku = "clientAuth" },
  ["client-eku-server"] = { path = INT, chain = { "int-ca" }, eku = "serverAuth" },
  ["revoked"]           = { path = INT, chain = { "int-ca" }, eku = "serverAuth", revoked = true },
  ["untrusted"]         = { path = { "rogue-ca" }, chain = { "rogue-ca" }, eku = "serverAuth" },
  ["deep"]              = { path = DEEP, chain = { "deep4", "deep3", "deep2", "deep1" }, eku = "serverAuth" },
  ["selfsigned"]        = { path = {}, self_signed = true, eku = "serverAuth" },
}

-- Trust configurations of the verifying side: the params they add and the
-- certificates their store holds.
local TRUST = {
  ["ca"]         = { params = { cafile = "ca.pem" }, store = { "root-ca" } },
  ["capath"]     = { params = { cafile = NIL, capath = "capath" }, store = { "root-ca" } },
  ["all-ca"]     = { params = { cafile = "all-ca.pem" }, store = { "root-ca", "int-ca" } },
  ["rogue-ca"]   = { params = { cafile = "rogue-ca.pem" }, store = { "rogue-ca" } },
  ["ca-crl"]     = { params = { cafile = "ca-crl.pem" }, store = { "root-ca" }, crl = true },
  ["selfsigned"] = { params = { cafile = "selfsigned.pem" }, store = { "selfsigned" } },
}

local function set(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

-- A presented certificate: "name" (its chain file, or the leaf alone when it
-- has none), "name:leaf" (the leaf without its intermediates) or "none".
local function presented(p)
  if p == "none" then return nil end
  local name, leaf_only = p:match("^(.-)(:leaf)$")
  name = name or p
  local L = assert(LEAVES[name], "unknown leaf " .. name)
  local use_chain = L.chain and not leaf_only
  return {
    name = name, leaf = L,
    file = use_chain and (name .. "-chain.pem") or (name .. ".pem"),
    key = name .. ".key",
    sent = set(use_chain and L.chain or {}),
  }
end

---------------------------------------------------------------------------
-- The oracle
---------------------------------------------------------------------------

-- OpenSSL's verification error for presented certificate `p` checked with
-- trust `trust`, depth `depth` (nil: OpenSSL's default, 100) for `purpose`,
-- in the order X509_verify_cert finds them with the default callback (the
-- first error aborts): 1. building the chain up to a trusted self-signed
-- root, with the depth limit (the number of CA certificates between the
-- leaf and the anchor); 2. the purpose (EKU) of the leaf for the role;
-- 3. validity periods. Revocation and host names are not checked (known
-- gaps, see the top). nil: the chain verifies.
--
-- Also where: the depth of the certificate the error is about (0: the
-- leaf; path[i] is at depth i) and that certificate's name. The chain
-- stops at the last certificate whose issuer was found: a missing issuer
-- is reported at the depth of the certificate that needs it, a sent but
-- untrusted root at its own depth, a chain over the limit at the first
-- intermediate past it (even when the root would not have been trusted:
-- the limit is met first).
local function verify_error(p, trust, depth, purpose)
  local L, store = p.leaf, set(TRUST[trust].store)
  local function at(d) return d == 0 and p.name or L.path[d] end
  if L.self_signed then
    if not store[p.name] then return "self_signed", 0, p.name end
  else
    for i, ca in ipairs(L.path) do
      if i == #L.path then                      -- the root
        if not store[ca] then
          if p.sent[ca] then return "self_signed_in_chain", i, ca end
          return "no_issuer", i - 1, at(i - 1)
        end
      elseif not (p.sent[ca] or store[ca]) then
        return "no_issuer", i - 1, at(i - 1)
      elseif depth and i > depth then
        -- found while building, before anything about the root is known
        return "chain_too_long", i, ca
      end
    end
  end
  if L.eku ~= purpose then return "purpose", 0, p.name end
  if L.time == "expired" then return "expired", 0, p.name end
  if L.time == "notyet" then return "notyet", 0, p.name end
  return nil
end

-- The kinds of error verify_error names. Each has its X509_V_ERR code, a
-- chain that fails with it (files of build/certs, for openssl verify) and
-- the alert the rejecting side sends for it (OpenSSL's
-- ssl_verify_alarm_type). Its text is what openssl verify says on that
-- chain, asked once: the wording is OpenSSL's and changes between
-- versions (3.6: "certificate is not yet valid or the system clock is
-- incorrect").
local KINDS = {
  no_issuer            = { code = 20, alert = "unknown ca",
                           example = { leaf = "server-rsa.pem", cafile = "ca.pem" } },
  self_signed          = { code = 18, alert = "unknown ca",
                           example = { leaf = "selfsigned.pem", cafile = "ca.pem" } },
  self_signed_in_chain = { code = 19, alert = "unknown ca",
                           example = { leaf = "untrusted.pem", untrusted = "untrusted-chain.pem", cafile = "ca.pem" } },
  chain_too_long       = { code = 22, alert = "unknown ca",
                           example = { leaf = "deep.pem", untrusted = "deep-chain.pem", cafile = "ca.pem", depth = 2 } },
  purpose              = { code = 26, alert = "unsupported certificate",
                           example = { leaf = "server-eku-client.pem", untrusted = "server-eku-client-chain.pem",
                                       cafile = "ca.pem", purpose = "sslserver" } },
  expired              = { code = 10, alert = "certificate expired",
                           example = { leaf = "expired.pem", untrusted = "expired-chain.pem", cafile = "ca.pem" } },
  notyet               = { code = 9, alert = "bad certificate",
                           example = { leaf = "notyet.pem", untrusted = "notyet-chain.pem", cafile = "ca.pem" } },
}
local FILE_OPTIONS = { leaf = true, untrusted = true, cafile = true }

-- reason(kind) -> OpenSSL's text for that kind of verification error.
local function reason(kind)
  local k = assert(KINDS[kind], kind)
  if not k.text then
    local opts = {}
    for key, v in pairs(k.example) do opts[key] = FILE_OPTIONS[key] and C(v) or v end
    local r = x509oracle.verify(opts)
    assert(r.code == k.code, ("openssl verify on the %s example: %s"):format(kind, r.output))
    k.text = r.reason
  end
  return k.text
end

-- The handshake message for a verification error: OpenSSL's text, and past
-- the leaf where the chain failed, with the subject as openssl x509 prints
-- it in RFC 2253 form (spec/verify_reasons_spec.lua checks the same against
-- openssl verify itself).
local subjects = {}
local function verify_failed(kind, depth, name)
  if depth == 0 then return ("certificate verify failed (%s)"):format(reason(kind)) end
  subjects[name] = subjects[name] or x509oracle.subject(certs.read(name .. ".pem"))
  return ("certificate verify failed (%s at depth %d: %s)"):format(reason(kind), depth, subjects[name])
end

-- The alert for a kind of verification error, as the other side reports
-- it: in this OpenSSL's words for a received alert.
local function received_alert(kind) return alerts.received(KINDS[kind].alert) end

local MODES = {
  { name = "none",                      value = "none" },
  { name = "peer",                      value = "peer" },
  { name = "peer+fail_if_no_peer_cert", value = { "peer", "fail_if_no_peer_cert" } },
  { name = "peer+client_once",          value = { "peer", "client_once" } },
}
local function has(mode, flag)
  if type(mode.value) == "string" then return mode.value == flag end
  for _, v in ipairs(mode.value) do if v == flag then return true end end
  return false
end

-- expect(case) -> { server = true | err, client = true | err,
--                   client_read = nil | err, why = "..." }
-- case.role "server": our client (verify = case.mode, trust, depth) checks
--   the certificate case.presented of a server that does not verify.
-- case.role "client": our server (verify = case.mode, trust, depth) checks
--   the client's case.presented ("none": no client certificate); the client
--   checks the server's good chain against ca.pem.
-- The verify flags fail_if_no_peer_cert and client_once are server-only:
-- OpenSSL ignores them in a client. client_once matters only for
-- renegotiation (TLS <= 1.2), never for a first handshake.
local function expect(case)
  local ok = { server = true, client = true }
  if not has(case.mode, "peer") then
    ok.why = case.role == "server" and "no verification" or "no certificate requested"
    return ok
  end
  local p = presented(case.presented)
  local tls13 = case.protocol == "tlsv1_3"
  if case.role == "server" then
    local verr, vdepth, vname = verify_error(p, case.trust, case.depth, "serverAuth")
    if not verr then
      ok.why = p.leaf.hostname_mismatch and "verifies (known gap: no host name check)"
        or (p.leaf.revoked and "verifies (known gap: no CRL check without crl_check)")
        or "verifies"
      return ok
    end
    return { client = verify_failed(verr, vdepth, vname), server = received_alert(verr), why = reason(verr) }
  end
  -- our server checks the client
  local server_err, alert, why
  if not p then
    if not has(case.mode, "fail_if_no_peer_cert") then
      ok.why = "no certificate, none required"
      return ok
    end
    server_err, why = "peer did not return a certificate", "no certificate"
    alert = alerts.received(tls13 and "certificate required" or "handshake failure")
  else
    local verr, vdepth, vname = verify_error(p, case.trust, case.depth, "clientAuth")
    if not verr then ok.why = "verifies" return ok end
    server_err, alert, why = verify_failed(verr, vdepth, vname), received_alert(verr), reason(verr)
  end
  -- TLS 1.3: the client's handshake is over once it sent its Finished; it
  -- learns of the rejection from the alert, on its first read.
  if tls13 then return { server = server_err, client = true, client_read = alert, why = why } end
  return { server = server_err, client = alert, why = why }
end

local function describe_result(e)
  local function r(x) return x == true and "ok" or ("'" .. x .. "'") end
  local s = "server " .. r(e.server) .. ", client " .. r(e.client)
  if e.client_read then s = s .. " then read '" .. e.client_read .. "'" end
  return s .. " (" .. e.why .. ")"
end

local function case_name(c, e)
  return string.format("%s cert %s | verify=%s | trust=%s | depth=%s | %s -> %s",
    c.role, c.presented, c.mode.name, c.trust, tostring(c.depth or "default"),
    c.protocol, describe_result(e))
end

---------------------------------------------------------------------------
-- Params of both sides
---------------------------------------------------------------------------

local function trust_params(trust, o)
  for k, v in pairs(TRUST[trust].params) do
    if v == NIL then o[k] = NIL
    elseif k == "capath" then o[k] = certs.dir() .. "/" .. v
    else o[k] = C(v) end
  end
  return o
end

-- The verifying side's params and the presenting side's params.
local function params(c)
  local p = presented(c.presented)
  local identity = p and { certificate = C(p.file), key = C(p.key) }
    or { certificate = NIL, key = NIL }
  if c.role == "server" then
    local sp = certs.server_params({ protocol = c.protocol, verify = "none",
      certificate = identity.certificate, key = identity.key })
    local cp = certs.client_params(trust_params(c.trust, {
      verify = c.mode.value, depth = c.depth, key = NIL, certificate = NIL }))
    return sp, cp
  end
  local sp = certs.server_params(trust_params(c.trust, {
    protocol = c.protocol, verify = c.mode.value, depth = c.depth }))
  local cp = certs.client_params({ verify = "peer",
    certificate = identity.certificate, key = identity.key })
  return sp, cp
end

---------------------------------------------------------------------------
-- The matrices
---------------------------------------------------------------------------

local SERVER_PRESENTED = {
  "server-rsa", "server-rsa:leaf", "server-ecdsa", "server-ed25519", "expired",
  "notyet", "selfsigned", "untrusted", "wronghost", "server-eku-client",
  "revoked", "deep", "client-rsa",
}
local CLIENT_PRESENTED = {
  "client-rsa", "client-rsa:leaf", "client-ecdsa", "client-ed25519",
  "client-eku-server", "expired", "notyet", "selfsigned", "untrusted", "deep",
  "server-rsa", "none",
}
local SERVER_TRUSTS = { "ca", "capath", "all-ca", "rogue-ca", "ca-crl", "selfsigned" }
local CLIENT_TRUSTS = { "ca", "capath", "all-ca", "rogue-ca" }
local DEPTHS = { false, 2 }          -- false: not set (OpenSSL's default)
local PROTOCOLS = { "tlsv1_2", "tlsv1_3" }

local function matrix(role, presented_list, trusts)
  local cases = {}
  for _, protocol in ipairs(PROTOCOLS) do
    for _, mode in ipairs(MODES) do
      for _, p in ipairs(presented_list) do
        for _, trust in ipairs(trusts) do
          for _, depth in ipairs(DEPTHS) do
            cases[#cases + 1] = { role = role, presented = p, mode = mode, trust = trust,
                                  depth = depth or nil, protocol = protocol }
          end
        end
      end
    end
  end
  return cases
end

-- Depth boundaries: server-rsa has one CA between leaf and root, deep four.
local function depth_matrix()
  local cases = {}
  for _, protocol in ipairs(PROTOCOLS) do
    for _, p in ipairs({ "server-rsa", "deep" }) do
      for depth = 0, 5 do
        cases[#cases + 1] = { role = "server", presented = p, mode = MODES[2], trust = "ca",
                              depth = depth, protocol = protocol }
      end
    end
    for depth = 0, 1 do
      cases[#cases + 1] = { role = "client", presented = "client-rsa", mode = MODES[3],
                            trust = "ca", depth = depth, protocol = protocol }
    end
  end
  return cases
end

-- pair.connect, with TCP_NODELAY on both sockets: in TLS 1.3 the server's
-- second session ticket sits unacknowledged behind the client's delayed ACK
-- (~40 ms on Linux loopback), and Nagle then holds the server's first reply
-- as long; the exchange below would cost 40 ms a case instead of 0.
local function connect(sp, cp)
  local stcp, ctcp = pair.tcp()
  assert(stcp:setoption("tcp-nodelay", true))
  assert(ctcp:setoption("tcp-nodelay", true))
  local server = assert(ssl.wrap(stcp, sp))
  local client = assert(ssl.wrap(ctcp, cp))
  local sres, cres = pair.handshake(server, client)
  return server, client, sres, cres
end

local function run_pair(c, e, defer)
  local sp, cp = params(c)
  local server, client, sres, cres = connect(sp, cp)
  defer(server); defer(client)
  assert.same(e.server == true and { ok = true } or { ok = false, err = e.server }, sres, "server handshake")
  assert.same(e.client == true and { ok = true } or { ok = false, err = e.client }, cres, "client handshake")
  local version = c.protocol == "tlsv1_3" and "TLSv1.3" or "TLSv1.2"
  if e.client == true then
    assert.equal(version, pair.version(client))
    client:settimeout(5)
    if e.server == true then
      assert.equal(version, pair.version(server))
      server:settimeout(5)
      assert.equal(5, client:send("ping\n"))
      assert.equal("ping", server:receive("*l"))
      assert.equal(5, server:send("pong\n"))
      assert.equal("pong", client:receive("*l"))
    else
      local data, err = client:receive("*l")
      assert.same({ nil, e.client_read }, { data, err }, "client's first read")
    end
  end
end

describe("verification", function()
  after_each(helpers.stop_all)   -- safety net; every test stops its own

  it("the PKI model matches build/certs", function()
    local function blocks(name) return certs.pem_blocks(certs.read(name)) end
    for name, L in pairs(LEAVES) do
      if L.chain then
        local b = blocks(name .. "-chain.pem")
        assert.equal(#L.chain + 1, #b, name .. "-chain.pem")
        assert.equal(blocks(name .. ".pem")[1], b[1], name .. "-chain.pem leaf")
        for i, ca in ipairs(L.chain) do
          assert.equal(blocks(ca .. ".pem")[1], b[i + 1], name .. "-chain.pem #" .. (i + 1))
        end
      else
        assert.is_false(certs.exists(name .. "-chain.pem"))
      end
    end
    for name, t in pairs(TRUST) do
      if t.params.cafile ~= NIL then
        local b, want = blocks(t.params.cafile), {}
        for _, ca in ipairs(t.store) do want[#want + 1] = blocks(ca .. ".pem")[1] end
        assert.same(want, b, name)
      end
    end
    -- capath: root-ca under its hash, nothing else
    local p = io.popen("ls " .. certs.dir() .. "/capath")
    local files = {}
    for f in p:lines() do files[#files + 1] = f end
    p:close()
    assert.equal(1, #files)
    assert.matches("^%x+%.0$", files[1])
    assert.same(blocks("root-ca.pem"), blocks("capath/" .. files[1]))
  end)

  it("the oracle gives the contract's texts for the reference cases", function()
    local function e(t) t.mode = t.mode or MODES[2]; t.trust = t.trust or "ca"
      t.protocol = t.protocol or "tlsv1_3"; local r = expect(t); r.why = nil; return r end
    -- (the texts as OpenSSL words them: 3.0's "self-signed certificate in
    -- certificate chain", "certificate has expired", ...)
    assert.same({ client = ("certificate verify failed (%s at depth 1: "):format(reason("self_signed_in_chain"))
                  .. "CN=sslua Rogue CA,OU=rogue-ca,O=sslua Test PKI)", server = alerts.received("unknown ca") },
      e { role = "server", presented = "untrusted" })
    assert.same({ client = ("certificate verify failed (%s)"):format(reason("expired")),
                  server = alerts.received("certificate expired") },
      e { role = "server", presented = "expired" })
    assert.same({ client = ("certificate verify failed (%s)"):format(reason("purpose")),
                  server = alerts.received("unsupported certificate") },
      e { role = "server", presented = "server-eku-client" })
    assert.same({ client = true, server = true }, e { role = "server", presented = "wronghost" })
    assert.same({ client = true, server = true }, e { role = "server", presented = "revoked", trust = "ca-crl" })
    assert.same({ client = ("certificate verify failed (%s at depth 3: "):format(reason("chain_too_long"))
                  .. "CN=sslua Deep CA 2,OU=deep2,O=sslua Test PKI)", server = alerts.received("unknown ca") },
      e { role = "server", presented = "deep", depth = 2 })
    assert.same({ client = true, server = true }, e { role = "server", presented = "deep" })
    assert.same({ server = "peer did not return a certificate", client = true,
                  client_read = alerts.received("certificate required") },
      e { role = "client", presented = "none", mode = MODES[3] })
    assert.same({ server = "peer did not return a certificate", client = alerts.received("handshake failure") },
      e { role = "client", presented = "none", mode = MODES[3], protocol = "tlsv1_2" })
  end)

  for _, spec in ipairs({
    { "our client checks our server's certificate", matrix("server", SERVER_PRESENTED, SERVER_TRUSTS) },
    { "our server checks our client's certificate", matrix("client", CLIENT_PRESENTED, CLIENT_TRUSTS) },
    { "depth limits", depth_matrix() },
  }) do
    describe(spec[1], function()
      for _, c in ipairs(spec[2]) do
        local e = expect(c)
        it(case_name(c, e), function()
          run_pair(c, e, helpers.cleanup(finally))
        end)
      end
    end)
  end
end)

---------------------------------------------------------------------------
-- Against openssl
---------------------------------------------------------------------------

-- s_server / s_client options presenting `p` (see presented()).
local function openssl_identity(p, o)
  local q = presented(p)
  if not q then return o end
  if q.file == q.name .. "-chain.pem" or q.leaf.self_signed then
    o.leaf = q.name                 -- -cert leaf -key key [-cert_chain CAs]
  else
    o.cert, o.key = C(q.file), C(q.key)   -- the leaf alone
  end
  return o
end

-- Connections our client makes to one s_server presenting `p`: every mode in
-- both versions with ca.pem, plus the trust/depth variants that matter.
local EXTRA = {
  ["server-rsa"]      = { { trust = "capath" }, { trust = "rogue-ca" }, { depth = 0 }, { depth = 1 } },
  ["server-rsa:leaf"] = { { trust = "all-ca" }, { trust = "capath" } },
  ["untrusted"]       = { { trust = "rogue-ca" } },
  ["selfsigned"]      = { { trust = "selfsigned" } },
  ["revoked"]         = { { trust = "ca-crl" } },
  ["deep"]            = { { depth = 2 }, { depth = 3 }, { depth = 4 } },
}

describe("verification against openssl", function()
  after_each(helpers.stop_all)

  -- One s_server per presented certificate, naccept = its connections; each
  -- connection is checked before the next (s_server's alert text included).
  describe("our client checks s_server's certificate", function()
    for _, p in ipairs(SERVER_PRESENTED) do
      local cases = {}
      for _, protocol in ipairs(PROTOCOLS) do
        for _, mode in ipairs(MODES) do
          cases[#cases + 1] = { role = "server", presented = p, mode = mode, trust = "ca", protocol = protocol }
        end
      end
      for _, x in ipairs(EXTRA[p] or {}) do
        cases[#cases + 1] = { role = "server", presented = p, mode = MODES[2],
                              trust = x.trust or "ca", depth = x.depth, protocol = "tlsv1_3" }
      end
      local names = {}
      for _, c in ipairs(cases) do
        local e = expect(c)
        names[#names + 1] = string.format("[%s %s %s/%s: %s]", c.protocol, c.mode.name, c.trust,
          tostring(c.depth or "default"), e.client == true and "ok" or e.server)
      end
      it("s_server presenting " .. p .. ": " .. table.concat(names, " "), function()
        local defer = helpers.cleanup(finally)
        local srv = defer(openssl.s_server(openssl_identity(p, { naccept = #cases, cafile = false })))
        local rounds = {}
        for _, c in ipairs(cases) do
          local e = expect(c)
          local _, cp = params(c)
          cp.protocol = c.protocol
          rounds[#rounds + 1] = { what = case_name(c, e) .. ": ", params = cp,
            client_err = e.client ~= true and e.client or nil, server_err = e.server }
        end
        openssl.client_rounds(defer, srv, rounds, 5)
      end)
    end
  end)

  -- One s_client per case (about 50 ms each).
  describe("our server checks s_client's certificate", function()
    for _, protocol in ipairs(PROTOCOLS) do
      for _, mode in ipairs(MODES) do
        for _, p in ipairs(CLIENT_PRESENTED) do
          local c = { role = "client", presented = p, mode = mode, trust = "ca", protocol = protocol }
          local e = expect(c)
          it(case_name(c, e), function()
            local defer = helpers.cleanup(finally)
            local conn, ok, err, cli = openssl.accept_s_client(defer,
              openssl_identity(p, { ign_eof = true }), (params(c)), nil, 5)
            local token = "sslua-token-" .. math.random(1e9)
            if e.server == true then
              assert.same({ true }, { ok, err })
              assert.equal(#token + 1, conn:send(token .. "\n"))
            else
              assert.same({ false, e.server }, { ok, err })
            end
            conn:close()
            local done, code = cli:wait(5)
            assert.is_true(done)
            local out = cli:output()
            local r = openssl.parse(out)
            local client_err = e.client ~= true and e.client or e.client_read
            if client_err then
              assert.equal(1, code)
              assert(openssl.error_counts(out)[client_err] == 1,
                "s_client should report '" .. client_err .. "':\n" .. out)
              assert.equal(1, #r.errors, out)
            else
              assert.equal(0, code)
              assert.same({}, r.errors)
              assert(out:find(token, 1, true), "s_client did not print the line:\n" .. out)
            end
          end)
        end
      end
    end
  end)
end)
