-- Errors inside every Lua callback the module accepts, each raised every
-- way Lua allows: a string (with and without position), a number, a
-- table, nil, an object whose __tostring itself raises, a runtime error,
-- a 100 kB message, a stack overflow and a yield. The callbacks, from
-- src/*.c (every lua_pcall and sslua_run_protected):
--   newcontext: password (key file, key data, PKCS#12), dhparam
--   handshake:  verifycallback (client and server), psk (client and
--               server), ALPN function (plain and alpnstrict), keylog
--               function (client and server), OCSP function (server)
-- There are no session or DANE callbacks, and the SNI map is copied raw
-- (see the last describe). For each: the call fails cleanly with a
-- message carrying the callback's error where the README says it does
-- (ALPN, keylog and OCSP functions fail soft by design: no protocol, no
-- log line, no staple; with alpnstrict the ALPN failure ends the
-- handshake), both connections close, and the same contexts then
-- serve a good handshake once the callback behaves. Then callbacks that
-- close their own connection or their own context.
local ssl     = require "ssl"
local context = require "ssl.context"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"

certs.ensure()
local C, read = certs.path, certs.read

local PASSWORD = (read "password.txt"):gsub("%s+$", "")
local ENC_KEY = C "server-rsa-enc.key"
local PSK_KEY = ("k"):rep(32)

-- A PKCS#12 bundle of the server's key and chain, made in memory (never
-- written to disk: it holds a private key).
local function make_pkcs12()
  local cmd = ("openssl pkcs12 -export -in %s -inkey %s -certfile %s -passout pass:%s 2>/dev/null")
              :format(C "server-rsa.pem", C "server-rsa.key", C "int-ca.pem", PASSWORD)
  local p = assert(io.popen(cmd, "r"))
  local der = p:read("*a")
  p:close()
  assert(#der > 0, "openssl pkcs12 -export failed")
  return der
end
local PKCS12 = make_pkcs12()

local function merge(base, extra)
  for k, v in pairs(extra or {}) do base[k] = v end
  return base
end
local function server(extra)
  return merge({ mode = "server", protocol = "any",
                 key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem" }, extra)
end
local function client(extra) return merge({ mode = "client", protocol = "any" }, extra) end
local function psk(extra) return merge({ protocol = "tlsv1_2", ciphers = "PSK-AES128-GCM-SHA256" }, extra) end

local NOT_A_STRING = function() return "(error object is not a string)" end

------------------------------------------------------------------------------
-- The callbacks. `make(fn)` returns the newcontext parameters (server,
-- client for handshake callbacks) with `fn` in the callback's place;
-- `good` is what a well-behaved callback does.
--   failing callbacks:  side ("newcontext", "client", "server") fails
--                       with prefix .. <the error's text> .. ")"; an
--                       error value that is not a string reads
--                       placeholder(type); or with a `fixed` message
--   soft callbacks:     the handshake succeeds; effect(s, c, good) checks
--                       what the callback's answer did (or did not) do
------------------------------------------------------------------------------

local CALLBACKS = {
  { name = "password function (key file)", side = "newcontext",
    make = function(fn) return server { key = ENC_KEY, certificate = C "server-rsa-chain.pem", password = fn } end,
    good = function() return PASSWORD end,
    prefix = "error loading private key (password callback failed: ",
    placeholder = function() return "(error object)" end },

  { name = "password function (key data)", side = "newcontext",
    make = function(fn) return server { key = read "server-rsa-enc.key", certificate = C "server-rsa-chain.pem", password = fn } end,
    good = function() return PASSWORD end,
    prefix = "error loading private key (password callback failed: ",
    placeholder = function() return "(error object)" end },

  { name = "password function (PKCS#12)", side = "newcontext",
    make = function(fn) return { mode = "server", protocol = "any", pkcs12 = PKCS12, password = fn } end,
    good = function() return PASSWORD end,
    prefix = "error loading PKCS#12 (password callback failed: ",
    placeholder = function() return "(error object)" end },

  { name = "dhparam function", side = "newcontext",
    make = function(fn) return server { dhparam = fn } end,
    good = function() return read "dh2048.pem" end,
    prefix = "invalid DH parameters (",
    placeholder = function(kind) return "(error object is a " .. kind .. " value)" end },

  { name = "verifycallback (client)", side = "client",
    make = function(fn)
      return server(), client { verify = "peer", cafile = C "root-ca.pem", verifycallback = fn }
    end,
    good = function(ok) return ok end,
    prefix = "certificate verify failed (callback: ", placeholder = NOT_A_STRING },

  { name = "verifycallback (server)", side = "server",
    make = function(fn)
      return server { verify = { "peer", "fail_if_no_peer_cert" }, cafile = C "root-ca.pem", verifycallback = fn },
             client { key = C "client-ecdsa.key", certificate = C "client-ecdsa-chain.pem" }
    end,
    good = function(ok) return ok end,
    prefix = "certificate verify failed (callback: ", placeholder = NOT_A_STRING },

  { name = "psk function (client)", side = "client",
    make = function(fn)
      return psk(server { psk = function() return PSK_KEY end }), psk(client { psk = fn })
    end,
    good = function() return "alice", PSK_KEY end,
    prefix = "callback failed (PSK callback: ", placeholder = NOT_A_STRING },

  { name = "psk function (server)", side = "server",
    make = function(fn)
      return psk(server { psk = fn }), psk(client { psk = function() return "alice", PSK_KEY end })
    end,
    good = function() return PSK_KEY end,
    prefix = "callback failed (PSK callback: ", placeholder = NOT_A_STRING },

  { name = "ALPN function", side = "soft",
    make = function(fn) return server { alpn = fn }, client { alpn = { "h2", "http/1.1" } } end,
    good = function() return "h2" end,
    effect = function(s, c, good)   -- an error selects nothing
      assert.equal(good and "h2" or nil, s:getalpn())
      assert.equal(good and "h2" or nil, c:getalpn())
    end },

  { name = "ALPN function (alpnstrict = true)", side = "server",
    make = function(fn) return server { alpn = fn, alpnstrict = true }, client { alpn = { "h2", "http/1.1" } } end,
    good = function() return "h2" end,
    fixed = "no application protocol" },   -- the callback's error is not in it

  { name = "keylog function (client)", side = "soft",
    make = function(fn) return server(), client { keylog = fn } end,
    good = function() end,
    effect = function(s, c)   -- errors are ignored: the keys still agree
      assert.equal(3, c:send("hi\n"))
      assert.equal("hi", s:receive())
    end },

  { name = "keylog function (server)", side = "soft",
    make = function(fn) return server { keylog = fn }, client() end,
    good = function() end,
    effect = function(s, c)
      assert.equal(3, s:send("hi\n"))
      assert.equal("hi", c:receive())
    end },

  { name = "OCSP function (server)", side = "soft",
    make = function(fn)
      return server { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem", ocsp = fn },
             client { ocsp = "request" }
    end,
    good = function() return read "ocsp-server-rsa.der" end,
    effect = function(_, c, good)   -- an error staples nothing
      assert.equal(good and read "ocsp-server-rsa.der" or nil, c:getocsp())
    end },
}

------------------------------------------------------------------------------
-- The ways to fail. `text` is the error's text exactly, `pattern` a Lua
-- pattern for it, `kind` the type of a non-string error value, `long`
-- a message that may be cut short.
------------------------------------------------------------------------------

-- Each index runs __index again through a C call: "C stack overflow"
-- after some 200 levels, cheap enough to raise in every callback.
local BOTTOMLESS = setmetatable({}, { __index = function(t, k) return t[k] end })
local function recurse() return 1 + recurse() end
local TOSTRING_RAISES = setmetatable({}, { __tostring = function() error("tostring raised") end })

local ERRORS = {
  { "raises a string", function() error("boom", 0) end, text = "boom" },
  { "raises a string with its position", function() error("boom") end,
    pattern = "callback_errors_spec.lua:%d+: boom" },
  { "raises a number", function() error(42, 0) end, text = "42" },
  { "raises a table", function() error({}) end, kind = "table" },
  { "raises nil", function() error(nil) end, kind = "nil" },
  { "raises an object whose __tostring raises", function() error(TOSTRING_RAISES) end, kind = "table" },
  { "fails at run time", function(...) return select("#", ...) .. {} end, pattern = "attempt to concatenate" },
  { "raises a 100 kB message", function() error(("x"):rep(100000), 0) end, long = true },
  { "overflows the C stack", function() return BOTTOMLESS.x end, pattern = "stack overflow" },
  { "yields", function() coroutine.yield("x") end, pattern = "attempt to yield" },
}

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- The whole message a failing callback's side reports for `err`.
local function expected_pattern(cb, err)
  if cb.fixed then return "^" .. escape(cb.fixed) .. "$" end
  local prefix = "^" .. escape(cb.prefix)
  if err.long then return prefix .. "x+%)?$" end   -- cut short: maybe without ")"
  if err.text then return prefix .. escape(err.text) .. "%)$" end
  if err.kind then return prefix .. escape(cb.placeholder(err.kind)) .. "%)$" end
  return prefix .. ".*" .. err.pattern .. ".*%)$"
end

-- A callback that misbehaves while `state.broken`, else behaves; counts
-- its calls.
local function switchable(cb, misbehave)
  local state = { broken = true, calls = 0 }
  local fn = function(...)
    state.calls = state.calls + 1
    if state.broken then return misbehave(...) end
    return cb.good(...)
  end
  return fn, state
end

local function run_newcontext(cb, err)
  local fn, state = switchable(cb, err[2])
  local ctx, msg = ssl.newcontext(cb.make(fn))
  assert.is_nil(ctx)
  assert.matches(expected_pattern(cb, err), msg)
  assert.is_true(state.calls > 0)
  -- The same parameters, the function now behaving: a context that serves.
  state.broken = false
  local s, c, sres, cres = pair.connect(assert(ssl.newcontext(cb.make(fn))), client())
  assert.is_true(sres.ok and cres.ok)
  assert.equal(1, s:close()); assert.equal(1, c:close())
end

local function run_handshake(cb, err)
  local fn, state = switchable(cb, err[2])
  local sp, cp = cb.make(fn)
  local sctx, cctx = assert(ssl.newcontext(sp)), assert(ssl.newcontext(cp))
  local s, c, sres, cres = pair.connect(sctx, cctx)
  assert.is_true(state.calls > 0)
  if cb.side == "soft" then
    assert.is_true(sres.ok and cres.ok)
    s:settimeout(5); c:settimeout(5)   -- a bug must fail, never hang
    cb.effect(s, c, false)
  else
    local res = cb.side == "client" and cres or sres
    assert.is_false(res.ok)
    assert.matches(expected_pattern(cb, err), res.err)
    -- A TLS 1.3 client may be done before the server judges its
    -- certificate; a server is never done without the client.
    if cb.side == "client" then assert.is_false(sres.ok) end
  end
  assert.equal(1, s:close()); assert.equal(1, c:close())
  assert.same({ false, "closed" }, { c:dohandshake() })
  -- The same contexts, the callback now behaving.
  state.broken = false
  s, c, sres, cres = pair.connect(sctx, cctx)
  assert.is_true(sres.ok and cres.ok, tostring(sres.err or cres.err))
  s:settimeout(5); c:settimeout(5)
  if cb.effect then cb.effect(s, c, true) end
  assert.equal(1, s:close()); assert.equal(1, c:close())
end

describe("an error inside a callback", function()
  for _, cb in ipairs(CALLBACKS) do
    describe(cb.name, function()
      for _, err in ipairs(ERRORS) do
        it(err[1], function()
          if cb.side == "newcontext" then run_newcontext(cb, err) else run_handshake(cb, err) end
        end)
      end
    end)
  end

  it("verifycallback: a Lua stack overflow (a million slots deep)", function()
    local s, c, sres, cres = pair.connect(server(), client { verify = "peer", cafile = C "root-ca.pem",
                                                               verifycallback = recurse })
    finally(function() s:close(); c:close() end)
    assert.is_false(sres.ok)
    assert.matches("^certificate verify failed %(callback: .*stack overflow.*%)$", cres.err)
  end)

  it("with errorobjects = true: a verify error object carrying the callback's message", function()
    local s, c = pair.wrap(server(), client { verify = "peer", cafile = C "root-ca.pem", errorobjects = true,
                                              verifycallback = function() error("pinned elsewhere", 0) end })
    finally(function() s:close(); c:close() end)
    s:settimeout(0); c:settimeout(0)
    local ok, err
    for _ = 1, 100 do
      ok, err = c:dohandshake()
      if tostring(err) ~= "wantread" then break end
      s:dohandshake()
    end
    assert.is_false(ok)
    assert.equal("certificate verify failed (callback: pinned elsewhere)", tostring(err))
    assert.same({ "verify", "certificate verify failed (callback: pinned elsewhere)" }, { err.kind, err.message })
  end)
end)

------------------------------------------------------------------------------
-- Callbacks that close their own connection or their own context
------------------------------------------------------------------------------

-- Handshake callbacks closing the connection they run for. (The ALPN
-- function case is in spec/lifetime_spec.lua.) The closing side reports
-- "closed"; the peer may finish or fail, depending on what was sent.
local SELF_CLOSING = {
  { "verifycallback (client)", "client", function(hold)
      return server(), client { verify = "peer", cafile = C "root-ca.pem",
                                verifycallback = function() hold.conn:close(); return true end } end },
  { "verifycallback (server)", "server", function(hold)
      return server { verify = "peer", cafile = C "root-ca.pem",
                      verifycallback = function() hold.conn:close(); return true end },
             client { key = C "client-ecdsa.key", certificate = C "client-ecdsa-chain.pem" } end },
  { "psk function (client)", "client", function(hold)
      return psk(server { psk = function() return PSK_KEY end }),
             psk(client { psk = function() hold.conn:close(); return "alice", PSK_KEY end }) end },
  { "psk function (server)", "server", function(hold)
      return psk(server { psk = function() hold.conn:close(); return PSK_KEY end }),
             psk(client { psk = function() return "alice", PSK_KEY end }) end },
  { "keylog function (client)", "client", function(hold)
      return server(), client { keylog = function() hold.conn:close() end } end },
  { "keylog function (server)", "server", function(hold)
      return server { keylog = function() hold.conn:close() end }, client() end },
  { "OCSP function (server)", "server", function(hold)
      return server { ocsp = function() hold.conn:close() end }, client { ocsp = "request" } end },
}

describe("a callback closing its own connection", function()
  for _, case in ipairs(SELF_CLOSING) do
    local name, side, make = case[1], case[2], case[3]
    it(name, function()
      local hold = {}
      local sp, cp = make(hold)
      local s, c = pair.wrap(sp, cp)
      finally(function() s:close(); c:close() end)
      hold.conn = side == "client" and c or s
      local sres, cres = pair.handshake(s, c)
      assert.same({ ok = false, err = "closed" }, side == "client" and cres or sres)
      assert.matches("%(closed%)$", tostring(hold.conn))
      assert.same({ nil, "closed", "" }, { hold.conn:receive() })
      assert.equal(-1, hold.conn:getfd())
    end)
  end
end)

-- Callbacks closing their own context (through its __close, which a Lua
-- 5.4 <close> variable calls too). The configuration-time ones reach the
-- context only through ssl.context's functions.
describe("a callback closing its own context", function()
  local unpack = table.unpack or unpack
  -- A function that closes the context ctx_of() names, then answers ...
  local function closer(ctx_of, ...)
    local answer = { n = select("#", ...), ... }
    return function()
      local ctx = ctx_of()
      getmetatable(ctx).__close(ctx)
      return unpack(answer, 1, answer.n)
    end
  end

  it("password function: loadkey, loadkeydata and loadpkcs12 answer false, 'closed'", function()
    local loads = {
      function(ctx, fn) return context.loadkey(ctx, ENC_KEY, fn) end,
      function(ctx, fn) return context.loadkeydata(ctx, read "server-rsa-enc.key", fn) end,
      function(ctx, fn) return context.loadpkcs12(ctx, PKCS12, fn, true) end,
    }
    for _, load in ipairs(loads) do
      local ctx = assert(ssl.newcontext { mode = "server" })
      assert.same({ false, "closed" }, { load(ctx, closer(function() return ctx end, PASSWORD)) })
      assert.matches("%(closed%)$", tostring(ctx))
    end
  end)

  it("dhparam function: false, 'closed'", function()
    local ctx = assert(ssl.newcontext { mode = "server" })
    assert.same({ false, "closed" },
                { context.setdhparam(ctx, closer(function() return ctx end, read "dh2048.pem")) })
  end)

  it("verifycallback: the rest of the chain is rejected", function()
    local cctx
    cctx = assert(ssl.newcontext(client { verify = "peer", cafile = C "root-ca.pem",
                                          verifycallback = closer(function() return cctx end, true) }))
    local s, c, sres, cres = pair.connect(server(), cctx)
    finally(function() s:close(); c:close() end)
    assert.same({ ok = false, err = "certificate verify failed (callback: context closed)" }, cres)
    assert.is_false(sres.ok)
  end)

  -- These callbacks answer after closing their context; the answer counts.
  -- { name, the context closed ("server"/"client"), params maker, check }
  local ANSWERING = {
    { "psk function (client)", "client", function(ctx_of)
        return psk(server { psk = function() return PSK_KEY end }),
               psk(client { psk = closer(ctx_of, "alice", PSK_KEY) }) end },
    { "psk function (server)", "server", function(ctx_of)
        return psk(server { psk = closer(ctx_of, PSK_KEY) }),
               psk(client { psk = function() return "alice", PSK_KEY end }) end },
    { "ALPN function", "server", function(ctx_of)
        return server { alpn = closer(ctx_of, "h2") }, client { alpn = "h2" } end,
      function(s) assert.equal("h2", s:getalpn()) end },
    { "keylog function (client)", "client", function(ctx_of)
        return server(), client { keylog = closer(ctx_of) } end },
    { "OCSP function (server)", "server", function(ctx_of)
        return server { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem",
                        ocsp = closer(ctx_of, read "ocsp-server-rsa.der") },
               client { ocsp = "request" } end,
      function(_, c) assert.equal(read "ocsp-server-rsa.der", c:getocsp()) end },
  }
  for _, case in ipairs(ANSWERING) do
    local name, which, make, check = case[1], case[2], case[3], case[4]
    it(name .. ": the handshake completes", function()
      local ctxs = {}
      local sp, cp = make(function() return ctxs[which] end)
      ctxs.server, ctxs.client = assert(ssl.newcontext(sp)), assert(ssl.newcontext(cp))
      local s, c, sres, cres = pair.connect(ctxs.server, ctxs.client)
      finally(function() s:close(); c:close() end)
      assert.is_true(sres.ok and cres.ok, tostring(sres.err or cres.err))
      assert.matches("%(closed%)$", tostring(ctxs[which]))
      if check then check(s, c) end
    end)
  end
end)

------------------------------------------------------------------------------
-- The SNI map: plain data, copied when given
------------------------------------------------------------------------------

describe("an SNI map with metamethods that raise", function()
  it("is copied raw: no metamethod runs, at sni() or in the handshake", function()
    local raising = function() error("metamethod called") end
    local mapped = assert(ssl.newcontext(server { key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }))
    local map = setmetatable({ ["a.test"] = mapped },
      { __index = raising, __newindex = raising, __pairs = raising, __len = raising })
    for _, name in ipairs { "a.test", "unknown.test" } do
      local s, c = pair.wrap(server(), client())
      assert.is_true(s:sni(map))
      assert.is_true(c:sni(name))
      local sres, cres = pair.handshake(s, c)
      assert.is_true(sres.ok and cres.ok)
      local ou = c:getpeercertificate():subject()[2].value
      assert.equal(name == "a.test" and "server-rsa" or "server-ecdsa", ou)
      s:close(); c:close()
    end
  end)
end)
