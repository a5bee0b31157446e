-- injected_failures_spec: the error branches of OpenSSL calls that do not
-- fail on demand - a context switch refused during SNI, a store that takes
-- no certificate, a setter that says no. faults/failshim.c (built here into
-- build/shim/, with the C compiler the build already needs, against the
-- libssl the module under test loads) is preloaded
-- into a child Lua (spec/helpers/injected_main.lua) and makes the call
-- named by SSLUA_FAIL=NAME[:K] fail its K-th time. Each case checks that the
-- shim did fail that call (its "failshim: NAME failed" line) and what the
-- public function answered: always `nil, message` / `false, message` or a
-- failed handshake, never a crash and never success.
--
-- K counts every call of the function in the process, OpenSSL's own calls
-- included, unless the case says NAME:K/own (only calls from outside
-- OpenSSL's libraries count: OpenSSL 3.5's SSL_CTX_new sets its default
-- groups through the very call the curve case fails); a case whose K no
-- longer lands on our call fails loudly (the answer is then success), it
-- does not pass by accident.
local certs   = require "spec.helpers.certs"
local process = require "spec.helpers.process"
local luapeer = require "spec.helpers.luapeer"
local ser     = require "spec.helpers.serialize"

local ROOT = certs.root()

-- The directory of the libssl the module under test links (ldd of the C
-- module found on package.cpath), or nil for the linker's default. The
-- shim must link that same library: preloaded, it loads first, and a shim
-- linked to the system's libssl.so.3 would make a module built against
-- another OpenSSL (same soname) run on the system's.
local function module_libdir()
  local so = package.searchpath("ssl", package.cpath)
  if not so then return nil end
  local out = process.run({ "ldd", so }, 10)
  return out:match("libssl%.so[%w.]*%s+=>%s+(%S+)/libssl%.so")
end

local LIBDIR = module_libdir()
-- one shim per libssl directory, named after it
local SHIM = ROOT .. "/build/shim/" .. (LIBDIR and LIBDIR:gsub("[^%w.]+", "_") or "default") ..
  "/libfailshim.so"

local function sh(cmd)
  local a, _, c = os.execute(cmd)
  return (a == true or a == 0) and (c == nil or c == 0)
end

-- Builds the shim when it is missing or older than its source.
local function build_shim()
  local src = ROOT .. "/faults/failshim.c"
  local q = process.quote
  if sh("test -f " .. q(SHIM) .. " && test " .. q(SHIM) .. " -nt " .. q(src)) then return end
  assert(sh("mkdir -p " .. q(SHIM:match("^(.*)/"))))
  local log = os.tmpname()
  local link = LIBDIR and ("-L%s -Wl,-rpath,%s "):format(q(LIBDIR), q(LIBDIR)) or ""
  local ok = sh(("cc -shared -fPIC -O1 -g -std=c99 %s -o %s %s-Wl,--no-as-needed -lssl -lcrypto -ldl >%s 2>&1")
                :format(q(src), q(SHIM), link, q(log)))
  local f = io.open(log)
  local out = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(log)
  assert(ok, "cannot build the failure shim:\n" .. out)
end

-- Runs code in a child with `fail` injected: its results (after pcall's
-- status) and whether the shim reported the failure.
local function inject(fail, code)
  local preload = os.getenv("LD_PRELOAD")
  preload = (preload and preload ~= "") and (preload .. ":" .. SHIM) or SHIM
  local p = process.spawn({ luapeer.interpreter(), ROOT .. "/spec/helpers/injected_main.lua", ROOT, code },
                          { env = luapeer.env { LD_PRELOAD = preload, SSLUA_FAIL = fail,
                                                SSLUA_CERTS = certs.dir() },
                            max_life = 60 })
  local done = p:wait(30)
  local out = p:output()
  p:stop()
  assert(done, "the child did not finish: " .. out)
  local line = out:match("RESULT ([^\n]*)")
  assert(line, "no result from the child:\n" .. out)
  local r = assert(ser.decode_list(line))
  return r, out:find("failshim: " .. (fail:match("^[^:]+") or "") .. " failed", 1, true) ~= nil, out
end

-- The server's context when the client names example.com: a different
-- certificate, so a switch is a real one.
local SNI_SWITCH = [[
  local other = assert(ssl.newcontext(certs.server_params { key = C "server-ecdsa.key",
                                                            certificate = C "server-ecdsa-chain.pem" }))
  local s, c = pair.wrap(certs.server_params(), certs.client_params { verify = "none" })
  assert(s:sni({ ["example.com"] = other }))
  assert(c:sni("example.com"))
  local sr, cr = pair.handshake(s, c)
  return sr.ok or false, sr.err, cr.ok or false, cr.err
]]
local SWITCH_REFUSED = { false, "callback failed", false, "tlsv1 alert internal error" }

local TLS12_SESSION = [[
  local s, c = pair.connect(certs.server_params { protocol = "tlsv1_2", options = { "all", "no_ticket" },
                                                  sessioncache = true },
                            certs.client_params { protocol = "tlsv1_2" })
  local sess = assert(c:getsession())
]]

local OCSP = [[
  local s, c, sr, cr = pair.connect(certs.server_params { ocsp = read "ocsp-server-rsa.der" },
                                    certs.client_params { ocsp = "require" })
  return sr.ok or false, sr.err, cr.ok or false, cr.err
]]

-- { name, SSLUA_FAIL, code, the values it must return }
local CASES = {
  { "SNI: the switch to the named context is refused", "SSL_set_SSL_CTX", SNI_SWITCH, SWITCH_REFUSED },
  { "SNI: the switched context's verify parameters cannot be copied", "X509_VERIFY_PARAM_set1",
    SNI_SWITCH, SWITCH_REFUSED },
  { "context.create: no SSL_CTX", "SSL_CTX_new:2", [[return ssl.newcontext { mode = "client" }]],
    { nil, "error creating context (out of memory)" } },
  { "context.create: the context cannot be found from its SSL_CTX", "SSL_CTX_set_ex_data:1",
    [[return ssl.newcontext { mode = "client" }]], { nil, "error creating context (out of memory)" } },
  { "alpn (server): its per-context state cannot be attached", "SSL_CTX_set_ex_data:2",
    [[return ssl.newcontext { mode = "server", alpn = { "h2" } }]], { nil, "not enough memory" } },
  { "verifyext: its per-context state cannot be attached", "SSL_CTX_set_ex_data:2",
    [[return ssl.newcontext { mode = "client", verifyext = "lsec_continue" }]], { nil, "out of memory" } },
  { "verifyhost: the name cannot be kept with the context", "SSL_CTX_set_ex_data:2",
    [[return ssl.newcontext { mode = "client", verifyhost = "localhost" }]], { nil, "not enough memory" } },
  { "conn:setverifyhost: the name cannot be kept with the connection", "SSL_set_ex_data:2",
    [[local s, c = pair.tcp(); return ssl.wrap(c, { mode = "client" }):setverifyhost("localhost")]],
    { nil, "not enough memory" } },
  { "wrap: no SSL", "SSL_new", [[local s, c = pair.tcp(); return ssl.wrap(c, { mode = "client" })]],
    { nil, "error creating SSL object (out of memory)" } },
  { "wrap: the connection cannot be found from its SSL", "SSL_set_ex_data:1",
    [[local s, c = pair.tcp(); return ssl.wrap(c, { mode = "client" })]],
    { nil, "error creating SSL object (out of memory)" } },
  { "wrap: the descriptor cannot be attached", "SSL_set_fd",
    [[local s, c = pair.tcp(); return ssl.wrap(c, { mode = "client" })]], { nil, "out of memory" } },
  { "key data: no memory BIO", "BIO_new_mem_buf",
    [[return ssl.newcontext(certs.server_params { key = read "server-rsa.key" })]],
    { nil, "error loading private key (not enough memory)" } },
  { "key: refused", "SSL_CTX_use_PrivateKey", [[return ssl.newcontext(certs.server_params())]],
    { nil, "error loading private key (unusable key)" } },
  { "certificate file: refused", "SSL_CTX_use_certificate_chain_file",
    [[return ssl.newcontext(certs.server_params())]], { nil, "error loading certificate (no certificate found)" } },
  { "certificate data: the leaf is refused", "SSL_CTX_use_certificate",
    [[return ssl.newcontext(certs.server_params { certificate = read "server-rsa-chain.pem", key = read "server-rsa.key" })]],
    { nil, "error loading certificate (no certificate found)" } },
  { "certificate data: a chain certificate is refused", "SSL_CTX_add0_chain_cert",
    [[return ssl.newcontext(certs.server_params { certificate = read "server-rsa-chain.pem", key = read "server-rsa.key" })]],
    { nil, "error loading certificate (no certificate found)" } },
  { "certificate object: the old chain cannot be cleared", "SSL_CTX_clear_chain_certs",
    [[return ssl.newcontext(certs.server_params { certificate = x509.load(read "server-rsa.pem"), key = read "server-rsa.key" })]],
    { nil, "error loading certificate (no certificate found)" } },
  { "cafile object: the store takes no certificate", "X509_STORE_add_cert",
    [[return ssl.newcontext(certs.client_params { cafile = x509.load(read "ca.pem") })]],
    { nil, "error loading CA locations (no certificate found)" } },
  { "cafile data: the store takes no certificate", "X509_STORE_add_cert:*",
    [[return ssl.newcontext(certs.client_params { cafile = read "ca.pem" })]],
    { nil, "error loading CA locations (no certificate found)" } },
  { "cafile = system: the default paths cannot be set", "SSL_CTX_set_default_verify_paths",
    [[return ssl.newcontext { mode = "client", cafile = "system" }]],
    { nil, "error loading CA locations (unusable store)" } },
  { "protocol range: refused", "SSL_CTX_set_min_proto_version:*",
    [[return ssl.newcontext { mode = "client", protocol = { min = "tlsv1_2" } }]],
    { nil, "invalid protocol range (not supported)" } },
  { "curve: refused", "SSL_CTX_set1_groups_list:*/own", [[return ssl.newcontext { mode = "client", curve = "P-256" }]],
    { nil, "elliptic curve 'P-256' not supported" } },
  { "dhparam: refused (the key is freed)", "SSL_CTX_set0_tmp_dh_pkey",
    [[return ssl.newcontext(certs.server_params { dhparam = function() return read "dh2048.pem" end })]],
    { nil, "invalid DH parameters (rejected)" } },
  { "psk hint: refused", "SSL_CTX_use_psk_identity_hint",
    [[return ssl.newcontext { mode = "server", psk = { hint = "h", callback = function() end } }]],
    { nil, "invalid PSK identity hint (rejected)" } },
  { "alpn list: refused", "SSL_CTX_set_alpn_protos", [[return ssl.newcontext { mode = "client", alpn = { "h2" } }]],
    { nil, "not enough memory" } },
  { "verifyhost: refused", "X509_VERIFY_PARAM_set1_host",
    [[return ssl.newcontext(certs.client_params { verifyhost = "localhost" })]],
    { nil, "invalid verifyhost (localhost)" } },
  { "dane on a context: refused", "SSL_CTX_dane_enable", [[return ssl.newcontext { mode = "client", dane = true }]],
    { nil, "error enabling DANE (unknown error)" } },
  { "conn:setdane: refused", "SSL_dane_enable",
    [[local s, c = pair.tcp(); return ssl.wrap(c, { mode = "client", dane = true }):setdane("localhost")]],
    { false, "error enabling DANE" } },
  { "conn:sni(name): refused", "SSL_set_tlsext_host_name",
    [[local s, c = pair.tcp(); return ssl.wrap(c, { mode = "client" }):sni("example.com")]],
    { nil, "not enough memory" } },
  { "conn:setsession: refused", "SSL_set_session",
    TLS12_SESSION .. [[local s2, c2 = pair.wrap(certs.server_params(), certs.client_params())
                       return c2:setsession(sess)]], { nil, "invalid session (rejected)" } },
  { "session:export: encoding fails", "i2d_SSL_SESSION:1", TLS12_SESSION .. [[return sess:export()]],
    { nil, "error exporting session (encoding failed)" } },
  { "x509:digest: fails", "X509_digest", [[return x509.load(read "ca.pem"):digest()]],
    { nil, "error processing the certificate (digest failed)" } },
  { "x509:pem: encoding fails", "PEM_write_bio_X509", [[return x509.load(read "ca.pem"):pem()]],
    { nil, "cannot encode certificate" } },
  { "exportkeyingmaterial: fails", "SSL_export_keying_material",
    [[local s, c = pair.connect(certs.server_params(), certs.client_params())
      return c:exportkeyingmaterial("EXPERIMENTAL sslua", 16)]], { nil, "error exporting keying material" } },
  { "OCSP server: the staple cannot be set", "SSL_set_tlsext_status_ocsp_resp", OCSP,
    { false, "tlsv1 bad certificate status response", false, "certificate verify failed (OCSP: no response stapled)" } },
  { "OCSP client: no certificate id for the response", "OCSP_cert_to_id", OCSP,
    { false, "tlsv1 bad certificate status response", false, "certificate verify failed (OCSP: issuer not in chain)" } },
}

describe("injected OpenSSL failures", function()
  setup(function()
    certs.ensure()
    build_shim()
  end)
  after_each(process.stop_all)

  it("the shim passes every call through when nothing is named", function()
    local r, failed = inject("", [[return ssl.newcontext { mode = "client" } ~= nil]])
    assert.is_false(failed)
    assert.same({ n = 2, true, true }, r)
  end)

  for _, case in ipairs(CASES) do
    local name, fail, code, expected = case[1], case[2], case[3], case[4]
    it(name .. " (" .. fail .. ")", function()
      local r, failed, out = inject(fail, code)
      assert.is_true(failed, "the shim never failed " .. fail .. ":\n" .. out)
      assert.is_true(r[1], "the case raised: " .. tostring(r[2]))
      local got = { n = r.n - 1 }
      for i = 2, r.n do got[i - 1] = r[i] end
      local want = { n = #expected }
      for i = 1, 4 do want[i] = expected[i] end
      if expected[1] == nil then want.n = 2 end
      assert.same(want, got)
    end)
  end
end)
