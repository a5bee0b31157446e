-- OCSP stapling: server `ocsp = der | function`, client
-- `ocsp = "request" | "require"`, conn:getocsp(); in our pair and against
-- openssl s_server -status_file / s_client -status. The responses come
-- from certs/gen.sh (ocsp-server-rsa.der: good, ocsp-revoked.der: revoked).
--
-- Which responses a server staples at all is OpenSSL's decision: 3.6
-- sends only one that parses and, when successful, holds a single
-- response for the server's certificate (another certificate's response,
-- or junk, goes unsent); 3.0 sends whatever it is given. So `staples`
-- asks: s_client -status of the same OpenSSL against our server.
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local pair    = require "spec.helpers.pair"

local C = certs.path

local function server(leaf, overrides)
  return certs.server_params(certs.merge({ key = C(leaf .. ".key"),
                                           certificate = C(leaf .. "-chain.pem") }, overrides))
end
local function client(overrides) return certs.client_params(overrides) end

local GOOD, REVOKED

-- s_client -status's verdict on a server: whether something was stapled,
-- by what it prints (up to 3.5: "OCSP response: no response sent" or
-- "response parse error"; 3.6: "OCSP responses: no responses sent" or
-- "number of responses: N" for TLS 1.3, "OCSP response: no OCSP response
-- received" or "OCSP response parse error" for TLS 1.2).
local VERDICTS = {
  { "OCSP Response Data:", true }, { "response parse error", true },
  { "no response sent", false }, { "no responses sent", false },
  { "no OCSP response received", false }, { "number of responses: 0", false },
}
local function stapled(out)
  for _, v in ipairs(VERDICTS) do
    if out:find(v[1], 1, true) then return v[2] end
  end
  error("s_client -status said nothing about a staple:\n" .. out)
end

-- staples(proto, leaf, response) -> whether our server, presenting `leaf`
-- and handing OpenSSL `response`, really staples it: asked of s_client
-- -status, once per case.
local staple_seen = {}
local function staples(proto, leaf, response)
  local key = table.concat({ proto, leaf, response }, "\0")
  if staple_seen[key] ~= nil then return staple_seen[key] end
  local listener = assert(socket.bind("127.0.0.1", 0))
  local _, port = listener:getsockname()
  local cli = openssl.s_client { port = tonumber(port), stdin = "",
                                 args = { "-status", proto == "tlsv1_2" and "-tls1_2" or "-tls1_3" } }
  listener:settimeout(10)
  local tcp = listener:accept()
  listener:close()
  if tcp then
    -- (s_client up to 3.5 aborts the handshake on a staple it cannot parse)
    local conn = assert(ssl.wrap(tcp, server(leaf, { protocol = proto, ocsp = response })))
    conn:settimeout(10)
    conn:dohandshake()
    conn:close()
  end
  local done = cli:wait(10)
  local out = cli:output()
  cli:stop()
  assert(tcp and done, "the stapling probe did not run:\n" .. out)
  staple_seen[key] = stapled(out)
  return staple_seen[key]
end

describe("OCSP stapling", function()
  setup(function()
    GOOD, REVOKED = certs.read("ocsp-server-rsa.der"), certs.read("ocsp-revoked.der")
  end)
  after_each(helpers.stop_all)

  for _, proto in ipairs { "tlsv1_2", "tlsv1_3" } do
    it(proto .. ": require accepts a good staple; getocsp returns it", function()
      local s, c, sres, cres = pair.connect(server("server-rsa", { protocol = proto, ocsp = GOOD }),
                                            client { protocol = proto, ocsp = "require" })
      finally(function() s:close(); c:close() end)
      assert.is_true(sres.ok and cres.ok, cres.err)
      assert.equal(GOOD, c:getocsp())
      assert.is_nil(s:getocsp())
      assert.is_true(c:getpeerverification())
    end)

    local failures = {
      { "revoked", "revoked", function() return REVOKED end, "certificate revoked" },
      { "no staple", "server-rsa", function() return nil end, "no response stapled" },
      { "another certificate's response", "server-rsa", function() return REVOKED end,
        "no status for certificate" },
      { "junk", "server-rsa", function() return "junk" end, "malformed response" },
    }
    for _, case in ipairs(failures) do
      it(proto .. ": require fails on " .. case[1], function()
        local response = case[3]()
        -- a response the server does not staple is no staple for the client
        local why = (response == nil or not staples(proto, case[2], response)) and "no response stapled"
          or case[4]
        local s, c, _, cres = pair.connect(server(case[2], { protocol = proto, ocsp = response }),
                                           client { protocol = proto, ocsp = "require" })
        finally(function() s:close(); c:close() end)
        assert.same({ ok = false, err = "certificate verify failed (OCSP: " .. why .. ")" }, cres)
        assert.same({ false, "certificate verify failed (OCSP: " .. why .. ")" }, { c:dohandshake() })
        assert.same({ level = "fatal", description = "bad certificate status response", code = 113 },
                    c:getalert().sent)
      end)
    end

    it(proto .. ": a response signed by an untrusted responder fails require", function()
      -- The staple verifies only against our trust store: trusting rogue-ca
      -- alone (verify = "none" keeps the handshake going) breaks it.
      local s, c, _, cres = pair.connect(server("server-rsa", { protocol = proto, ocsp = GOOD }),
        client { protocol = proto, ocsp = "require", verify = "none", cafile = C "rogue-ca.pem" })
      finally(function() s:close(); c:close() end)
      assert.same({ ok = false, err = "certificate verify failed (OCSP: response verify failed)" }, cres)
    end)

    it(proto .. ": request takes any staple, or none", function()
      for _, v in ipairs { GOOD, REVOKED, "junk", false } do
        local sent = v and staples(proto, "server-rsa", v) and v or nil
        local s, c, sres, cres = pair.connect(
          server("server-rsa", { protocol = proto, ocsp = function() return v end }),
          client { protocol = proto, ocsp = "request" })
        assert.is_true(sres.ok and cres.ok)
        assert.equal(sent, c:getocsp())
        s:close(); c:close()
      end
    end)

    -- The stapling decision is OpenSSL's, not the module's: openssl
    -- s_server -status_file makes the same one for each response.
    it(proto .. ": our server staples the responses s_server -status_file staples", function()
      local defer = helpers.cleanup(finally)
      for _, v in ipairs { GOOD, REVOKED } do
        local file = os.tmpname()
        defer(function() os.remove(file) end)
        local f = assert(io.open(file, "wb")); f:write(v); f:close()
        local srv = defer(openssl.s_server { naccept = 1, leaf = "server-rsa", args = { "-status_file", file } })
        local cli = defer(openssl.s_client { port = srv.port, stdin = "",
                                             args = { "-status", proto == "tlsv1_2" and "-tls1_2" or "-tls1_3" } })
        assert(cli:wait(10), cli:output())
        assert.equal(stapled(cli:output()), staples(proto, "server-rsa", v))
      end
    end)
  end

  it("a server function that errors or returns junk staples nothing", function()
    for _, fn in ipairs { function() error("boom") end, function() return {} end,
                          function() return "" end } do
      local s, c, sres, cres = pair.connect(server("server-rsa", { ocsp = fn }),
                                            client { ocsp = "request" })
      assert.is_true(sres.ok and cres.ok)
      assert.is_nil(c:getocsp())
      s:close(); c:close()
    end
  end)

  it("a client that does not ask gets no staple", function()
    local called = false
    local s, c, sres, cres = pair.connect(
      server("server-rsa", { ocsp = function() called = true; return GOOD end }), client())
    finally(function() s:close(); c:close() end)
    assert.is_true(sres.ok and cres.ok)
    assert.is_false(called)
    assert.is_nil(c:getocsp())
  end)

  it("bad values are refused at newcontext", function()
    assert.same({ nil, "invalid ocsp parameter (yes)" }, { ssl.newcontext(client { ocsp = "yes" }) })
    assert.same({ nil, "invalid ocsp parameter (true)" }, { ssl.newcontext(client { ocsp = true }) })
    assert.same({ nil, "invalid ocsp parameter (DER string or function expected, got number)" },
                { ssl.newcontext(server("server-rsa", { ocsp = 1 })) })
    assert.same({ nil, "invalid ocsp parameter (DER string or function expected, got empty string)" },
                { ssl.newcontext(server("server-rsa", { ocsp = "" })) })
  end)

  describe("against openssl", function()
    local function to_s_server(defer, leaf, resp, params)
      local dir = os.tmpname()
      defer(function() os.remove(dir) end)
      local f = assert(io.open(dir, "wb")); f:write(resp); f:close()
      local srv = defer(openssl.s_server { naccept = 1, leaf = leaf, args = { "-status_file", dir } })
      local tcp = socket.tcp()
      tcp:settimeout(10)
      assert(tcp:connect("127.0.0.1", srv.port))
      local conn = defer(assert(ssl.wrap(tcp, params)))
      conn:settimeout(10)
      return conn, conn:dohandshake()
    end

    it("our client requires a good staple from s_server -status_file", function()
      local defer = helpers.cleanup(finally)
      local conn, ok, err = to_s_server(defer, "server-rsa", GOOD, client { ocsp = "require" })
      assert.is_true(ok, err)
      assert.equal(GOOD, conn:getocsp())
    end)

    it("our client refuses s_server's revoked staple", function()
      local defer = helpers.cleanup(finally)
      local _, ok, err = to_s_server(defer, "revoked", REVOKED, client { ocsp = "require" })
      assert.is_false(ok)
      assert.equal("certificate verify failed (OCSP: certificate revoked)", err)
    end)

    it("s_client -status reads our server's staple", function()
      local defer = helpers.cleanup(finally)
      local listener = defer(assert(socket.bind("127.0.0.1", 0)))
      local _, port = listener:getsockname()
      listener:settimeout(10)
      local cl = defer(openssl.s_client { port = tonumber(port), stdin = "", args = { "-status" } })
      local conn = defer(assert(ssl.wrap(assert(listener:accept()), server("server-rsa", { ocsp = GOOD }))))
      conn:settimeout(10)
      assert.is_true(conn:dohandshake())
      assert.is_true(cl:wait(10))
      local out = cl:output()
      assert.matches("OCSP Response Status: successful", out, 1, true)
      assert.matches("Cert Status: good", out, 1, true)
    end)
  end)
end)
