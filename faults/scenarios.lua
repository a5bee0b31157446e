------------------------------------------------------------------------------
-- faults/scenarios.lua - what the allocation sweep runs (faults/sweep.lua).
--
-- Each scenario is { name, setup = function() -> env, run = function(env, t) }.
-- setup runs once, unarmed (contexts and data the run only uses); run is
-- what the sweep fails allocation by allocation. Inside run:
--   t.ok(v, msg, ...)   a public call's result: v false/nil ends the run as
--                       an expected failure, provided msg is a message
--                       (a string, or an error object); returns v, msg, ...
--   t.see(key, value)   an observation: every value seen in a run under
--                       injection must equal the clean run's value
--   t.expect(cond, why) an invariant of a successful call
--   t.boolean(v, msg)   a call answering true/false, or nil, msg on failure
-- A run may also end with a Lua memory error. Anything else is a finding.
------------------------------------------------------------------------------
local socket = require "socket"
local ssl    = require "ssl"
local x509   = require "ssl.x509"

local CERTS = os.getenv("SSLUA_CERTS") or "build/certs"
local function C(name) return CERTS .. "/" .. name end
local function read(name)
  local f = assert(io.open(C(name), "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local PSK_KEY = ("00112233445566778899aabbccddeeff"):gsub("%x%x",
  function(h) return string.char(tonumber(h, 16)) end)

-- Servers sign with ECDSA: an allocation failure inside OpenSSL 3.0's RSA
-- signing (seen at crypto/bn/bn_lib.c) leaves the key producing bad
-- signatures for the next 32 uses, the life of RSA blinding values - a
-- sweep over an RSA server reports that as the peer's "decrypt error",
-- which no code of ours can prevent (faults/README.md).
local function server(over)
  local t = { mode = "server", protocol = "any", key = C "server-ecdsa.key",
              certificate = C "server-ecdsa-chain.pem", verify = "none", options = "all" }
  for k, v in pairs(over or {}) do t[k] = v end
  return t
end
local function client(over)
  local t = { mode = "client", protocol = "any", cafile = C "ca.pem", verify = "peer",
              options = "all" }
  for k, v in pairs(over or {}) do t[k] = v end
  return t
end

------------------------------------------------------------------------------
-- a loopback pair driven in turns (as spec/helpers/pair.lua, but every
-- result goes through t.ok and the deadline is short: nothing here is slow)

local DEADLINE = 5

local function tcp_pair(t)
  local listener = t.ok(socket.bind("127.0.0.1", 0))
  local _, port = listener:getsockname()
  local c = t.ok(socket.tcp())
  c:settimeout(2)
  local ok, err = c:connect("127.0.0.1", port)
  if not ok then listener:close(); c:close(); t.ok(ok, err) end
  listener:settimeout(2)
  local s, aerr = listener:accept()
  listener:close()
  if not s then c:close(); t.ok(s, aerr) end
  return s, c
end

local function step(conn, st)
  if st.done then return end
  local ok, err = conn:dohandshake()
  if ok then st.done, st.ok = true, true
  elseif err ~= "wantread" and err ~= "wantwrite" then st.done, st.err = true, err end
end

-- Both handshakes to the end; a side that fails is closed, so the other
-- sees the end of the stream. Returns true, or ends the run as a failure.
local function handshake(t, s, c)
  local sres, cres = {}, {}
  s:settimeout(0); c:settimeout(0)
  local limit = socket.gettime() + DEADLINE
  while not (sres.done and cres.done) do
    step(c, cres); step(s, sres)
    if cres.done and not cres.ok and not sres.done then c:close() end
    if sres.done and not sres.ok and not cres.done then s:close() end
    if not (sres.done and cres.done) then
      if socket.gettime() > limit then error("HANG: handshake past the deadline", 0) end
      socket.select({ s, c }, nil, 0.05)
    end
  end
  s:settimeout(2); c:settimeout(2)
  if not sres.ok then s:close(); c:close(); t.ok(false, sres.err) end
  if not cres.ok then s:close(); c:close(); t.ok(false, cres.err) end
  return true
end

-- Wraps both ends (contexts or params) and handshakes; the client side
-- gets `prepare(s, c)` first (sni, session, dane, ...).
local function connect(t, sctx, cctx, prepare)
  local stcp, ctcp = tcp_pair(t)
  local s, serr = ssl.wrap(stcp, sctx)
  if not s then stcp:close(); ctcp:close(); t.ok(s, serr) end
  local c, cerr = ssl.wrap(ctcp, cctx)
  if not c then s:close(); ctcp:close(); t.ok(c, cerr) end
  if prepare then prepare(s, c) end
  handshake(t, s, c)
  return s, c
end

-- One line each way, then close.
local function exchange(t, s, c)
  t.ok(c:send("ping\n"))
  t.see("server got", t.ok(s:receive("*l")))
  t.ok(s:send(("x"):rep(3000) .. "\n"))
  t.see("client got", #t.ok(c:receive("*l")))
  t.ok(c:send("abc"))
  t.see("count", t.ok(s:receive(3)))
end

local function closeall(...)
  for _, conn in ipairs { ... } do conn:close() end
end

------------------------------------------------------------------------------

local S = {}
local function scenario(name, setup, run) S[#S + 1] = { name = name, setup = setup, run = run } end

-- newcontext with each kind of parameter, a few per scenario

scenario("newcontext-files", nil, function(_, t)
  t.ok(ssl.newcontext(server { cafile = C "ca.pem", capath = C "capath", depth = 3,
                               verify = { "peer", "fail_if_no_peer_cert" },
                               options = { "all", "no_sslv3", "no_ticket" } }))
  t.ok(ssl.newcontext(client { key = C "client-rsa.key", certificate = C "client-rsa-chain.pem",
                               protocol = { min = "tlsv1_2", max = "tlsv1_3" } }))
end)

scenario("newcontext-data", function()
  return { key = read "server-ecdsa.key", chain = read "server-ecdsa-chain.pem",
           ca = read "ca.pem", cert = x509.load(read "ca.pem") }
end, function(e, t)
  t.ok(ssl.newcontext(server { key = e.key, certificate = e.chain, cafile = e.ca }))
  t.ok(ssl.newcontext(client { cafile = e.cert }))
end)

scenario("newcontext-password", function()
  return { pw = read("password.txt"):gsub("%s+$", "") }
end, function(e, t)
  local rsa = C "server-rsa-chain.pem"
  t.ok(ssl.newcontext(server { key = C "server-rsa-enc.key", certificate = rsa, password = e.pw }))
  t.ok(ssl.newcontext(server { key = C "server-rsa-enc.key", certificate = rsa,
                               password = function() return e.pw end }))
end)

scenario("newcontext-identities", nil, function(_, t)
  t.ok(ssl.newcontext { mode = "server", protocol = "any", certificates = {
    { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" },
    { key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem" } } })
end)

scenario("newcontext-ciphers", nil, function(_, t)
  t.ok(ssl.newcontext(client { ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
                               ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
                               curve = "P-256:X25519", verifyext = { "lsec_continue", "crl_check" },
                               cafile = C "all-ca.pem" }))
  t.ok(ssl.newcontext(server { curveslist = "X25519", dhparam = function() return read "dh2048.pem" end }))
end)

scenario("newcontext-features", nil, function(_, t)
  t.ok(ssl.newcontext(server { alpn = { "h2", "http/1.1" }, alpnstrict = true,
                               sessioncache = { size = 10, timeout = 60 }, ocsp = "staple-bytes",
                               errorobjects = true, keylog = function() end }))
  t.ok(ssl.newcontext(client { alpn = "h2", dane = true, verifyhost = "localhost",
                               verifycallback = function(ok) return ok end, ocsp = "request",
                               psk = function() return "alice", PSK_KEY end }))
  t.ok(ssl.newcontext(server { psk = { hint = "h", callback = function() return PSK_KEY end },
                               alpn = function() return "h2" end }))
end)

-- handshakes in both roles, I/O, inspection

local function contexts(sover, cover)
  return function()
    return { s = assert(ssl.newcontext(server(sover))), c = assert(ssl.newcontext(client(cover))) }
  end
end

scenario("handshake-tls13-io", contexts({ protocol = "tlsv1_3" }, { protocol = "tlsv1_3" }),
function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.see("protocol", c:info("protocol"))
  exchange(t, s, c)
  closeall(s, c)
end)

scenario("handshake-tls12-mutual",
  contexts({ protocol = "tlsv1_2", verify = { "peer", "fail_if_no_peer_cert" }, cafile = C "ca.pem" },
           { protocol = "tlsv1_2", key = C "client-ecdsa.key", certificate = C "client-ecdsa-chain.pem" }),
function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.see("verified", t.ok(s:getpeerverification()))
  exchange(t, s, c)
  closeall(s, c)
end)

scenario("handshake-params", nil, function(_, t)
  -- wrap with params tables: newcontext inside wrap
  local s, c = connect(t, server { protocol = "tlsv1_2" }, client { protocol = "tlsv1_2" })
  t.see("cipher", s:info("cipher"))
  closeall(s, c)
end)

scenario("inspect", contexts({ verify = "peer", cafile = C "ca.pem" },
                             { key = C "client-rsa.key", certificate = C "client-rsa-chain.pem" }),
function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.see("peer", t.ok(t.ok(c:getpeercertificate()):digest("sha256")))
  t.see("chain", #t.ok(c:getpeerchain()))
  t.see("local", t.ok(t.ok(s:getlocalcertificate()):digest()))
  t.see("localchain", #t.ok(s:getlocalchain()))
  t.see("verified", t.ok(c:getpeerverification()))
  t.see("finished", #t.ok(c:getfinished()))
  t.see("peerfinished", #t.ok(c:getpeerfinished()))
  t.see("ekm", #t.ok(c:exportkeyingmaterial("EXPERIMENTAL sslua", 32, "ctx")))
  local info = t.ok(c:info())
  t.see("info.protocol", info.protocol)
  t.see("group", c:info("group"))
  t.see("sockname", select(2, t.ok(s:getsockname())) ~= nil)
  t.see("alert", c:getalert())
  closeall(s, c)
end)

-- x509 loading and every method

scenario("x509", function()
  return { pem = read "server-rsa.pem", chain = read "server-rsa-chain.pem",
           ca = x509.load(read "ca.pem"), int = x509.load(read "int-ca.pem"),
           der = x509.load(read "root-ca.pem"):pem() }
end, function(e, t)
  local cert = t.ok(ssl.loadcertificate(e.pem))
  local der = t.ok(x509.load(e.der))
  t.see("pem", t.ok(cert:pem()))
  t.see("pubkey", t.ok(cert:pubkey()))
  t.see("sha1", t.ok(cert:digest()))
  t.see("sha512", t.ok(cert:digest("sha512")))
  local subject = t.ok(cert:subject())
  t.see("subject", subject[#subject].value)
  t.see("issuer", #t.ok(cert:issuer()))
  local ext = t.ok(cert:extensions())
  local n = 0
  for _ in pairs(ext) do n = n + 1 end
  t.see("extensions", n)
  t.see("notbefore", t.ok(cert:notbefore()))
  t.see("notafter", t.ok(cert:notafter()))
  t.see("validat", t.boolean(cert:validat(os.time())))
  t.see("serial", t.ok(cert:serial()))
  t.see("setencode", t.boolean(cert:setencode("utf8")))
  t.see("subject utf8", #t.ok(cert:subject()))
  t.see("issued", t.ok(e.int:issued(cert)))
  t.see("issued chain", t.ok(e.ca:issued(cert, e.int)))
  t.see("signame", t.ok(cert:getsignaturename()))
  t.see("checkhost", t.boolean(cert:checkhost("localhost", "no_partial_wildcards")))
  t.see("checkip", t.boolean(cert:checkip("127.0.0.1")))
  t.see("tostring", tostring(der):match("^X509 certificate") ~= nil)
  t.see("eq", cert == der)
end)

-- SNI: a server switching context by name, a client naming the host

scenario("sni", function()
  return { s = assert(ssl.newcontext(server())),
           other = assert(ssl.newcontext(server { key = C "server-ed25519.key",
                                                  certificate = C "server-ed25519-chain.pem",
                                                  alpn = { "h2" } })),
           c = assert(ssl.newcontext(client { alpn = { "h2", "http/1.1" } })) }
end, function(e, t)
  local s, c = connect(t, e.s, e.c, function(s, c)
    t.ok(s:sni({ ["Example.COM"] = e.other, ["localhost"] = e.s }, true))
    t.ok(c:sni("example.com"))
  end)
  t.see("sniname", s:getsniname())
  t.see("alpn", c:getalpn())
  t.see("switched", t.ok(c:getpeercertificate()):getsignaturename())
  closeall(s, c)
end)

-- sessions: export, import, resume; and the server-side cache

-- Resumption is best effort: a server that could not cache the session or
-- a client that could not keep its ticket (out of memory) does a full
-- handshake, which is right. Only a resumption is an observation.
local function resumed(t, c)
  if c:sessionreused() then t.see("reused", true) end
end

scenario("session", contexts({ protocol = "tlsv1_2", sessioncache = true, options = { "all", "no_ticket" } },
                             { protocol = "tlsv1_2" }),
function(e, t)
  local s, c = connect(t, e.s, e.c)
  local sess = t.ok(c:getsession())
  local der = t.ok(sess:export())
  closeall(s, c)
  local again = t.ok(ssl.importsession(der))
  local s2, c2 = connect(t, e.s, e.c, function(_, c2) t.ok(c2:setsession(again)) end)
  resumed(t, c2)
  closeall(s2, c2)
end)

scenario("session-tls13-ticket", contexts({ protocol = "tlsv1_3" }, { protocol = "tlsv1_3" }),
function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.ok(s:send("x"))
  t.ok(c:receive(1))   -- reads the tickets
  local sess = t.ok(c:getsession())
  closeall(s, c)
  local s2, c2 = connect(t, e.s, e.c, function(_, c2) t.ok(c2:setsession(sess)) end)
  resumed(t, c2)
  closeall(s2, c2)
end)

-- OCSP: a server stapling through its function, a client requiring it

scenario("ocsp", function()
  local good = read "ocsp-server-rsa.der"
  -- the staple is server-rsa's (faults/README.md: RSA and the sweep)
  return { s = assert(ssl.newcontext(server { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem",
                                              ocsp = function() return good end })),
           c = assert(ssl.newcontext(client { ocsp = "require" })) }
end, function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.see("staple", #t.ok(c:getocsp()))
  closeall(s, c)
end)

-- the other callbacks: verifycallback, alpn, keylog (password in
-- newcontext-password, ocsp and sni above, psk below)

scenario("callbacks", function()
  local lines = {}
  return {
    lines = lines,
    s = assert(ssl.newcontext(server { alpn = function(list) return list[#list] end,
                                       keylog = function(line) lines[#lines + 1] = line end })),
    c = assert(ssl.newcontext(client { alpn = { "h2", "http/1.1" },
                                       verifycallback = function(ok, cert, depth)
                                         return ok and cert:subject() ~= nil and depth >= 0 end })),
  }
end, function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.see("keylog", #e.lines > 0)
  -- An alpn function that fails (here: out of memory) skips ALPN, as
  -- documented; the handshake goes on without it.
  local alpn = c:getalpn()
  if alpn ~= nil then t.see("alpn", alpn) end
  closeall(s, c)
end)

scenario("psk", function()
  local function pskctx(mode, fn)
    return assert(ssl.newcontext { mode = mode, protocol = "tlsv1_3", psk = fn })
  end
  return { s = pskctx("server", { hint = "hint", callback = function(id) return id == "alice" and PSK_KEY or nil end }),
           c = pskctx("client", function() return "alice", PSK_KEY end) }
end, function(e, t)
  local s, c = connect(t, e.s, e.c)
  t.see("protocol", s:info("protocol"))
  closeall(s, c)
end)

scenario("dane", function()
  local p = io.popen("openssl x509 -in " .. C "server-ecdsa.pem" ..
                     " -outform DER | openssl dgst -sha256 -binary")
  local digest = p:read("a")
  p:close()
  return { s = assert(ssl.newcontext(server())),
           c = assert(ssl.newcontext { mode = "client", protocol = "any", verify = "peer", dane = true }),
           digest = digest }
end, function(e, t)
  local s, c = connect(t, e.s, e.c, function(_, c)
    t.ok(c:setdane("localhost"))
    t.ok(c:settlsa(3, 0, 1, e.digest))
  end)
  t.see("verified", t.ok(c:getpeerverification()))
  closeall(s, c)
end)

scenario("verifyhost-errorobjects", contexts({}, { verifyhost = "wrong.example", errorobjects = true }),
function(e, t)
  local ok, err = pcall(connect, t, e.s, e.c)
  -- it fails either way: by the name, or by an injected failure
  t.expect(not ok, "a wrong verifyhost was accepted")
  if not t.failed(err) then error(err, 0) end
  t.see("failed", true)
end)

S.byname = {}
for _, sc in ipairs(S) do S.byname[sc.name] = sc end
return S
