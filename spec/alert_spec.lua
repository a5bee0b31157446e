-- conn:getalert(): the last TLS alert a connection sent or received, with
-- level, description and code. Against our own peer (pair) and the openssl
-- tools.
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local pair    = require "spec.helpers.pair"
local alerts  = require "spec.helpers.alerts"

local C = certs.path

local function server(overrides) return certs.server_params(overrides) end
local function client(overrides) return certs.client_params(overrides) end

local UNKNOWN_CA = { level = "fatal", description = "unknown CA", code = 48 }
local CLOSE_NOTIFY = { level = "warning", description = "close notify", code = 0 }

describe("getalert", function()
  after_each(helpers.stop_all)

  it("records the fatal alert on both sides of a failed verification", function()
    local s, c, sres, cres = pair.connect(server(), client { cafile = C "rogue-ca.pem" })
    finally(function() s:close(); c:close() end)
    assert.is_false(cres.ok)
    assert.same({ sent = UNKNOWN_CA }, c:getalert())
    assert.is_false(sres.ok)
    assert.same({ received = UNKNOWN_CA }, s:getalert())
  end)

  it("is nil before any alert, then shows close_notify", function()
    local s, c = pair.wrap(server(), client())
    finally(function() s:close(); c:close() end)
    assert.is_nil(c:getalert())
    local sres, cres = pair.handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    assert.is_nil(c:getalert())
    c:close()
    assert.same({ nil, "closed", "" }, { s:receive() })
    assert.same({ received = CLOSE_NOTIFY }, s:getalert())
    assert.is_nil(c:getalert())       -- closed: the record went with the SSL
  end)

  it("our server hears s_client's unknown CA alert", function()
    local defer = helpers.cleanup(finally)
    local conn, ok, err, cl = openssl.accept_s_client(defer,
      { cafile = C "rogue-ca.pem", verify_return_error = true, stdin = "" }, server())
    assert.same({ false, alerts.received("unknown ca") }, { ok, err })
    assert.is_true(cl:wait(10))
    assert.same({ received = UNKNOWN_CA }, conn:getalert())
  end)

  it("our client hears s_server's protocol version alert", function()
    local defer = helpers.cleanup(finally)
    local srv = defer(openssl.s_server { naccept = 1, args = { "-tls1_3" } })
    local conn, ok, err = openssl.connect(defer, srv, client { protocol = "tlsv1_2" })
    assert.same({ false, alerts.received("protocol version") }, { ok, err })
    assert.same({ received = { level = "fatal", description = "protocol version", code = 70 } },
                conn:getalert())
  end)
end)
