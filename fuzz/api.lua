------------------------------------------------------------------------------
-- fuzz/api.lua - seeded, reproducible fuzzer of sslua's whole Lua API.
--
--   lua5.3 fuzz/api.lua SEED N        N random calls from seed SEED
--
-- Environment: LUA_PATH/LUA_CPATH pointing at a build (the Makefile sets
-- them), SSLUA_CERTS (default build/certs), FUZZ_TRACE=1 prints every call
-- before it runs (to find the call a crash happened in), FUZZ_STOP=K stops
-- after call K (with FUZZ_TRACE, the last line is the call to look at).
-- FUZZ_FAIL_ALLOC=K (run under faults/driver, see fuzz/run-api): inside
-- every fuzzed call, each allocation of OpenSSL or Lua fails with
-- probability 1/K; a Lua memory error is then an accepted outcome.
--
-- Every call goes through pcall. Each call is one of: a module function
-- (ssl.*, ssl.context.*, ssl.x509.*, ssl.core.*, ssl.https.* with bad
-- arguments only) or a method / metamethod taken from the registry's
-- "SSL:Context", "SSL:Connection" and "SSL:Certificate" metatables, on an
-- object in one of the states fresh, mid-handshake, failed, connected,
-- closed, or whose owner was collected, with random arguments of every Lua
-- type. Only loopback sockets are used and every socket stays non-blocking
-- (or has a timeout of at most 20 ms), so no call can hang.
--
-- A "finding" is an error that is not an argument error raised by the
-- module: a runtime error inside ssl.lua / ssl/https.lua ("attempt to
-- index ..."), a bad metamethod result escaping from C, an error of a
-- callback escaping through the handshake, ... Each is printed with the
-- seed and the call number; the exit status is 1 when there is any.
-- Crashes and sanitizer reports end the process (make fuzz-api turns them
-- into a failure); rerun with FUZZ_TRACE=1 to see the call.
------------------------------------------------------------------------------

local SEED = math.tointeger(tonumber(arg[1] or "1")) or 1
local N    = math.tointeger(tonumber(arg[2] or "10000")) or 10000
local TRACE = os.getenv("FUZZ_TRACE") == "1"
local STOP  = math.tointeger(tonumber(os.getenv("FUZZ_STOP") or "")) or nil
local CERTS = os.getenv("SSLUA_CERTS") or "build/certs"
-- luacheck: read globals faults
local FAIL_ALLOC = math.tointeger(tonumber(os.getenv("FUZZ_FAIL_ALLOC") or "")) or 0
if FAIL_ALLOC > 0 and type(faults) ~= "table" then
  io.stderr:write("FUZZ_FAIL_ALLOC needs the faults/driver host (fuzz/run-api sets it up)\n")
  os.exit(2)
end
if FAIL_ALLOC > 0 then faults.random(0, SEED) end

local socket = require "socket"
local ssl    = require "ssl"
local core   = require "ssl.core"
local context = require "ssl.context"
local x509   = require "ssl.x509"
local https  = require "ssl.https"

local TOKEN = "FUZZ-CALLBACK-ERROR"
local CALL_LIMIT = 5   -- seconds; any call taking longer is a finding

------------------------------------------------------------------------------
-- PRNG: xorshift64, independent of libc, so a seed means the same run
-- everywhere.

-- Two streams: the main one decides the calls and their arguments, and
-- makes the same number of draws whatever the calls return; the second one
-- serves callbacks and finalizers, which run at times that depend on the
-- network and the collector. So a seed replays the same call sequence.
local streams = { SEED ~ 0x2545F4914F6CDD1D, SEED ~ 0x5851F42D4C957F2D }
for i = 1, 2 do if streams[i] == 0 then streams[i] = i end end
local which = 1
local function rnd()
  local rs = streams[which]
  rs = rs ~ (rs << 13); rs = rs ~ (rs >> 7); rs = rs ~ (rs << 17)
  streams[which] = rs
  return rs
end
-- Runs f on the second stream.
local function aux(f)
  return function(...)
    local prev = which
    which = 2
    local r = table.pack(pcall(f, ...))
    which = prev
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end
end
-- 1..n
local function R(n) return (rnd() >> 1) % n + 1 end
local function chance(p) return (rnd() >> 11) / 9007199254740992.0 < p end
local function pick(t) local i = R(#t > 0 and #t or 1); return t[i] end

------------------------------------------------------------------------------
-- Interesting values.

local function readfile(p)
  local f = io.open(p, "rb"); if not f then return nil end
  local d = f:read("a"); f:close(); return d
end

local cert_files = {}
for _, name in ipairs { "ca.pem", "root-ca.pem", "int-ca.pem", "server-rsa.pem",
    "server-rsa-chain.pem", "server-ecdsa.pem", "server-ed25519.pem", "client-rsa.pem",
    "selfsigned.pem", "expired.pem", "rogue-ca.pem", "all-ca.pem", "deep-chain.pem" } do
  cert_files[#cert_files + 1] = CERTS .. "/" .. name
end
local key_files = {}
for _, name in ipairs { "server-rsa.key", "server-ecdsa.key", "server-ed25519.key",
    "client-rsa.key", "server-rsa-enc.key", "selfsigned.key" } do
  key_files[#key_files + 1] = CERTS .. "/" .. name
end
local pem_data = {}
for _, p in ipairs(cert_files) do pem_data[#pem_data + 1] = readfile(p) or "" end
local der_data = {}
do
  local c = x509.load(pem_data[1])
  -- DER via base64 decoding of the PEM body (no external tools).
  local b64 = pem_data[1]:match("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-(.-)%-%-%-%-%-END")
  if b64 then
    local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    local bits, out = {}, {}
    b64 = b64:gsub("[^%w%+/]", "")
    local acc, n = 0, 0
    for ch in b64:gmatch(".") do
      acc = (acc << 6) | (alphabet:find(ch, 1, true) - 1); n = n + 6
      if n >= 8 then n = n - 8; out[#out + 1] = string.char((acc >> n) & 0xff) end
    end
    der_data[1] = table.concat(out)
  end
  _ = c
end

local names = {}
local function addnames(t) for k in pairs(t or {}) do names[#names + 1] = tostring(k) end end
addnames(ssl.config.options); addnames(ssl.config.protocols); addnames(ssl.config.verify)
addnames(ssl.config.curves); addnames(ssl.config.algorithms); addnames(ssl.config.capabilities)
for _, s in ipairs { "*l", "*a", "*L", "*", "client", "server", "any", "sslv23", "tlsv1_2",
    "tlsv1_3", "sslv3", "none", "peer", "fail_if_no_peer_cert", "client_once",
    "lsec_continue", "lsec_ignore_purpose", "crl_check", "crl_check_chain",
    "sha1", "SHA256", "sha512", "md5", "shake256", "pem", "der", "ai5", "utf8",
    "h2", "http/1.1", "P-256", "X25519", "prime256v1:secp384r1", "ALL", "DEFAULT",
    "TLS_AES_128_GCM_SHA256", "no_wildcards", "never_check_subject", "127.0.0.1",
    "::1", "localhost", "example.com", "server.test", "tcp-nodelay", "keepalive",
    "linger", "reuseaddr", "send-buffer-size", "ipv6-v6only", "both", "send",
    "receive", "protocol", "cipher", "bits", "algbits", "compression",
    "EXPORTER-label", "client finished", "b", "t", "r", "usage", "no_ee_namechecks",
    "protocols", "options", "verify", "mode", "key", "certificate", "certificates",
    "cafile", "capath", "ciphers", "ciphersuites", "depth", "password", "alpn",
    "psk", "dane", "dhparam", "curve", "curveslist", "verifyext", "close", "getfd",
    "__gc", "__index", "https://127.0.0.1:1/", "https://[::1]:1/x", "http://127.0.0.1:1/",
    "ftp://x/", "https://", "https://:0/", "" } do
  names[#names + 1] = s
end
for _, p in ipairs(cert_files) do names[#names + 1] = p end
for _, p in ipairs(key_files) do names[#names + 1] = p end
names[#names + 1] = CERTS; names[#names + 1] = CERTS .. "/capath"
names[#names + 1] = "/nonexistent/file.pem"; names[#names + 1] = "/dev/null"
names[#names + 1] = "/etc"

local HUGE = string.rep("A\0\255\n\r", 1024 * 1024 // 5 + 1):sub(1, 1024 * 1024)
local LONG_NAME = string.rep("x", 256)

local function binary(n)
  local t = {}
  for i = 1, n do t[i] = string.char(R(256) - 1) end
  return table.concat(t)
end

local function randstring()
  local k = R(16)
  if k <= 7 then return pick(names)
  elseif k == 8 then return ""
  elseif k == 9 then return binary(R(40))
  elseif k == 10 then return HUGE
  elseif k == 11 then return LONG_NAME
  elseif k == 12 then
    local s = pick(names); return s:upper()
  elseif k == 13 then return pick(pem_data)
  elseif k == 14 then
    local p = pick(pem_data); if #p == 0 then return p end
    local i = R(#p); return p:sub(1, i - 1) .. string.char(R(256) - 1) .. p:sub(i + 1)
  elseif k == 15 then return der_data[1] or "\48\130"
  else return pick(names) .. "\0" .. pick(names) end
end

local function randnumber()
  local k = R(14)
  if k == 1 then return 0
  elseif k == 2 then return -1
  elseif k == 3 then return math.mininteger
  elseif k == 4 then return math.maxinteger
  elseif k == 5 then return 0 / 0
  elseif k == 6 then return 1 / 0
  elseif k == 7 then return -1 / 0
  elseif k == 8 then return -0.0
  elseif k == 9 then return 2 ^ 53
  elseif k == 10 then return R(70000) - 10
  elseif k == 11 then return (R(2000) - 1000) / 7
  elseif k == 12 then return 1e308
  elseif k == 13 then return 2 ^ 31
  else return R(5) end
end

------------------------------------------------------------------------------
-- Pools of objects in every state.

local pool = { ctx = {}, conn = {}, cert = {}, sock = {}, other = {} }
local POOL_MAX = 24
local slot = { ctx = 0, conn = 0, cert = 0, sock = 0, other = 0 }
-- No draws: results of calls go in without changing the random sequence.
local function add(kind, obj)
  if obj == nil then return end
  local p = pool[kind]
  if #p >= POOL_MAX then
    slot[kind] = slot[kind] % POOL_MAX + 1
    p[slot[kind]] = obj
  else
    p[#p + 1] = obj
  end
end

local function yielder(...) return coroutine.yield(...) end

local function deep_table(n)
  local t = {}
  local cur = t
  for _ = 1, n do cur[1] = {}; cur = cur[1] end
  return t
end

local randvalue, randfunction

local function randtable(force)
  local k = force or R(12)
  if k == 1 then return {} end
  if k == 2 then local t = {}; t.self = t; t[1] = t; return t end
  if k == 3 then return deep_table(R(300)) end
  if k == 4 then  -- array of names (option lists, ALPN lists, SNI-ish)
    local t = {}
    for i = 1, R(6) do t[i] = chance(0.8) and pick(names) or randvalue(1) end
    return t
  end
  if k == 5 then  -- a params table
    local t = { mode = pick { "client", "server", randvalue(1) },
                protocol = chance(0.7) and pick { "any", "tlsv1_2", "tlsv1_3", "sslv23" } or randvalue(1) }
    for _ = 1, R(6) do t[pick(names)] = randvalue(1) end
    if chance(0.5) then t.certificate = pick(cert_files); t.key = pick(key_files) end
    return t
  end
  if k == 6 then  -- metatables with misbehaving metamethods
    return setmetatable({}, {
      __index = aux(function(_, key)
        if chance(0.3) then error(TOKEN, 0) end
        return randvalue(1)
      end),
      __tostring = chance(0.5) and aux(function() return randvalue(1) end) or nil,
      __len = aux(function() return randvalue(1) end),
      __eq = function() return true end,
      __call = aux(function() return randvalue(1) end),
    })
  end
  if k == 7 then  -- looks like a LuaSocket object
    local fd = chance(0.5) and randvalue(1) or -1
    return { getfd = function() return fd end, setfd = function() end }
  end
  if k == 12 and chance(0.5) then
    return { getfd = yielder, setfd = yielder }
  end
  if k == 8 then  -- an SNI map
    local t = {}
    for _ = 1, R(3) do
      local key = chance(0.8) and pick(names) or randvalue(1)
      if key ~= nil and key == key then
        t[key] = chance(0.8) and pick(pool.ctx) or randvalue(1)
      end
    end
    return t
  end
  if k == 9 then
    return { hint = chance(0.5) and pick(names) or randvalue(1),
             callback = chance(0.7) and randfunction() or randvalue(1) }
  end
  if k == 10 then
    local t = {}
    for i = 1, R(4) do t[i] = { key = pick(key_files), certificate = pick(cert_files), password = randvalue(1) } end
    return t
  end
  if k == 11 then
    -- A list through __index only (finite: ipairs over it must end).
    local proxy = setmetatable({}, { __index = aux(function(_, key)
      if math.type(key) == "integer" and key >= 1 and key <= 5 then return pick(names) end
      return nil
    end) })
    return proxy
  end
  local t = { randvalue(1), randvalue(1) }
  t[randstring()] = randvalue(1)
  return t
end


local randfunction0
function randfunction()
  local f = randfunction0()
  if f == yielder then return f end
  return aux(f)
end
function randfunction0()
  local k = R(9)
  if k == 1 then return function() error(TOKEN, 0) end end
  if k == 2 then return function() error({ TOKEN }) end end
  if k == 3 then return function() return randvalue(1), randvalue(1) end end
  if k == 4 then return yielder end
  if k == 5 then return function(...) return ... end end
  if k == 6 then return function() return pick(names) end end
  if k == 7 then return function() return "secret" end end  -- a password
  if k == 8 then  -- PSK-like answers
    return function() return "identity", string.rep("k", R(64)) end
  end
  return function(...) -- calls into the module from a callback
    local obj = pick(pool.conn) or pick(pool.ctx)
    if obj then pcall(function() return obj:close() end) end
    return pick(names)
  end
end

local other_userdata = { io.stdout, io.stderr }

function randvalue(depth)
  depth = depth or 0
  local k = R(depth > 0 and 12 or 18)
  if k == 1 then return nil
  elseif k == 2 then return chance(0.5)
  elseif k <= 4 then return randnumber()
  elseif k <= 7 then return randstring()
  elseif k == 8 then return depth > 1 and {} or randtable()
  elseif k == 9 then return randfunction()
  elseif k == 10 then return coroutine.create(function() end)
  elseif k == 11 then return pick(other_userdata)
  elseif k == 12 then return pick(pool.sock) or io.stdout
  elseif k == 13 then return pick(pool.ctx)
  elseif k == 14 then return pick(pool.conn)
  elseif k == 15 then return pick(pool.cert)
  elseif k == 16 then return pick(pool.other)
  elseif k == 17 then return pick { type, tostring, setmetatable, coroutine.wrap(function() end) }
  else return (pick(pool.ctx)) end
end

------------------------------------------------------------------------------
-- Making objects in each state. Sockets are always timeout-bounded.

local function tcp_pair()
  local listener = socket.bind("127.0.0.1", 0)
  if not listener then return nil end
  local _, port = listener:getsockname()
  local client = socket.tcp()
  client:settimeout(1)
  local ok = client:connect("127.0.0.1", port)
  listener:settimeout(1)
  local server = ok and listener:accept()
  listener:close()
  if not server then client:close(); return nil end
  return server, client
end

local base = {}
local function newbase()
  base.server = assert(ssl.newcontext {
    mode = "server", protocol = "any", key = CERTS .. "/server-rsa.key",
    certificate = CERTS .. "/server-rsa-chain.pem", cafile = CERTS .. "/ca.pem",
    verify = "none", alpn = { "h2", "http/1.1" } })
  base.client = assert(ssl.newcontext {
    mode = "client", protocol = "any", cafile = CERTS .. "/ca.pem", verify = "peer",
    alpn = { "http/1.1" } })
  base.badclient = assert(ssl.newcontext {
    mode = "client", protocol = "any", cafile = CERTS .. "/rogue-ca.pem", verify = "peer" })
  base.tls12 = assert(ssl.newcontext {
    mode = "client", protocol = "tlsv1_2", verify = "none" })
end
newbase()

-- A context with callbacks drawn from the fuzzer, for handshakes to call.
local function callback_context(mode)
  local params = {
    mode = mode, protocol = pick { "any", "tlsv1_2", "tlsv1_3" }, verify = "none",
  }
  if mode == "server" then
    params.key = CERTS .. "/server-rsa.key"
    params.certificate = CERTS .. "/server-rsa-chain.pem"
  end
  if chance(0.5) then params.alpn = chance(0.5) and randfunction() or randtable(4) end
  if chance(0.3) then
    params.psk = mode == "server" and (chance(0.5) and randfunction() or randtable(9)) or randfunction()
    params.ciphersuites = chance(0.5) and "TLS_AES_128_GCM_SHA256" or nil
  end
  if chance(0.2) then params.dhparam = randfunction() end
  if chance(0.2) then params.verifyext = { "lsec_continue" }; params.verify = "peer" end
  if chance(0.2) then params.dane = true end
  local ctx = ssl.newcontext(params)
  return ctx
end

local CONN_MT = debug.getregistry()["SSL:Connection"]
local every_conn = setmetatable({}, { __mode = "k" })
local bound_n = 0
local function setbounded(conn)
  if getmetatable(conn) ~= CONN_MT then return end
  every_conn[conn] = true
  bound_n = bound_n + 1
  pcall(CONN_MT.__index.settimeout, conn, ({ 0, 0, 0.001, 0.005 })[bound_n % 4 + 1])
end

local function drive(a, b, budget)
  local limit = socket.gettime() + budget
  local da, db
  for _ = 1, 200 do
    if not da then
      local ok, err = a:dohandshake()
      if ok or (err ~= "wantread" and err ~= "wantwrite") then da = true end
    end
    if not db then
      local ok, err = b:dohandshake()
      if ok or (err ~= "wantread" and err ~= "wantwrite") then db = true end
    end
    if (da and db) or socket.gettime() > limit then break end
    socket.select({ a, b }, nil, 0.002)
  end
end

-- Makes a connection pair and leaves it in a state chosen by `which`.
local function make_pair(which)
  local s, c = tcp_pair()
  if not s then return end
  if chance(0.3) then add("sock", chance(0.5) and s or c) end
  local sctx, cctx = base.server, base.client
  if which == "failed" then cctx = base.badclient end
  if which == "callbacks" then
    sctx = callback_context("server") or base.server
    cctx = callback_context("client") or base.tls12
    add("ctx", sctx); add("ctx", cctx)
  end
  local srv = ssl.wrap(s, sctx)
  local cli = ssl.wrap(c, cctx)
  if not (srv and cli) then
    if srv then setbounded(srv); add("conn", srv) end
    if cli then setbounded(cli); add("conn", cli) end
    return
  end
  srv:settimeout(0); cli:settimeout(0)
  if which == "fresh" then
    -- nothing
  elseif which == "mid" then
    cli:dohandshake()                 -- ClientHello out, server never answers
    if chance(0.5) then srv:dohandshake() end  -- or the server half-way
  else
    drive(srv, cli, 0.5)
    if which == "connected" and chance(0.5) then
      cli:send("line one\r\nline two\n" .. binary(R(100)))
      srv:send(binary(R(3000)))
    elseif which == "closed" then
      srv:close(); cli:close()
    elseif which == "halfclosed" then
      if chance(0.5) then srv:close() else cli:close() end
    end
  end
  setbounded(srv); setbounded(cli)
  add("conn", srv); add("conn", cli)
  if chance(0.3) then
    for _, conn in ipairs { srv, cli } do
      local ok, cert = pcall(conn.getpeercertificate, conn)
      if ok and cert then add("cert", cert) end
      ok, cert = pcall(conn.getlocalcertificate, conn)
      if ok and cert then add("cert", cert) end
    end
  end
end

local function make_context()
  local k = R(6)
  local ctx
  if k == 1 then ctx = context.create(pick { "any", "tlsv1_2", "tlsv1_3", "sslv23" })
  elseif k == 2 then ctx = callback_context(pick { "client", "server" })
  elseif k == 3 then
    -- The caller's own metamethods may raise through newcontext: fine.
    local ok, c = pcall(ssl.newcontext, randtable())
    if not ok and not (tostring(c):find(TOKEN, 1, true) or tostring(c):find("yield", 1, true)) then
      error(c, 0)
    end
    ctx = ok and c or nil
  elseif k == 4 then ctx = pick { base.server, base.client, base.badclient, base.tls12 }
  elseif k == 5 then
    ctx = context.create("any")
    if ctx then pcall(getmetatable(ctx).__close, ctx) end   -- closed
  else
    ctx = ssl.newcontext { mode = pick { "client", "server" }, protocol = "any" }
  end
  add("ctx", ctx)
end

local function make_cert()
  local c = x509.load(pick(pem_data), chance(0.3) and "pem" or nil)
  if c and chance(0.2) then pcall(getmetatable(c).__close, c) end
  if not c and der_data[1] then c = x509.load(der_data[1], "der") end
  add("cert", c)
end

local function make_socket()
  local k = R(4)
  if k == 1 then local s = socket.tcp(); s:settimeout(0); add("sock", s)
  elseif k == 2 then local s = socket.udp(); s:settimeout(0); add("sock", s)
  elseif k == 3 then local s = socket.tcp(); s:close(); add("sock", s)
  else
    local s, c = tcp_pair()
    if s then s:settimeout(0); c:settimeout(0); add("sock", s); add("sock", c) end
  end
end

-- "Collected": dropping objects (maybe still referenced by others, like a
-- certificate whose connection goes, or a connection whose context goes),
-- with finalizers that call into the module while the collector runs.
local resurrect_calls = 0
local function collect()
  for _, kind in ipairs { "ctx", "conn", "cert", "sock" } do
    local p = pool[kind]
    for i = POOL_MAX, 1, -1 do
      local drop, finalize = chance(0.3), chance(0.3)
      if drop and p[i] ~= nil then
        local obj = table.remove(p, i)
        if finalize then
          setmetatable({ obj }, { __gc = aux(function(t)
            resurrect_calls = resurrect_calls + 1
            local o = t[1]
            local mt = getmetatable(o)
            local idx = type(mt) == "table" and type(mt.__index) == "table" and mt.__index
            if idx then
              for name, fn in pairs(idx) do
                if name ~= "settimeout" then pcall(fn, o, pick(names), 0) end
              end
            end
          end) })
        end
      end
    end
  end
  collectgarbage()
  if chance(0.5) then collectgarbage() end
end

------------------------------------------------------------------------------
-- Call targets.

local targets = {}
local function target(name, fn, kind, argfn)
  targets[#targets + 1] = { name = name, fn = fn, kind = kind, argfn = argfn }
end

local reg = debug.getregistry()
local metas = { ctx = "SSL:Context", conn = "SSL:Connection", cert = "SSL:Certificate" }
local method_snapshot = {}
for kind, mname in pairs(metas) do
  local mt = reg[mname]
  assert(type(mt) == "table", "no metatable " .. mname)
  for k, v in pairs(mt) do
    if type(v) == "function" then target(mname .. "." .. k, v, kind) end
  end
  method_snapshot[mname] = {}
  for k, v in pairs(mt.__index) do
    method_snapshot[mname][k] = v
    if type(v) == "function" then target(mname .. ":" .. k, v, kind) end
  end
end

-- Module functions take arguments of any kind; for functions whose first
-- argument is an object, the object is passed most of the time.
local function module_functions(prefix, t, kind)
  local keys = {}
  for k, v in pairs(t) do if type(v) == "function" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do target(prefix .. k, t[k], kind) end
end
module_functions("ssl.", ssl, nil)
module_functions("ssl.x509.", x509, nil)
module_functions("ssl.context.", context, "ctx")
module_functions("ssl.core.", core, nil)
for k, v in pairs(ssl.config) do
  if type(v) == "function" then target("ssl.config." .. k, v, nil) end
end

-- core.setfd: never an fd of something else in this process (the fuzzer's
-- own stdout, another connection): only fresh sockets' fds or invalid ones.
for _, t in ipairs(targets) do
  if t.name == "ssl.core.setfd" then
    t.kind = "conn"
    t.argfn = function()
      if chance(0.5) then
        local s = socket.tcp()
        local fd = s:getfd(); s:setfd(-1)   -- handed over, like wrap does
        return fd
      end
      return pick { -1, 1e10, 0 / 0, math.mininteger, 99999, "x", nil, {} }
    end
  elseif t.name == "ssl.core.setmethod" then
    t.argfn = function()
      return chance(0.7) and ("fz_" .. R(5)) or randvalue(), randvalue()
    end
  end
end

-- The two public constructors, biased towards plausible shapes.
for _, t in ipairs(targets) do
  if t.name == "ssl.wrap" then
    t.argfn = function()
      local k = R(4)
      local sock = (k <= 2 and pick(pool.sock)) or (k == 3 and randtable(7)) or randvalue()
      local cfg = chance(0.5) and pick(pool.ctx) or (chance(0.7) and randtable(5) or randvalue())
      return sock, cfg
    end
  elseif t.name == "ssl.newcontext" then
    t.argfn = function() return chance(0.8) and randtable(5) or randvalue() end
  end
end

-- ssl.https: bad arguments only, and nothing that could resolve a name or
-- leave loopback: the strings are fixed URLs to a closed loopback port.
local bad_urls = { "https://127.0.0.1:1/", "https://[::1]:1/x", "http://127.0.0.1:1/",
  "ftp://127.0.0.1/", "https://", "", "https://127.0.0.1:0/", "https://127.0.0.1:99999/",
  "https://127.0.0.1:1/" .. string.rep("a", 5000) }
local function bad_https_arg()
  local k = R(8)
  if k == 1 then return pick(bad_urls) end
  if k == 2 then return { url = pick(bad_urls), mode = randvalue(1), protocol = randvalue(1) } end
  if k == 3 then return { url = randvalue(1) ~= nil and pick(bad_urls) or nil, proxy = "http://127.0.0.1:1" } end
  if k == 4 then return { url = pick(bad_urls), redirect = true } end
  if k == 5 then return { url = pick(bad_urls), create = randfunction() } end
  if k == 6 then return { url = pick(bad_urls), sink = randvalue(1), source = randvalue(1), method = randvalue(1) } end
  if k == 7 then return { url = pick(bad_urls), headers = randvalue(1), verify = randvalue(1), cafile = randvalue(1) } end
  local v = randvalue(1)
  if type(v) == "string" then return pick(bad_urls) end
  return v
end
for k, v in pairs(https) do
  if type(v) == "function" then
    target("ssl.https." .. k, v, nil, function()
      return bad_https_arg(), chance(0.5) and randvalue(1) or nil
    end)
  end
end

-- Arguments biased towards what each method understands.
local function args_for(t)
  if t.argfn then return table.pack(t.argfn()) end
  local n = R(5) - 1
  local a = { n = n }
  for i = 1, n do a[i] = randvalue() end
  return a
end

------------------------------------------------------------------------------
-- Running one call.

local calls, findings, errors_ok, crashes = 0, 0, 0, 0
local by_message = {}

local function describe(v)
  local tv = type(v)
  if tv == "string" then
    if #v > 60 then return ("<string #%d>"):format(#v) end
    return '"' .. v:gsub("[^%w%p ]", function(c) return ("\\x%02x"):format(c:byte()) end)
                 :gsub('"', '\\"') .. '"'
  elseif tv == "number" then
    if v ~= v then return "0/0" end
    return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
  elseif tv == "userdata" then
    local mt = getmetatable(v)
    local n = type(mt) == "table" and rawget(mt, "__name") or "userdata"
    return "<" .. tostring(n) .. ">"
  end
  return "<" .. tv .. ">"
end

local function describe_call(t, recv, a)
  local parts = {}
  if t.kind then parts[1] = describe(recv) end
  for i = 1, a.n do parts[#parts + 1] = describe(a[i]) end
  return t.name .. "(" .. table.concat(parts, ", ") .. ")"
end

-- Methods that drive OpenSSL, so run the context's Lua callbacks: no
-- callback error may escape through them.
local drives_openssl = {
  dohandshake = true, receive = true, send = true, close = true, shutdown = true,
  __gc = true, __close = true,
}

local foreign = 0

local function classify(t, err)
  local short = t.name:match("[:%.]([%w_]+)$") or t.name
  if type(err) == "table" and err[1] == TOKEN then
    return drives_openssl[short] and "callback error escaped from OpenSSL" or nil
  end
  if type(err) ~= "string" then return "non-string error " .. type(err) end
  if err:find("FUZZ-HANG", 1, true) then return "call did not return in time" end
  if FAIL_ALLOC > 0 and err:find("not enough memory", 1, true) then return nil end
  if err:find(TOKEN, 1, true) then
    return drives_openssl[short] and "callback error escaped from OpenSSL" or nil
  end
  -- Errors raised from C carry the position of the Lua caller: strip ours.
  local where, rest = err:match("^([^\n]-%.lua):%d+: (.*)$")
  if where and where:find("fuzz/api.lua", 1, true) then err, where = rest, nil end
  if err:find("attempt to yield", 1, true) then
    return drives_openssl[short] and "yield escaped from OpenSSL" or nil
  end
  if where then
    if where:find("ssl%.lua$") or where:find("ssl/https%.lua$") then
      if rest:find("^bad argument") then return "argument error raised inside " .. where end
      return "runtime error in " .. where
    end
    if t.name:find("^ssl%.https") then
      foreign = foreign + 1     -- LuaSocket's own checks of values passed through
      return nil
    end
    return "error in " .. where
  end
  if err:find("^bad argument #%d+") then return nil end
  return "unexpected error"
end

local function restore_methods()
  for mname, snap in pairs(method_snapshot) do
    local idx = reg[mname].__index
    for k in pairs(idx) do if snap[k] == nil then idx[k] = nil end end
    for k, v in pairs(snap) do idx[k] = v end
  end
end

local function run_call(i)
  local t = targets[R(#targets)]
  local recv
  local hasrecv = t.kind ~= nil
  if hasrecv then recv = chance(0.9) and pick(pool[t.kind]) or randvalue() end
  local a = args_for(t)
  local desc
  if TRACE then
    desc = describe_call(t, recv, a)
    io.stderr:write(("[%d] %s\n"):format(i, desc)); io.stderr:flush()
  end
  local in_coroutine = chance(0.15)
  -- Watchdog: Lua code running inside the call (callbacks, finalizers)
  -- sees the deadline; a call stuck in C would show in FUZZ_TRACE.
  local deadline = socket.gettime() + CALL_LIMIT
  debug.sethook(function()
    if socket.gettime() > deadline then
      deadline = math.huge
      error("FUZZ-HANG: call exceeded " .. CALL_LIMIT .. " s\n" .. debug.traceback(), 0)
    end
  end, "", 1000)
  local ok, err
  local function invoke()
    if hasrecv then return t.fn(recv, table.unpack(a, 1, a.n)) end
    return t.fn(table.unpack(a, 1, a.n))
  end
  if in_coroutine then
    local co = coroutine.create(invoke)
    local res = table.pack(coroutine.resume(co))
    local n = 0
    while res[1] and coroutine.status(co) == "suspended" and n < 3 do
      which = 2
      local v1, v2 = randvalue(1), randvalue(1)
      which = 1
      res = table.pack(coroutine.resume(co, v1, v2))
      n = n + 1
    end
    ok, err = res[1], res[2]
  elseif FAIL_ALLOC > 0 then
    ok, err = pcall(function()
      faults.random(FAIL_ALLOC)
      local r = table.pack(pcall(invoke))
      faults.random(0)
      if not r[1] then error(r[2], 0) end
      return table.unpack(r, 2, r.n)
    end)
  else
    ok, err = pcall(invoke)
  end
  if FAIL_ALLOC > 0 then faults.random(0) end
  debug.sethook()
  calls = calls + 1
  if t.name:find("setmethod") then restore_methods() end
  -- Keep every connection bounded, whatever settimeout was just given.
  if t.name:find("settimeout") and recv then
    local v = a[1]
    if not (type(v) == "number" and v >= 0 and v <= 0.02) then setbounded(recv) end
  end
  if not ok then
    local why = classify(t, err)
    if why then
      findings = findings + 1
      desc = desc or describe_call(t, recv, a)
      local key = why .. ": " .. tostring(err):gsub("0x%x+", "0x?"):sub(1, 200)
      if not by_message[key] then
        by_message[key] = true
        print(("FINDING seed=%d call=%d %s\n  %s\n  error: %s"):format(
          SEED, i, why, desc, tostring(type(err) == "table" and err[1] or err)))
      end
    else
      errors_ok = errors_ok + 1
    end
  else
    -- Results go back into the pools: new objects get fuzzed too.
    local mt = getmetatable(err)
    if type(mt) == "table" then
      local n = rawget(mt, "__name")
      if n == "SSL:Context" then add("ctx", err)
      elseif n == "SSL:Connection" then setbounded(err); add("conn", err)
      elseif n == "SSL:Certificate" then add("cert", err)
      elseif type(err) ~= "string" then add("other", err) end
    elseif type(err) == "table" then
      for _, v in pairs(err) do
        if type(v) == "userdata" and getmetatable(v) == reg["SSL:Certificate"] then add("cert", v) end
      end
    end
  end
end

------------------------------------------------------------------------------
-- Main loop: every 50 calls a state change (new objects in some state,
-- or collection).

local makers = {
  function() make_pair("fresh") end,
  function() make_pair("mid") end,
  function() make_pair("failed") end,
  function() make_pair("connected") end,
  function() make_pair("connected") end,
  function() make_pair("closed") end,
  function() make_pair("halfclosed") end,
  function() make_pair("callbacks") end,
  make_context, make_context, make_cert, make_cert, make_socket, collect, collect,
}

local t0 = os.clock()
local w0 = socket.gettime()
for _ = 1, 6 do make_pair(pick { "fresh", "mid", "connected", "failed" }) end
make_context(); make_cert(); make_socket()
for i = 1, N do
  if i % 50 == 0 then
    for conn in pairs(every_conn) do setbounded(conn) end
    local ok, err = xpcall(pick(makers), debug.traceback)
    if not ok and not os.getenv("FUZZ_MAKER_TRACE") then err = tostring(err):match("^[^\n]*") end
    if not ok then
      findings = findings + 1
      print(("FINDING seed=%d call=%d while building state: %s"):format(SEED, i, tostring(err)))
    end
  end
  run_call(i)
  if STOP and i >= STOP then break end
end
for k in pairs(pool) do pool[k] = {} end
collectgarbage(); collectgarbage()
print(("seed %d: %d calls (%d raised argument/callback errors), %d targets, " ..
       "%d finalizer calls, %d errors from LuaSocket below ssl.https, findings %d, crashes %d, %.1f s%s"):format(
  SEED, calls, errors_ok, #targets, resurrect_calls, foreign, findings, crashes,
  socket.gettime() - w0,
  FAIL_ALLOC > 0 and (", %d allocations failed"):format(faults.random(0)) or ""))
_ = t0
os.exit(findings == 0 and 0 or 1, true)
