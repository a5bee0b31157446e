-- ssl.https resumes TLS sessions: a second request to the same host and
-- port with the same TLS parameters offers the first one's session, in
-- TLS 1.3 (tickets) and TLS 1.2 (session ids); different verification
-- settings never share a session; `resume = false` and https.SESSIONS = 0
-- turn it off.
--
-- The oracle is the server: `openssl s_server -www` answers every request
-- with a page describing the connection, whose cipher line starts with
-- "Reused, " or "New, ".
local https   = require "ssl.https"
local ltn12   = require "ltn12"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"

local C = certs.path

-- A server for `protocol` ("-tls1_3" | "-tls1_2"); every connection gets
-- the status page.
local function status_server(defer, protocol)
  return defer(openssl.s_server({ args = { "-www", protocol }, max_life = 60 }))
end

local function url(srv, host)
  return ("https://%s:%d/"):format(host or "localhost", srv.port)
end

-- One request; returns "Reused" or "New" as the server saw it.
local function request(srv, extra)
  local page = {}
  local reqt = { url = url(srv), sink = ltn12.sink.table(page), cafile = C "ca.pem" }
  for k, v in pairs(extra or {}) do reqt[k] = v end
  local ok, code = https.request(reqt)
  assert(ok == 1 and code == 200, "request failed: " .. tostring(code))
  local seen = table.concat(page):match("\n(%a+), TLSv1%.%d")
  return assert(seen, "no Reused/New line on the status page:\n" .. table.concat(page))
end

describe("ssl.https session resumption", function()
  after_each(helpers.stop_all)

  local saved
  before_each(function() saved = https.SESSIONS end)
  after_each(function() https.SESSIONS = saved end)

  for _, protocol in ipairs { "-tls1_3", "-tls1_2" } do
    it("the second request resumes the first one's session (" .. protocol .. ")", function()
      local defer = helpers.cleanup(finally)
      local srv = status_server(defer, protocol)
      local marker = { resume_marker = protocol }   -- parameters no other test uses
      assert.equal("New", request(srv, marker))
      assert.equal("Reused", request(srv, marker))
      assert.equal("Reused", request(srv, marker))
    end)
  end

  it("does not reuse a session under another cafile", function()
    local defer = helpers.cleanup(finally)
    local srv = status_server(defer, "-tls1_3")
    assert.equal("New", request(srv, { cafile = C "ca.pem", resume_marker = "cafile" }))
    assert.equal("Reused", request(srv, { cafile = C "ca.pem", resume_marker = "cafile" }))
    -- all-ca.pem trusts the same chain: a different setting all the same
    assert.equal("New", request(srv, { cafile = C "all-ca.pem", resume_marker = "cafile" }))
  end)

  it("does not reuse a session under another verifyhost", function()
    local defer = helpers.cleanup(finally)
    local srv = status_server(defer, "-tls1_3")
    assert.equal("New", request(srv, { resume_marker = "verifyhost" }))
    assert.equal("New", request(srv, { resume_marker = "verifyhost", verifyhost = "server.sslua.test" }))
    assert.equal("Reused", request(srv, { resume_marker = "verifyhost", verifyhost = "server.sslua.test" }))
  end)

  it("does not reuse a session for another port", function()
    local defer = helpers.cleanup(finally)
    local a, b = status_server(defer, "-tls1_3"), status_server(defer, "-tls1_3")
    assert.equal("New", request(a, { resume_marker = "port" }))
    assert.equal("New", request(b, { resume_marker = "port" }))
    assert.equal("Reused", request(a, { resume_marker = "port" }))
  end)

  it("resume = false turns it off for one request", function()
    local defer = helpers.cleanup(finally)
    local srv = status_server(defer, "-tls1_3")
    assert.equal("New", request(srv, { resume_marker = "off" }))
    assert.equal("New", request(srv, { resume_marker = "off", resume = false }))
    assert.equal("Reused", request(srv, { resume_marker = "off" }))
  end)

  it("https.SESSIONS = 0 turns it off", function()
    local defer = helpers.cleanup(finally)
    local srv = status_server(defer, "-tls1_3")
    https.SESSIONS = 0
    assert.equal("New", request(srv, { resume_marker = "zero" }))
    assert.equal("New", request(srv, { resume_marker = "zero" }))
  end)

  it("a verifycallback (a function) is never cached", function()
    local defer = helpers.cleanup(finally)
    local srv = status_server(defer, "-tls1_3")
    local function accept(ok) return ok end
    assert.equal("New", request(srv, { verifycallback = accept }))
    assert.equal("New", request(srv, { verifycallback = accept }))
  end)

  it("a parameter table keyed by something other than strings and numbers is never cached", function()
    -- two such tables cannot be told apart by their text, so no key is made
    local defer = helpers.cleanup(finally)
    local srv = status_server(defer, "-tls1_3")
    local odd = { [true] = "yes" }
    assert.equal("New", request(srv, { resume_marker = odd }))
    assert.equal("New", request(srv, { resume_marker = odd }))
  end)
end)
