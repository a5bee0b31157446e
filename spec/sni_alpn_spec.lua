-- SNI and ALPN: conn:sni / conn:getsniname / conn:getalpn and the alpn
-- and alpnstrict parameters (context.setalpn / setalpncb / setalpnstrict).
--
-- ALPN results are checked against an oracle written from RFC 7301 and
-- LuaSec's rules (server preference; a callback's string must be one the
-- client offered, its array is matched like the server's own list;
-- anything else, or an error, means no ALPN), for every pairing of client
-- offer and server configuration, on both ends of the connection. SNI is
-- checked by which certificate the client receives: server-rsa is the
-- default identity, server-ecdsa the mapped one (the OU of the test PKI
-- names the file a peer presented). Both features are also run against
-- openssl s_server / s_client in each role.
local ssl     = require "ssl"
local context = require "ssl.context"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"

local C = certs.path
local unpack = table.unpack or unpack
local function pack(...) return { n = select("#", ...), ... } end

local function server(overrides)
  return certs.merge({ mode = "server", protocol = "any",
                       key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" },
                     overrides)
end
local function ecdsa_server(overrides)
  return certs.merge({ mode = "server", protocol = "any",
                       key = C "server-ecdsa.key", certificate = C "server-ecdsa-chain.pem" },
                     overrides)
end
local function client(overrides)
  return certs.merge({ mode = "client", protocol = "any" }, overrides)
end

-- Calls a context's __close directly: "closed" on every Lua version.
local function close_context(ctx) getmetatable(ctx).__close(ctx) end

-- The test PKI file a connected client was served: "server-rsa", ...
local function served(conn)
  local cert = assert(conn:getpeercertificate())
  for _, e in ipairs(cert:subject()) do
    if e.name == "organizationalUnitName" then return e.value end
  end
end

local function connect_ok(sp, cp, setup)
  local s, c = pair.wrap(sp, cp)
  if setup then setup(s, c) end
  local sres, cres = pair.handshake(s, c)
  assert.is_true(sres.ok, "server: " .. tostring(sres.err))
  assert.is_true(cres.ok, "client: " .. tostring(cres.err))
  return s, c
end

------------------------------------------------------------------------------
-- ALPN
------------------------------------------------------------------------------

-- The oracle: what a server answering `answer` (its list, or what its
-- callback returned) selects for `offer` (nil: the client sent no ALPN).
local function offers(list, name)
  for _, n in ipairs(list) do if n == name then return true end end
  return false
end

local function oracle(offer, answer)
  if offer == nil then return nil end
  if type(offer) == "string" then offer = { offer } end
  if type(answer) == "string" then return offers(offer, answer) and answer or nil end
  if type(answer) ~= "table" then return nil end
  for i = 1, #answer do
    local v = answer[i]
    if type(v) ~= "string" or v == "" or #v > 255 then return nil end
  end
  for _, name in ipairs(answer) do
    if offers(offer, name) then return name end
  end
  return nil
end

local CLIENT_OFFERS = {
  { "none",          nil },
  { "'h2' (string)", "h2" },
  { "{h2}",          { "h2" } },
  { "{http/1.1,h2}", { "http/1.1", "h2" } },
  { "{spdy/3,foo}",  { "spdy/3", "foo" } },
  { "{x,http/1.1}",  { "x", "http/1.1" } },
}

-- Server forms: { label, alpn parameter maker, answer for the oracle }.
-- A maker returns the parameter and a record of what a callback was given.
local function list(l) return function() return l, {} end, l end
local function callback(ret, how)
  local maker = function()
    local seen = {}
    return function(names)
      seen.called = (seen.called or 0) + 1
      seen.names = {}
      for i, n in ipairs(names) do seen.names[i] = n end
      if how == "raise" then error("boom") end
      if how == "yield" then coroutine.yield("nope") end
      if how == "gc" then
        -- A fresh string the collector may reclaim as soon as we return.
        local fresh = ("h"):rep(1) .. "2"
        collectgarbage(); collectgarbage()
        return fresh
      end
      return ret
    end, seen
  end
  return maker, (how == nil or how == "gc") and ret or nil
end

local SERVER_FORMS = {
  { "no ALPN",                         function() return nil, {} end, nil },
  { "{h2,http/1.1}",                   list { "h2", "http/1.1" } },
  { "{http/1.1,h2}",                   list { "http/1.1", "h2" } },
  { "{foo}",                           list { "foo" } },
  { "'h2' (string)",                   function() return "h2", {} end, "h2" },
  { "callback -> 'h2'",                callback("h2") },
  { "callback -> 'foo' (not offered)", callback("foo") },
  { "callback -> {http/1.1,h2}",       callback({ "http/1.1", "h2" }) },
  { "callback -> {nope}",              callback({ "nope" }) },
  { "callback -> {h2, 5} (junk)",      callback({ "h2", 5 }) },
  { "callback -> ''",                  callback("") },
  { "callback -> 42",                  callback(42) },
  { "callback -> nil",                 callback(nil) },
  { "callback -> {}",                  callback({}) },
  { "callback raises",                 callback(nil, "raise") },
  { "callback yields (not allowed)",   callback(nil, "yield") },
  { "callback -> fresh 'h2', then GC", callback("h2", "gc") },
}

local function check_cell(offer, form, protocol)
  local make, answer = form[2], form[3]
  local param, seen = make()
  local expected = oracle(offer, answer)
  local s, c = connect_ok(server({ alpn = param, protocol = protocol }),
                          client({ alpn = offer, protocol = protocol }))
  assert.equal(expected, s:getalpn())
  assert.equal(expected, c:getalpn())
  if type(param) == "function" then
    if offer == nil then
      assert.is_nil(seen.called, "callback called without a client offer")
    else
      assert.equal(1, seen.called)
      assert.same(type(offer) == "string" and { offer } or offer, seen.names)
    end
  end
  s:close(); c:close()
end

describe("ALPN negotiation (oracle)", function()
  for _, co in ipairs(CLIENT_OFFERS) do
    for _, form in ipairs(SERVER_FORMS) do
      it(("client %s, server %s"):format(co[1], form[1]), function()
        check_cell(co[2], form)
      end)
    end
  end

  -- The same rules on TLS 1.2, for a representative subset.
  for _, pick in ipairs { { 4, 2 }, { 4, 3 }, { 4, 8 }, { 5, 2 }, { 4, 15 } } do
    local co, form = CLIENT_OFFERS[pick[1]], SERVER_FORMS[pick[2]]
    it(("TLS 1.2: client %s, server %s"):format(co[1], form[1]), function()
      check_cell(co[2], form, "tlsv1_2")
    end)
  end

  -- alpnstrict: the same cells; where the client offered ALPN and the
  -- server (with a list or a callback) chose nothing, the handshake ends
  -- with no_application_protocol instead of going on without ALPN.
  for _, co in ipairs(CLIENT_OFFERS) do
    for _, form in ipairs(SERVER_FORMS) do
      it(("alpnstrict: client %s, server %s"):format(co[1], form[1]), function()
        local offer, make, answer = co[2], form[2], form[3]
        local param = make()
        local expected = oracle(offer, answer)
        local s, c = pair.wrap(server({ alpn = param, alpnstrict = true }), client({ alpn = offer }))
        local sres, cres = pair.handshake(s, c)
        if offer ~= nil and param ~= nil and expected == nil then
          assert.same({ ok = false, err = "no application protocol" }, sres)
          assert.same({ ok = false, err = "tlsv1 alert no application protocol" }, cres)
        else
          assert.is_true(sres.ok, sres.err)
          assert.is_true(cres.ok, cres.err)
          assert.equal(expected, s:getalpn())
          assert.equal(expected, c:getalpn())
        end
        s:close(); c:close()
      end)
    end
  end

  it("alpnstrict on TLS 1.2 ends a no-overlap handshake the same way", function()
    local s, c = pair.wrap(server({ alpn = { "h2" }, alpnstrict = true, protocol = "tlsv1_2" }),
                           client({ alpn = { "foo" }, protocol = "tlsv1_2" }))
    local sres, cres = pair.handshake(s, c)
    assert.same({ ok = false, err = "no application protocol" }, sres)
    assert.same({ ok = false, err = "tlsv1 alert no application protocol" }, cres)
    s:close(); c:close()
  end)

  it("alpnstrict = false keeps LuaSec's behaviour: no overlap, no ALPN", function()
    local s, c = connect_ok(server({ alpn = { "h2" }, alpnstrict = false }), client({ alpn = { "foo" } }))
    assert.is_nil(s:getalpn()); assert.is_nil(c:getalpn())
    s:close(); c:close()
  end)

  it("server preference wins, in both directions", function()
    local s, c = connect_ok(server({ alpn = { "b", "a" } }), client({ alpn = { "a", "b" } }))
    assert.equal("b", s:getalpn()); assert.equal("b", c:getalpn())
    s:close(); c:close()
    s, c = connect_ok(server({ alpn = { "a", "b" } }), client({ alpn = { "b", "a" } }))
    assert.equal("a", s:getalpn()); assert.equal("a", c:getalpn())
    s:close(); c:close()
  end)

  it("names of 1 and 255 bytes, and bytes that are not text", function()
    local long, odd = ("z"):rep(255), "\0\1\255 x"
    local s, c = connect_ok(server({ alpn = { "q", long } }), client({ alpn = { long } }))
    assert.equal(long, s:getalpn()); assert.equal(long, c:getalpn())
    s:close(); c:close()
    s, c = connect_ok(server({ alpn = { odd, "q" } }), client({ alpn = { "q", odd } }))
    assert.equal(odd, s:getalpn()); assert.equal(odd, c:getalpn())
    s:close(); c:close()
  end)

  it("a callback runs on the state of the coroutine driving the handshake", function()
    local where
    local sp = server({ alpn = function(names)
      local co, main = coroutine.running()
      where = (co ~= nil and not main) and "coroutine" or "main"
      return names[#names]
    end })
    local s, c = pair.wrap(sp, client({ alpn = { "a", "b" } }))
    -- A stand-in server driven from a fresh coroutine on every step.
    local proxy = {
      dohandshake = function()
        local co = coroutine.create(function() return s:dohandshake() end)
        local r = pack(coroutine.resume(co))
        assert(r[1], r[2])
        return unpack(r, 2, r.n)
      end,
      settimeout = function(_, ...) return s:settimeout(...) end,
      close = function() return s:close() end,
      getfd = function() return s:getfd() end,
      dirty = function() return s:dirty() end,
    }
    local sres, cres = pair.handshake(proxy, c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("coroutine", where)
    assert.equal("b", s:getalpn()); assert.equal("b", c:getalpn())
    s:close(); c:close()
  end)

  it("a callback that yields inside a coroutine selects nothing; the handshake goes on", function()
    local s, c = pair.wrap(server({ alpn = function() coroutine.yield() end }),
                           client({ alpn = { "a" } }))
    local proxy = {
      dohandshake = function()
        local co = coroutine.create(function() return s:dohandshake() end)
        local r = pack(coroutine.resume(co))
        assert(r[1], r[2])
        assert.equal("dead", coroutine.status(co))
        return unpack(r, 2, r.n)
      end,
      settimeout = function(_, ...) return s:settimeout(...) end,
      close = function() return s:close() end,
      getfd = function() return s:getfd() end,
      dirty = function() return s:dirty() end,
    }
    local sres, cres = pair.handshake(proxy, c)
    assert.is_true(sres.ok and cres.ok)
    assert.is_nil(s:getalpn()); assert.is_nil(c:getalpn())
    s:close(); c:close()
  end)

  it("one context serves many handshakes with different offers", function()
    local sctx = assert(ssl.newcontext(server({ alpn = { "h2", "http/1.1" } })))
    for i, offer in ipairs { { "http/1.1" }, { "h2" }, { "x" }, { "http/1.1", "h2" } } do
      local s, c = connect_ok(sctx, client({ alpn = offer }))
      local want = oracle(offer, { "h2", "http/1.1" })
      assert.equal(want, s:getalpn(), "round " .. i)
      assert.equal(want, c:getalpn(), "round " .. i)
      s:close(); c:close()
    end
  end)

  it("the last of setalpn / setalpncb decides", function()
    local called = false
    local ctx = assert(ssl.newcontext(server()))
    assert.is_true(context.setalpncb(ctx, function() called = true return "a" end))
    assert.is_true(context.setalpn(ctx, { "b", "a" }))
    local s, c = connect_ok(ctx, client({ alpn = { "a", "b" } }))
    assert.equal("b", s:getalpn()); assert.is_false(called)
    s:close(); c:close()
    assert.is_true(context.setalpncb(ctx, function() called = true return "a" end))
    s, c = connect_ok(ctx, client({ alpn = { "a", "b" } }))
    assert.equal("a", s:getalpn()); assert.is_true(called)
    s:close(); c:close()
  end)

  it("a context whose mode is not set yet is ready for either role", function()
    local ctx = assert(context.create("any"))
    assert.is_true(context.setalpn(ctx, { "b", "a" }))
    assert.is_true(context.setmode(ctx, "server"))
    assert.is_true(context.loadkey(ctx, C "server-rsa.key"))
    assert.is_true(context.loadcert(ctx, C "server-rsa-chain.pem"))
    local cctx = assert(context.create("any"))
    assert.is_true(context.setalpn(cctx, "a"))
    assert.is_true(context.setmode(cctx, "client"))
    local s, c = connect_ok(ctx, cctx)
    assert.equal("a", s:getalpn()); assert.equal("a", c:getalpn())
    s:close(); c:close()
  end)

  it("a server context closed before the handshake selects nothing and does not crash", function()
    local sctx = assert(ssl.newcontext(server({ alpn = { "a" } })))
    local s, c = pair.wrap(sctx, client({ alpn = { "a" } }))
    close_context(sctx)
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.is_nil(s:getalpn()); assert.is_nil(c:getalpn())
    s:close(); c:close()
  end)

  it("a callback keeps working after its context table entry is collected", function()
    local s, c = pair.wrap(server({ alpn = function(names) return names end }),
                           client({ alpn = { "k" } }))
    collectgarbage(); collectgarbage()
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("k", s:getalpn()); assert.equal("k", c:getalpn())
    s:close(); c:close()
  end)
end)

describe("ALPN parameter errors", function()
  local ERR_PARAM = "invalid ALPN parameter"
  local ERR_EMPTY = "invalid ALPN name (empty string)"
  local ERR_LONG  = "invalid ALPN name (length > 255)"
  local ERR_NONE  = "invalid ALPN list (empty)"

  local cases = {
    { "an empty string",             "",                         ERR_EMPTY },
    { "an empty name in a list",     { "h2", "" },               ERR_EMPTY },
    { "a 256-byte name",             ("x"):rep(256),             ERR_LONG },
    { "a 256-byte name in a list",   { "h2", ("x"):rep(256) },   ERR_LONG },
    { "an empty list",               {},                         ERR_NONE },
    { "a table with no array part",  { a = "h2" },               ERR_NONE },
    { "a number element",            { "h2", 5 },                ERR_PARAM },
    { "a table element",             { {} },                     ERR_PARAM },
    { "a number",                    42,                         ERR_PARAM },
    { "a boolean",                   true,                       ERR_PARAM },
    { "the first bad name wins (empty, then number)", { "", 5 }, ERR_EMPTY },
    { "the first bad name wins (number, then empty)", { 5, "" }, ERR_PARAM },
    { "the first bad name wins (long, then empty)",   { ("y"):rep(300), "" }, ERR_LONG },
  }

  for _, mode in ipairs { "client", "server" } do
    for _, case in ipairs(cases) do
      do
        it(("%s: %s -> %q"):format(mode, case[1], case[3]), function()
          local ctx, err = ssl.newcontext { mode = mode, protocol = "any", alpn = case[2] }
          assert.is_nil(ctx)
          assert.equal(case[3], err)
          -- the context function itself answers false, message
          if type(case[2]) == "string" or type(case[2]) == "table" then
            local raw = assert(context.create("any"))
            assert.is_true(context.setmode(raw, mode))
            assert.same({ false, case[3] }, { context.setalpn(raw, case[2]) })
          end
        end)
      end
    end
  end

  it("a list with a hole is either cut at the hole or refused, never misread", function()
    local ctx, err = ssl.newcontext { mode = "client", protocol = "any", alpn = { "h2", nil, "x" } }
    if ctx == nil then assert.equal(ERR_PARAM, err) end
  end)

  it("a 255-byte name is accepted", function()
    assert.is_userdata((ssl.newcontext { mode = "client", protocol = "any", alpn = ("x"):rep(255) }))
  end)

  it("the whole list must fit the extension (65533 bytes)", function()
    local names = {}
    for i = 1, 256 do names[i] = ("n"):rep(254) .. string.char(i % 256) end   -- 256 * 256
    local ctx, err = ssl.newcontext { mode = "client", protocol = "any", alpn = names }
    assert.is_nil(ctx)
    assert.matches("^invalid ALPN list %(", err)
    -- exactly at the limit: 256 * 255 + 253
    names = {}
    for i = 1, 256 do names[i] = ("m"):rep(254) end
    names[257] = ("m"):rep(252)
    assert.is_userdata((ssl.newcontext { mode = "client", protocol = "any", alpn = names }))
    names[257] = ("m"):rep(253)
    assert.is_nil((ssl.newcontext { mode = "client", protocol = "any", alpn = names }))
  end)

  it("a function is a server's parameter only", function()
    assert.same({ nil, ERR_PARAM },
      { ssl.newcontext { mode = "client", protocol = "any", alpn = function() end } })
    local ctx = assert(ssl.newcontext(server()))
    assert.same({ false, ERR_PARAM }, { context.setalpncb(ctx, "h2") })
    assert.same({ false, ERR_PARAM }, { context.setalpncb(ctx) })
    assert.is_true(context.setalpncb(ctx, function() end))
  end)

  it("alpnstrict: a boolean, on a server context", function()
    for _, bad in ipairs { { "yes", "string" }, { 1, "number" }, { {}, "table" } } do
      assert.same({ nil, "invalid alpnstrict parameter (boolean expected, got " .. bad[2] .. ")" },
        { ssl.newcontext(server({ alpnstrict = bad[1] })) })
    end
    assert.same({ nil, "invalid alpnstrict parameter (server contexts only)" },
      { ssl.newcontext(client({ alpnstrict = true })) })
    assert.same({ nil, "invalid alpnstrict parameter (server contexts only)" },
      { ssl.newcontext(client({ alpnstrict = false })) })
    assert.is_userdata((ssl.newcontext(server({ alpnstrict = true }))))
    local raw = assert(context.create("any"))   -- mode not set yet: accepted
    assert.is_true(context.setalpnstrict(raw, true))
    assert.same({ false, "invalid alpnstrict parameter (boolean expected, got no value)" },
      { context.setalpnstrict(raw) })
  end)

  it("setalpn, setalpncb and setalpnstrict on a closed context answer false, 'closed'", function()
    local ctx = assert(ssl.newcontext(server()))
    close_context(ctx)
    assert.same({ false, "closed" }, { context.setalpn(ctx, "h2") })
    assert.same({ false, "closed" }, { context.setalpncb(ctx, function() end) })
    assert.same({ false, "closed" }, { context.setalpnstrict(ctx, true) })
  end)

  it("a non-context first argument raises, as for every context function", function()
    assert.has_error(function() context.setalpn({}, "h2") end)
    assert.has_error(function() context.setalpncb(nil, function() end) end)
    assert.has_error(function() context.setalpnstrict("ctx", true) end)
  end)
end)

------------------------------------------------------------------------------
-- SNI
------------------------------------------------------------------------------

local function ecdsa_ctx(overrides) return assert(ssl.newcontext(ecdsa_server(overrides))) end

describe("SNI", function()
  for _, protocol in ipairs { "tlsv1_2", "tlsv1_3" } do
    describe(protocol, function()
      local function run(name, strict, map)
        map = map or { ["example.com"] = ecdsa_ctx() }
        local s, c = pair.wrap(server({ protocol = protocol }), client({ protocol = protocol }))
        assert.is_true(s:sni(map, strict))
        if name then assert.is_true(c:sni(name)) end
        local sres, cres = pair.handshake(s, c)
        return s, c, sres, cres
      end

      it("a mapped name selects the mapped context's certificate", function()
        local s, c, sres, cres = run("example.com")
        assert.is_true(sres.ok and cres.ok)
        assert.equal("server-ecdsa", served(c))
        assert.equal(protocol == "tlsv1_2" and "ECDSA" or "any", c:info("authentication"))
        assert.equal("example.com", s:getsniname())
        assert.equal("example.com", c:getsniname())
        s:close(); c:close()
      end)

      it("names match case-insensitively, both ways", function()
        local s, c, sres, cres = run("EXAMPLE.Com", false, { ["Example.COM"] = ecdsa_ctx() })
        assert.is_true(sres.ok and cres.ok)
        assert.equal("server-ecdsa", served(c))
        assert.equal("EXAMPLE.Com", s:getsniname())   -- what the client sent, as sent
        s:close(); c:close()
      end)

      it("a trailing root dot names the same host, both ways; the client sends the name without it", function()
        local s, c, sres, cres = run("Example.com.", true, { ["example.COM."] = ecdsa_ctx() })
        assert.is_true(sres.ok, sres.err)
        assert.is_true(cres.ok, cres.err)
        assert.equal("server-ecdsa", served(c))
        assert.equal("Example.com", s:getsniname())
        assert.equal("Example.com", c:getsniname())
        s:close(); c:close()
      end)

      it("an unknown name, not strict, keeps the default context", function()
        local s, c, sres, cres = run("other.test", false)
        assert.is_true(sres.ok and cres.ok)
        assert.equal("server-rsa", served(c))
        assert.equal("other.test", s:getsniname())
        assert.equal("other.test", c:getsniname())
        s:close(); c:close()
      end)

      it("an unknown name, strict, ends the handshake with unrecognized_name", function()
        local s, c, sres, cres = run("other.test", true)
        assert.is_false(sres.ok)
        assert.is_false(cres.ok)
        assert.matches("unrecognized name", cres.err, 1, true)
        assert.matches("callback failed", sres.err, 1, true)
        assert.same({ nil, "closed" }, { c:info() })
        s:close(); c:close()
      end)

      it("a server that refused a name still reports it (failed state)", function()
        local s, c = pair.wrap(server({ protocol = protocol }), client({ protocol = protocol }))
        assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true))
        assert.is_true(c:sni("other.test"))
        s:settimeout(0); c:settimeout(0)
        assert.same({ false, "wantread" }, { c:dohandshake() })   -- ClientHello out
        local ok, err = s:dohandshake()                            -- refused
        assert.is_false(ok)
        assert.matches("callback failed", err, 1, true)
        assert.equal("other.test", s:getsniname())
        assert.is_nil(s:getalpn())
        assert.same({ nil, "closed" }, { s:sni({}) })
        socket.select({ c }, nil, 5)
        ok, err = c:dohandshake()
        assert.is_false(ok)
        assert.matches("unrecognized name", err, 1, true)
        assert.equal("other.test", c:getsniname())
        s:close(); c:close()
      end)

      it("no SNI at all keeps the default context, strict or not", function()
        for _, strict in ipairs { false, true } do
          local s, c, sres, cres = run(nil, strict)
          assert.is_true(sres.ok and cres.ok)
          assert.equal("server-rsa", served(c))
          assert.is_nil(s:getsniname()); assert.is_nil(c:getsniname())
          s:close(); c:close()
        end
      end)

      it("a subdomain or a prefix of a mapped name is not that name", function()
        for _, name in ipairs { "www.example.com", "example.co", "example.com.x" } do
          local s, c, sres, cres = run(name, false)
          assert.is_true(sres.ok and cres.ok)
          assert.equal("server-rsa", served(c), name)
          s:close(); c:close()
        end
      end)
    end)
  end

  it("several names map to several contexts", function()
    local map = { ["ecdsa.test"] = ecdsa_ctx(), ["rsa.test"] = assert(ssl.newcontext(server())),
                  ["ed.test"] = assert(ssl.newcontext(server({ key = C "server-ed25519.key",
                                                   certificate = C "server-ed25519-chain.pem" }))) }
    for name, ou in pairs { ["ecdsa.test"] = "server-ecdsa", ["rsa.test"] = "server-rsa",
                            ["ed.test"] = "server-ed25519" } do
      local s, c = connect_ok(ecdsa_server(), client(), function(s, c)
        assert.is_true(s:sni(map, true)); assert.is_true(c:sni(name))
      end)
      assert.equal(ou, served(c), name)
      s:close(); c:close()
    end
  end)

  it("the map is copied: later changes to the caller's table do not matter", function()
    local map = { ["example.com"] = ecdsa_ctx() }
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni(map, true))
    map["example.com"] = nil
    map["other.test"] = ecdsa_ctx()
    assert.is_true(c:sni("example.com"))
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("server-ecdsa", served(c))
    s:close(); c:close()
  end)

  it("the map keeps its contexts alive when nothing else does", function()
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }))
    assert.is_true(c:sni("example.com"))
    collectgarbage(); collectgarbage()
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("server-ecdsa", served(c))
    s:close(); c:close()
  end)

  it("a second sni() replaces the map and the strict flag", function()
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["a.test"] = ecdsa_ctx() }, true))
    assert.is_true(s:sni({ ["b.test"] = ecdsa_ctx() }, false))
    assert.is_true(c:sni("a.test"))
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)          -- not strict any more
    assert.equal("server-rsa", served(c))        -- a.test no longer mapped
    s:close(); c:close()
  end)

  it("a mapped context closed after sni() counts as unknown", function()
    for _, strict in ipairs { false, true } do
      local mapped = ecdsa_ctx()
      local s, c = pair.wrap(server(), client())
      assert.is_true(s:sni({ ["example.com"] = mapped }, strict))
      assert.is_true(c:sni("example.com"))
      close_context(mapped)
      local sres, cres = pair.handshake(s, c)
      if strict then
        assert.is_false(sres.ok); assert.matches("unrecognized name", cres.err, 1, true)
      else
        assert.is_true(sres.ok and cres.ok); assert.equal("server-rsa", served(c))
      end
      s:close(); c:close()
    end
  end)

  it("other connections of the same context are not affected by one's map", function()
    local sctx = assert(ssl.newcontext(server()))
    local s1, c1 = pair.wrap(sctx, client())
    assert.is_true(s1:sni({ ["example.com"] = ecdsa_ctx() }, true))
    assert.is_true(c1:sni("example.com"))
    local s2, c2 = connect_ok(sctx, client(), function(_, c) assert.is_true(c:sni("other.test")) end)
    assert.equal("server-rsa", served(c2))
    assert.equal("other.test", s2:getsniname())
    local sres, cres = pair.handshake(s1, c1)
    assert.is_true(sres.ok and cres.ok)
    assert.equal("server-ecdsa", served(c1))
    s1:close(); c1:close(); s2:close(); c2:close()
  end)

  it("a server without a map still reports the name the client sent", function()
    local s, c = connect_ok(server(), client(), function(_, c) assert.is_true(c:sni("plain.test")) end)
    assert.equal("plain.test", s:getsniname())
    assert.equal("server-rsa", served(c))
    s:close(); c:close()
  end)

  it("the mapped context's verification applies (client certificate required there)", function()
    local strict_ctx = ecdsa_ctx({ verify = { "peer", "fail_if_no_peer_cert" }, cafile = C "ca.pem" })
    -- without a client certificate: refused by the mapped context
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["secure.test"] = strict_ctx }))
    assert.is_true(c:sni("secure.test"))
    local sres, cres = pair.handshake(s, c)
    assert.is_false(sres.ok)
    assert.matches("certificate", sres.err)
    -- (cres depends on the version: a TLS 1.3 client finishes first and
    -- learns of the refusal only on its first read)
    assert.is_table(cres)
    s:close(); c:close()
    -- with one: accepted
    s, c = connect_ok(server(), client({ key = C "client-rsa.key", certificate = C "client-rsa-chain.pem" }),
      function(srv, cli)
        assert.is_true(srv:sni({ ["secure.test"] = strict_ctx }))
        assert.is_true(cli:sni("secure.test"))
      end)
    assert.equal("server-ecdsa", served(c))
    assert.is_true(s:getpeerverification())
    s:close(); c:close()
  end)

  it("the mapped context's ALPN list decides after the switch", function()
    local mapped = ecdsa_ctx({ alpn = { "mapped", "both" } })
    local s, c = connect_ok(server({ alpn = { "both", "default" } }),
                            client({ alpn = { "default", "both", "mapped" } }),
      function(s, c)
        assert.is_true(s:sni({ ["example.com"] = mapped }))
        assert.is_true(c:sni("example.com"))
      end)
    assert.equal("mapped", s:getalpn()); assert.equal("mapped", c:getalpn())
    assert.equal("server-ecdsa", served(c))
    s:close(); c:close()
  end)

  it("the mapped context's ciphers decide after the switch (TLS 1.2)", function()
    local mapped = ecdsa_ctx({ ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256" })
    local s, c = connect_ok(server({ ciphers = "ECDHE-RSA-AES256-GCM-SHA384" }),
                            client({ protocol = "tlsv1_2" }),
      function(s, c)
        assert.is_true(s:sni({ ["example.com"] = mapped }))
        assert.is_true(c:sni("example.com"))
      end)
    assert.equal("ECDHE-ECDSA-AES128-GCM-SHA256", c:info("cipher"))
    s:close(); c:close()
  end)
end)

describe("SNI argument errors", function()
  local function fresh_pair()
    local s, c = pair.wrap(server(), client())
    return s, c
  end

  it("client: a name must be a non-empty string of at most 255 bytes without zero bytes", function()
    local s, c = fresh_pair()
    assert.same({ nil, "invalid SNI name" }, { c:sni() })
    assert.same({ nil, "invalid SNI name" }, { c:sni(42) })
    assert.same({ nil, "invalid SNI name" }, { c:sni({ ["a"] = 1 }) })
    assert.same({ nil, "invalid SNI name (empty string)" }, { c:sni("") })
    assert.same({ nil, "invalid SNI name (length > 255)" }, { c:sni(("a"):rep(256)) })
    assert.same({ nil, "invalid SNI name (contains a zero byte)" }, { c:sni("a\0b") })
    assert.same({ nil, "invalid SNI name (empty string)" }, { c:sni(".") })   -- the root alone
    assert.is_true(c:sni(("a"):rep(255)))
    assert.equal(("a"):rep(255), c:getsniname())
    assert.is_true(c:sni(("a"):rep(255) .. "."))   -- 255 bytes once the root dot is dropped
    assert.equal(("a"):rep(255), c:getsniname())
    assert.is_true(c:sni("last.test"))   -- a later call replaces the name
    assert.equal("last.test", c:getsniname())
    s:close(); c:close()
  end)

  it("server: a map of host names to live server contexts", function()
    local s, c = fresh_pair()
    local good = ecdsa_ctx()
    local closed = ecdsa_ctx(); close_context(closed)
    local cctx = assert(ssl.newcontext(client()))
    local cases = {
      { "example.com",                 "invalid SNI map (table expected, got string)" },
      { nil,                           "invalid SNI map (table expected, got nil)" },
      { { [1] = good },                "invalid SNI map (host name expected as key, got number)" },
      { { [""] = good },               "invalid SNI map (host name '': empty string)" },
      { { [("h"):rep(256)] = good },   "invalid SNI map (host name '" .. ("h"):rep(256) .. "': length > 255)" },
      { { ["a.test"] = "ctx" },        "invalid SNI map (context expected for 'a.test', got string)" },
      { { ["a.test"] = {} },           "invalid SNI map (context expected for 'a.test', got table)" },
      { { ["a.test"] = closed },       "invalid SNI map (context for 'a.test' is closed)" },
      { { ["a.test"] = cctx },         "invalid SNI map (context for 'a.test' is not a server context)" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { s:sni(case[1]) })
    end
    local r = { s:sni({ ["A.test"] = good, ["a.TEST"] = ecdsa_ctx() }) }
    assert.is_nil(r[1])
    assert.matches("^invalid SNI map %(host name '.+' given twice%)$", r[2])
    r = { s:sni({ ["a.test"] = good, ["a.test."] = ecdsa_ctx() }) }   -- one host, two spellings
    assert.is_nil(r[1])
    assert.matches("^invalid SNI map %(host name 'a%.test%.?' given twice%)$", r[2])
    assert.same({ nil, "invalid SNI map (host name '.': empty string)" }, { s:sni({ ["."] = good }) })
    -- the same context under two spellings is fine; so is an empty map
    assert.is_true(s:sni({ ["A.test"] = good, ["a.TEST"] = good }))
    assert.is_true(s:sni({}))
    s:close(); c:close()
  end)

  it("a refused map leaves the previous one in place", function()
    local s, c = pair.wrap(server(), client())
    assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true))
    assert.is_nil((s:sni({ ["example.com"] = "junk" }, false)))
    assert.is_true(c:sni("other.test"))
    local sres, cres = pair.handshake(s, c)
    assert.is_false(sres.ok)                     -- still strict
    assert.matches("unrecognized name", cres.err, 1, true)
    s:close(); c:close()
  end)

  it("sni() once the handshake has started answers nil, 'handshake already started'", function()
    local s, c = pair.wrap(server(), client())
    s:settimeout(0); c:settimeout(0)
    assert.same({ false, "wantread" }, { c:dohandshake() })
    assert.same({ nil, "handshake already started" }, { c:sni("late.test") })
    assert.same({ false, "wantread" }, { s:dohandshake() })
    assert.same({ nil, "handshake already started" }, { s:sni({}) })
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.is_nil(c:getsniname())
    s:close(); c:close()
  end)
end)

------------------------------------------------------------------------------
-- every new method in every state, on both ends
------------------------------------------------------------------------------

describe("sni, getsniname and getalpn in every state", function()
  local NAME = "example.com"
  local function build(state)
    local sp = server({ alpn = { "h2" } })
    local cp = client({ alpn = { "h2" } })
    if state == "failed" then cp = client({ alpn = { "h2" }, verify = "peer", cafile = C "rogue-ca.pem" }) end
    local s, c = pair.wrap(sp, cp)
    assert.is_true(s:sni({ [NAME] = ecdsa_ctx({ alpn = { "h2" } }) }))
    assert.is_true(c:sni(NAME))
    if state ~= "fresh" then
      local _, cres = pair.handshake(s, c)
      assert.equal(state ~= "failed", cres.ok)
    end
    if state == "closed" then s:close(); c:close() end
    return s, c
  end

  local expect = {
    --         getalpn        getsniname           sni(...)
    fresh     = { s = { nil, nil,  true },  c = { nil, NAME, true } },
    connected = { s = { "h2", NAME, false }, c = { "h2", NAME, false } },
    failed    = { s = { nil, NAME, false }, c = { nil, NAME, false } },
    closed    = { s = { nil, nil,  false }, c = { nil, nil,  false } },
  }

  for _, state in ipairs { "fresh", "connected", "failed", "closed" } do
    for _, side in ipairs { "s", "c" } do
      local who = side == "s" and "server" or "client"
      it(("%s when %s"):format(who, state), function()
        local s, c = build(state)
        finally(function() s:close(); c:close() end)
        local conn, want = side == "s" and s or c, expect[state][side]
        assert.same(pack(want[1]), pack(conn:getalpn()))
        assert.same(pack(want[2]), pack(conn:getsniname()))
        local arg = side == "s" and {} or "again.test"
        if want[3] then
          assert.same(pack(true), pack(conn:sni(arg)))
        else
          assert.same(pack(nil, "closed"), pack(conn:sni(arg)))
        end
        -- and nothing changed by asking twice
        assert.same(pack(want[1]), pack(conn:getalpn()))
      end)
    end
  end
end)

------------------------------------------------------------------------------
-- against openssl
------------------------------------------------------------------------------

-- Our client against s_server: returns the connection and the handshake result.
local function to_s_server(defer, srv_opts, cparams, setup)
  local srv = defer(openssl.s_server(srv_opts))
  local tcp = socket.tcp()
  tcp:settimeout(5)
  assert(tcp:connect("127.0.0.1", srv.port))
  local conn = defer(assert(ssl.wrap(tcp, cparams)))
  if setup then setup(conn) end
  conn:settimeout(10)
  local ok, err = conn:dohandshake()
  return conn, ok, err, srv
end

-- s_client against our server: returns our connection, our handshake
-- result and what s_client reported.
local function from_s_client(defer, sparams, cl_opts, setup)
  local listener = assert(socket.bind("127.0.0.1", 0))
  defer(listener)
  local _, port = listener:getsockname()
  listener:settimeout(10)
  cl_opts.port = tonumber(port)
  local cl = defer(openssl.s_client(cl_opts))
  local tcp = assert(listener:accept())
  local conn = defer(assert(ssl.wrap(tcp, sparams)))
  if setup then setup(conn) end
  conn:settimeout(10)
  local ok, err = conn:dohandshake()
  assert(cl:wait(10))
  return conn, ok, err, openssl.parse(cl:output())
end

describe("against openssl", function()
  after_each(helpers.stop_all)

  describe("ALPN", function()
    it("our client, s_server -alpn: server preference", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, { naccept = 1, args = { "-alpn", "h2,http/1.1" } },
                                        client({ alpn = { "http/1.1", "h2" } }))
      assert.is_true(ok, err)
      assert.equal("h2", conn:getalpn())
    end)

    it("our client, s_server -alpn without overlap: s_server refuses (its choice)", function()
      -- s_server answers no overlap with a fatal no_application_protocol
      -- alert (RFC 7301 3.2), unlike LuaSec and us; our client reports it.
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, { naccept = 1, args = { "-alpn", "h2" } },
                                        client({ alpn = "spdy/3" }))
      assert.is_false(ok)
      assert.matches("no application protocol", err, 1, true)
      assert.is_nil(conn:getalpn())
    end)

    it("our client without ALPN, s_server -alpn: no ALPN", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, { naccept = 1, args = { "-alpn", "h2" } }, client())
      assert.is_true(ok, err)
      assert.is_nil(conn:getalpn())
    end)

    it("s_client -alpn, our server with a list", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server({ alpn = { "h2", "http/1.1" } }),
                                               { alpn = "http/1.1,h2" })
      assert.is_true(ok, err)
      assert.equal("h2", conn:getalpn())
      assert.equal("h2", out.alpn)
    end)

    it("s_client -alpn, our server with a callback", function()
      local defer = helpers.cleanup(finally)
      local seen
      local conn, ok, err, out = from_s_client(defer,
        server({ alpn = function(names) seen = names; return names[2] end }),
        { alpn = "one,two,three" })
      assert.is_true(ok, err)
      assert.same({ "one", "two", "three" }, seen)
      assert.equal("two", conn:getalpn())
      assert.equal("two", out.alpn)
    end)

    it("s_client -alpn, our server without overlap", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server({ alpn = { "h2" } }), { alpn = "x" })
      assert.is_true(ok, err)
      assert.is_nil(conn:getalpn())
      assert.is_false(out.alpn)
    end)

    it("s_client -alpn, our alpnstrict server without overlap: no_application_protocol", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server({ alpn = { "h2" }, alpnstrict = true }),
                                               { alpn = "x" })
      assert.is_false(ok)
      assert.equal("no application protocol", err)
      assert.is_nil(conn:getalpn())
      assert.matches("no application protocol", table.concat(out.errors, "|"), 1, true)
    end)
  end)

  describe("SNI", function()
    local function sni_server(extra)
      local args = { "-servername", "example.com",
                     "-cert2", C "server-ecdsa.pem", "-key2", C "server-ecdsa.key" }
      for _, a in ipairs(extra or {}) do args[#args + 1] = a end
      return { naccept = 1, args = args }
    end

    it("our client names the host; s_server switches to its second certificate", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, sni_server(), client({ protocol = "tlsv1_2" }),
                                        function(c) assert.is_true(c:sni("example.com")) end)
      assert.is_true(ok, err)
      assert.equal("server-ecdsa", served(conn))
      assert.equal("ECDSA", conn:info("authentication"))
      assert.equal("example.com", conn:getsniname())
    end)

    it("our client without sni() gets s_server's first certificate", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, sni_server(), client())
      assert.is_true(ok, err)
      assert.equal("server-rsa", served(conn))
      assert.is_nil(conn:getsniname())
    end)

    it("our client, unknown name, s_server -servername_fatal: unrecognized name", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, sni_server({ "-servername_fatal" }), client(),
                                        function(c) assert.is_true(c:sni("other.test")) end)
      assert.is_false(ok)
      assert.matches("unrecognized name", err, 1, true)
      assert.same({ false, err }, { conn:dohandshake() })
    end)

    it("s_client -servername, our server with a map", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server(), { servername = "Example.com" },
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_true(ok, err)
      assert.equal("Example.com", conn:getsniname())
      assert.matches("OU = server-ecdsa", out.peer_subject, 1, true)
    end)

    it("s_client -servername with a trailing dot, our strict server maps it to the dotless name", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server(), { servername = "example.com." },
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_true(ok, err)
      assert.equal("example.com.", conn:getsniname())   -- as the client sent it
      assert.matches("OU = server-ecdsa", out.peer_subject, 1, true)
    end)

    it("s_client -servername unknown, our strict server: unrecognized name", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server(), { servername = "other.test" },
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_false(ok)
      assert.matches("callback failed", err, 1, true)
      assert.equal("other.test", conn:getsniname())
      assert.matches("unrecognized name", table.concat(out.errors, "|"), 1, true)
    end)

    it("s_client -noservername, our strict server: default certificate", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, out = from_s_client(defer, server(), { noservername = true },
        function(s) assert.is_true(s:sni({ ["example.com"] = ecdsa_ctx() }, true)) end)
      assert.is_true(ok, err)
      assert.is_nil(conn:getsniname())
      assert.matches("OU = server-rsa", out.peer_subject, 1, true)
    end)
  end)
end)
