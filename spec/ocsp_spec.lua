-- OCSP stapling (issue 7): server `ocsp = der | function`, client
-- `ocsp = "request" | "require"`, conn:getocsp(); in our pair and against
-- openssl s_server -status_file / s_client -status. The responses come
-- from certs/gen.sh (ocsp-server-rsa.der: good, ocsp-revoked.der: revoked).
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
        local s, c, _, cres = pair.connect(server(case[2], { protocol = proto, ocsp = case[3]() }),
                                           client { protocol = proto, ocsp = "require" })
        finally(function() s:close(); c:close() end)
        assert.same({ ok = false, err = "certificate verify failed (OCSP: " .. case[4] .. ")" }, cres)
        assert.same({ false, "certificate verify failed (OCSP: " .. case[4] .. ")" }, { c:dohandshake() })
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
      for _, v in ipairs { GOOD, REVOKED, false } do
        local s, c, sres, cres = pair.connect(
          server("server-rsa", { protocol = proto, ocsp = function() return v end }),
          client { protocol = proto, ocsp = "request" })
        assert.is_true(sres.ok and cres.ok)
        assert.equal(v or nil, c:getocsp())
        s:close(); c:close()
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
