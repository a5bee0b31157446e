-- sessioncache_spec: the server-side session cache switched on and then off
-- again (context.setsessioncache(ctx, false)) is off: a TLS 1.2 client
-- offering a session id the server cached while the cache was on gets a
-- full handshake, and a new connection is given no session id at all.
-- Tickets are off (no_ticket), so the id is the only way to resume; the
-- control cases show that the same client does resume while the cache is
-- on.
local ssl     = require "ssl"
local context = require "ssl.context"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"

local function server_ctx()
  return assert(ssl.newcontext(certs.server_params { protocol = "tlsv1_2", sessioncache = true,
                                                     options = { "all", "no_ticket" } }))
end

-- Connects twice with one client context; the second offers the first's
-- session, after `between(sctx)`. Returns whether it was resumed (client's
-- and server's view).
local function resumed(sctx, between)
  local cctx = assert(ssl.newcontext(certs.client_params { protocol = "tlsv1_2" }))
  local s, c, sres, cres = pair.connect(sctx, cctx)
  assert.is_true(sres.ok and cres.ok, cres.err or sres.err)
  local session = assert(c:getsession())
  s:close(); c:close()
  if between then between(sctx) end
  local s2, c2 = pair.wrap(sctx, cctx)
  assert.is_true(c2:setsession(session))
  local sres2, cres2 = pair.handshake(s2, c2)
  finally(function() s2:close(); c2:close() end)
  assert.is_true(sres2.ok and cres2.ok, cres2.err or sres2.err)
  return c2:sessionreused(), s2:sessionreused()
end

describe("sessioncache switched off again", function()
  setup(certs.ensure)

  it("on: the session is resumed (control)", function()
    assert.same({ true, true }, { resumed(server_ctx()) })
  end)

  it("on, then off: a full handshake", function()
    assert.same({ false, false }, { resumed(server_ctx(), function(sctx)
      assert.is_true(context.setsessioncache(sctx, false))
    end) })
  end)

  it("on, then off: a new connection gets no session to resume", function()
    local sctx = server_ctx()
    assert.is_true(context.setsessioncache(sctx, false))
    local s, c, sres, cres = pair.connect(sctx, ssl.newcontext(certs.client_params { protocol = "tlsv1_2" }))
    finally(function() s:close(); c:close() end)
    assert.is_true(sres.ok and cres.ok, cres.err or sres.err)
    assert.same({ nil, "no resumable session" }, { c:getsession() })
  end)

  it("on, off, on again: sessions made after are resumed", function()
    local sctx = server_ctx()
    assert.is_true(context.setsessioncache(sctx, false))
    assert.is_true(context.setsessioncache(sctx, true))
    assert.same({ true, true }, { resumed(sctx) })
  end)
end)
