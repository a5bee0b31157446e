-- Error objects (`errorobjects = true`): failures as tables with kind,
-- reason, codes and depth, whose tostring is the usual message; off by
-- default.
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local oracle  = require "spec.helpers.x509oracle"
local alerts  = require "spec.helpers.alerts"

local C = certs.path

local function server(overrides) return certs.server_params(overrides) end
local function client(overrides) return certs.client_params(overrides) end

-- pair.handshake compares messages with ~=, which error objects defeat on
-- purpose; this driver compares tostring(err), the documented way.
local function handshake(s, c)
  local res = { [s] = {}, [c] = {} }
  s:settimeout(0); c:settimeout(0)
  local limit = socket.gettime() + 10
  while not (res[s].done and res[c].done) do
    for _, conn in ipairs { c, s } do
      local r = res[conn]
      if not r.done then
        local ok, err = conn:dohandshake()
        local text = tostring(err)
        if ok then r.done, r.ok = true, true
        elseif text ~= "wantread" and text ~= "wantwrite" then r.done, r.ok, r.err = true, false, err end
      end
    end
    if res[c].done and not res[c].ok and not res[s].done then c:close() end
    if res[s].done and not res[s].ok and not res[c].done then s:close() end
    assert(socket.gettime() < limit, "handshake deadline")
    socket.select({ s, c }, nil, 0.02)
  end
  s:settimeout(nil); c:settimeout(nil)
  return res[s], res[c]
end

describe("error objects", function()
  it("a verification failure: kind, codes, depth; tostring is today's text", function()
    local s, c = pair.wrap(server(), client { cafile = C "rogue-ca.pem", errorobjects = true })
    finally(function() s:close(); c:close() end)
    local _, cres = handshake(s, c)
    local err = cres.err
    local expected = oracle.verify { leaf = C "server-rsa.pem", untrusted = C "int-ca.pem",
                                     cafile = C "rogue-ca.pem" }
    assert.is_table(err)
    assert.equal(("certificate verify failed (%s at depth %d: %s)"):format(
      expected.reason, expected.depth, expected.subject), tostring(err))
    assert.equal("verify", err.kind)
    assert.equal(expected.reason, err.reason)
    assert.equal(tostring(err), err.message)
    assert.equal(20, err.verify_code)          -- unable to get local issuer certificate
    assert.equal(1, err.depth)                 -- int-ca: no trusted issuer
    assert.is_number(err.openssl_code)
    -- A retry returns an equal object; a string never equals an object.
    local _, again = c:dohandshake()
    assert.is_true(again == err)
    assert.is_false(rawequal(again, err))
    assert.is_false(err == tostring(err))
    assert.equal("closed", tostring(select(2, c:receive())))
  end)

  it("tls, closed and timeout kinds; partial results stay", function()
    local s, c = pair.wrap(server(), client { errorobjects = true })
    finally(function() s:close(); c:close() end)
    local sres, cres = handshake(s, c)
    assert.is_true(sres.ok and cres.ok)
    c:settimeout(0)
    local data, err, partial = c:receive()
    assert.is_nil(data)
    assert.same({ "timeout", "read", "wantread", "" }, { err.kind, err.want, tostring(err), partial })
    assert.equal(4, s:send("abc\n"))
    c:settimeout(1)
    assert.equal("abc", c:receive())
    s:send("ab")
    s:close()
    data, err, partial = c:receive()
    assert.same({ nil, "closed", "closed", "ab" }, { data, err.kind, tostring(err), partial })
    c:close()
    local n, serr, last = c:send("x")
    assert.same({ nil, "closed", 0 }, { n, tostring(serr), last })
  end)

  it("an OCSP failure is a verify error with the OCSP verify code", function()
    local s, c = pair.wrap(
      server { key = C "revoked.key", certificate = C "revoked-chain.pem",
               ocsp = certs.read("ocsp-revoked.der") },
      client { ocsp = "require", errorobjects = true })
    finally(function() s:close(); c:close() end)
    local _, cres = handshake(s, c)
    assert.equal("certificate verify failed (OCSP: certificate revoked)", tostring(cres.err))
    assert.equal("verify", cres.err.kind)
    assert.equal(23, cres.err.verify_code)     -- X509_V_ERR_CERT_REVOKED
  end)

  it("a peer's alert is a tls error", function()
    local s, c = pair.wrap(server { errorobjects = true }, client { cafile = C "rogue-ca.pem" })
    finally(function() s:close(); c:close() end)
    local sres = handshake(s, c)
    assert.equal("tls", sres.err.kind)
    assert.equal(alerts.received("unknown ca"), tostring(sres.err))
    assert.equal(alerts.received("unknown ca"), sres.err.reason)
  end)

  it("are off by default and refuse non-booleans", function()
    local s, c, _, cres = pair.connect(server { errorobjects = false }, client { cafile = C "rogue-ca.pem" })
    finally(function() s:close(); c:close() end)
    assert.equal(oracle.handshake_message { leaf = C "server-rsa.pem", untrusted = C "int-ca.pem",
                                            cafile = C "rogue-ca.pem" }, cres.err)
    assert.same({ nil, "invalid errorobjects parameter (boolean expected, got string)" },
                { ssl.newcontext(client { errorobjects = "yes" }) })
  end)
end)
