-- protocol = {min =, max =}: version ranges beside LuaSec's single names,
-- against our own server (pair) and `openssl s_server`.
local ssl     = require "ssl"
local socket  = require "socket"
local context = require "ssl.context"
local pair    = require "spec.helpers.pair"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"

certs.ensure()
local C = certs.path

local function server(protocol)
  return { mode = "server", protocol = protocol, key = C "server-rsa.key",
           certificate = C "server-rsa-chain.pem" }
end
local function client(protocol) return { mode = "client", protocol = protocol } end

-- The negotiated version, or false and the client's error.
local function negotiate(sproto, cproto)
  local s, c, sres, cres = pair.connect(server(sproto), client(cproto))
  local version = sres.ok and cres.ok and pair.version(c)
  s:close(); c:close()
  if not version then return false, cres.err end
  return version
end

describe("protocol ranges", function()
  after_each(helpers.stop_all)

  it("negotiate inside both ranges", function()
    assert.equal("TLSv1.3", negotiate({ min = "tlsv1_2" }, { min = "tlsv1_2", max = "tlsv1_3" }))
    assert.equal("TLSv1.2", negotiate({ max = "tlsv1_2" }, { min = "tlsv1_2" }))
    assert.equal("TLSv1.2", negotiate("any", { min = "tlsv1_2", max = "tlsv1_2" }))
    assert.equal("TLSv1.3", negotiate("tlsv1_3", {}))
    assert.equal("TLSv1.3", negotiate({ min = "any", max = "any" }, "any"))
  end)

  it("fail when the ranges do not meet", function()
    local ok, err = negotiate({ max = "tlsv1_2" }, { min = "tlsv1_3" })
    assert.is_false(ok)
    assert.is_string(err)
    assert.is_false((negotiate("tlsv1_3", { max = "tlsv1_2" })))
  end)

  it("refuse bad names, bad types and min > max with nil, message", function()
    local cases = {
      { { min = "tlsv1_3", max = "tlsv1_2" }, "invalid protocol range (min > max)" },
      { { min = "sslv3" }, "invalid protocol (sslv3)" },
      { { max = "tlsv9" }, "invalid protocol (tlsv9)" },
      { { min = 12 }, "invalid protocol (12)" },
      { { "tlsv1_2" }, "invalid protocol range (unknown key 1)" },
      { { mn = "tlsv1_2" }, "invalid protocol range (unknown key mn)" },
      { 1.2, "invalid protocol (1.2)" },
    }
    for _, case in ipairs(cases) do
      assert.same({ nil, case[2] }, { ssl.newcontext(client(case[1])) })
    end
  end)

  it("context.setprotocolrange replaces both bounds; closed context", function()
    local ctx = assert(ssl.newcontext(client("tlsv1_2")))
    assert.is_true(context.setprotocolrange(ctx, nil, "tlsv1_3"))
    assert.same({ false, "invalid protocol (x)" }, { context.setprotocolrange(ctx, "x") })
    getmetatable(ctx).__gc(ctx)
    assert.same({ false, "closed" }, { context.setprotocolrange(ctx, "tlsv1_2") })
  end)

  it("against openssl s_server -tls1_2", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server { naccept = 2, args = { "-tls1_2" } })
    local function connect(protocol)
      local tcp = socket.tcp()
      tcp:settimeout(5)
      assert(tcp:connect("127.0.0.1", srv.port))
      local conn = defer(assert(ssl.wrap(tcp, client(protocol))))
      conn:settimeout(5)
      local ok, err = conn:dohandshake()
      return ok and conn:info("protocol") or false, err
    end
    assert.equal("TLSv1.2", (connect { max = "tlsv1_3" }))
    local ok, err = connect { min = "tlsv1_3" }
    assert.is_false(ok)
    assert.is_string(err)
  end)
end)
