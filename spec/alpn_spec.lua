-- ALPN (RFC 7301): the alpn and alpnstrict parameters, context.setalpn /
-- setalpncb / setalpnstrict, and conn:getalpn.
--
-- Results are checked against an oracle written from RFC 7301 and LuaSec's
-- rules (server preference; a callback's string must be one the client
-- offered, its array is matched like the server's own list; anything else,
-- or an error, means no ALPN), for every pairing of client offer and server
-- configuration, on both ends of the connection; then against openssl
-- s_server / s_client in each role.
local ssl     = require "ssl"
local context = require "ssl.context"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local alerts  = require "spec.helpers.alerts"

local C = certs.path
local unpack = table.unpack or unpack
local function pack(...) return { n = select("#", ...), ... } end

local function server(overrides) return certs.server_leaf("server-rsa", overrides) end
local function client(overrides) return certs.merge({ mode = "client", protocol = "any" }, overrides) end
local connect_ok = pair.established

-- Calls a context's __close directly: "closed" on every Lua version.
local function close_context(ctx) getmetatable(ctx).__close(ctx) end

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
          assert.same({ ok = false, err = alerts.received("no application protocol") }, cres)
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
    assert.same({ ok = false, err = alerts.received("no application protocol") }, cres)
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

describe("against openssl", function()
  after_each(helpers.stop_all)

  describe("ALPN", function()
    it("our client, s_server -alpn: server preference", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server { naccept = 1, args = { "-alpn", "h2,http/1.1" } })
      local conn, ok, err = openssl.connect(defer, srv, client({ alpn = { "http/1.1", "h2" } }))
      assert.is_true(ok, err)
      assert.equal("h2", conn:getalpn())
    end)

    it("our client, s_server -alpn without overlap: s_server refuses (its choice)", function()
      -- s_server answers no overlap with a fatal no_application_protocol
      -- alert (RFC 7301 3.2), unlike LuaSec and us; our client reports it.
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server { naccept = 1, args = { "-alpn", "h2" } })
      local conn, ok, err = openssl.connect(defer, srv, client({ alpn = "spdy/3" }))
      assert.is_false(ok)
      assert.matches("no application protocol", err, 1, true)
      assert.is_nil(conn:getalpn())
    end)

    it("our client without ALPN, s_server -alpn: no ALPN", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server { naccept = 1, args = { "-alpn", "h2" } })
      local conn, ok, err = openssl.connect(defer, srv, client())
      assert.is_true(ok, err)
      assert.is_nil(conn:getalpn())
    end)

    it("s_client -alpn, our server with a list", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { alpn = "http/1.1,h2" },
                                                         server({ alpn = { "h2", "http/1.1" } }))
      assert.is_true(ok, err)
      assert.equal("h2", conn:getalpn())
      assert.equal("h2", openssl.report(cli).alpn)
    end)

    it("s_client -alpn, our server with a callback", function()
      local defer = helpers.cleanup(finally)
      local seen
      local conn, ok, err, cli = openssl.accept_s_client(defer, { alpn = "one,two,three" },
        server({ alpn = function(names) seen = names; return names[2] end }))
      assert.is_true(ok, err)
      assert.same({ "one", "two", "three" }, seen)
      assert.equal("two", conn:getalpn())
      assert.equal("two", openssl.report(cli).alpn)
    end)

    it("s_client -alpn, our server without overlap", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { alpn = "x" }, server({ alpn = { "h2" } }))
      assert.is_true(ok, err)
      assert.is_nil(conn:getalpn())
      assert.is_false(openssl.report(cli).alpn)
    end)

    it("s_client -alpn, our alpnstrict server without overlap: no_application_protocol", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err, cli = openssl.accept_s_client(defer, { alpn = "x" },
                                                         server({ alpn = { "h2" }, alpnstrict = true }))
      assert.is_false(ok)
      assert.equal("no application protocol", err)
      assert.is_nil(conn:getalpn())
      assert.matches("no application protocol", table.concat(openssl.report(cli).errors, "|"), 1, true)
    end)
  end)
end)
