-- ssl.https: LuaSec's request() and the tcp() hook that LuaSocket 3.1's
-- socket.http calls for https:// URLs, against real peers:
--
-- * `openssl s_server -WWW` serving files from a temporary directory (its
--   cwd), for plain GETs, verification and the SNI oracle below;
-- * a small HTTPS server written in Lua on OUR ssl module, run as a child
--   process (SERVER_SOURCE below), for POST bodies, redirects, requests that
--   are never answered, and the SNI/protocol each connection saw;
-- * a LuaSocket listener in this process that never answers (the kernel
--   completes the TCP handshake from its backlog), for handshake timeouts.
--
-- SNI is observed two ways: the Lua server logs conn:getsniname(), and
-- `openssl s_server -servername localhost -servername_fatal` aborts any
-- handshake whose SNI is not "localhost" but accepts one without SNI (a
-- control test shows the oracle does fire on SNI "127.0.0.1").
local https   = require "ssl.https"
local ssl     = require "ssl"
local oracle  = require "spec.helpers.x509oracle"
local http    = require "socket.http"
local ltn12   = require "ltn12"
local socket  = require "socket"
local helpers = require "spec.helpers.peer"
local process = require "spec.helpers.process"
local openssl = require "spec.helpers.openssl"
local certs   = require "spec.helpers.certs"
local ports   = require "spec.helpers.ports"
local luapeer = require "spec.helpers.luapeer"

certs.ensure()
local C = certs.path

-- The Lua HTTPS server. argv: certificate chain, key, number of connections,
-- hold seconds for /hang. Prints "PORT n", then per connection one line
-- "REQ <tab> method <tab> path <tab> sni <tab> protocol <tab> host header
-- <tab> hex(body)" (or "HANDSHAKE_FAIL <tab> err"), and "DONE" at the end.
local SERVER_SOURCE = [==[
local socket = require "socket"
local ssl = require "ssl"
local cert, key = arg[1], arg[2]
local maxconn, hold = tonumber(arg[3]) or 1, tonumber(arg[4]) or 5
local function log(...)
  io.stdout:write(table.concat({ ... }, "\t"), "\n")
  io.stdout:flush()
end
local ctx = assert(ssl.newcontext { mode = "server", protocol = "any",
                                    key = key, certificate = cert })
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
server:settimeout(20)
log("PORT", port)

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function read_body(conn, headers)
  local len = tonumber(headers["content-length"])
  if len then return conn:receive(len) end
  if (headers["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
    local parts = {}
    while true do
      local line = conn:receive("*l")
      local size = line and tonumber(line:match("^%x+"), 16)
      if not size then return nil end
      if size == 0 then
        repeat line = conn:receive("*l") until not line or line == ""
        return table.concat(parts)
      end
      parts[#parts + 1] = conn:receive(size)
      conn:receive("*l")
    end
  end
  return ""
end

local function respond(conn, code, reason, body, extra)
  local h = { "HTTP/1.1 " .. code .. " " .. reason,
              "Content-Length: " .. #body, "Content-Type: text/plain",
              "Connection: close" }
  for _, x in ipairs(extra or {}) do h[#h + 1] = x end
  conn:send(table.concat(h, "\r\n") .. "\r\n\r\n" .. body)
end

local function moved(conn, where)
  respond(conn, 302, "Found", "moved\n", { "Location: " .. where })
end

for _ = 1, maxconn do
  local c, err = server:accept()
  if not c then log("ACCEPT_FAIL", tostring(err)) break end
  c:settimeout(5)
  local conn = assert(ssl.wrap(c, ctx))
  local ok, herr = conn:dohandshake()
  if not ok then
    log("HANDSHAKE_FAIL", tostring(herr))
  else
    local sni = conn.getsniname and conn:getsniname() or nil
    local proto = conn:info("protocol") or "-"
    local line = conn:receive("*l") or ""
    local method, path = line:match("^(%S+) (%S+)")
    local headers = {}
    while true do
      local h = conn:receive("*l")
      if not h or h == "" then break end
      local name, value = h:match("^([^:]+):%s*(.*)$")
      if name then headers[name:lower()] = value end
    end
    local body = read_body(conn, headers) or ""
    log("REQ", method or "-", path or "-", sni or "-", proto,
        headers.host or "-", hex(body))
    local base = "https://127.0.0.1:" .. port
    if path == "/redirect" then
      moved(conn, base .. "/final")
    elseif path == "/redirect2" then
      moved(conn, base .. "/redirect")
    elseif path == "/redirect-name" then
      moved(conn, "https://localhost:" .. port .. "/sni")
    elseif path == "/final" then
      respond(conn, 200, "OK", "final page\n")
    elseif path == "/echo" then
      respond(conn, 200, "OK", method .. " " ..
              (headers["content-type"] or "-") .. " " .. body)
    elseif path == "/sni" then
      respond(conn, 200, "OK", sni or "(none)")
    elseif path == "/hang" then
      -- never answer: wait until the client gives up (or `hold` passes)
      conn:settimeout(hold)
      conn:receive("*a")
    else
      respond(conn, 404, "Not Found", "no such page\n")
    end
  end
  conn:close()
end
log("DONE")
]==]

-- Starts the Lua HTTPS server; returns its process handle with .port.
local function lua_server(opts)
  opts = opts or {}
  local dir = process.mktempdir("sslua-https")
  process.write_file(dir .. "/server.lua", SERVER_SOURCE)
  local h = process.spawn({ luapeer.interpreter(), dir .. "/server.lua",
                            C "server-rsa-chain.pem", C "server-rsa.key",
                            opts.conns or 1, opts.hold or 5 },
                          { dir = dir, name = "https lua server", max_life = 30, env = luapeer.env() })
  local ok, out = h:wait_output("PORT\t(%d+)", 10)
  if not ok then
    h:stop()
    error("https lua server did not start: " .. out, 2)
  end
  h.port = tonumber(out:match("PORT\t(%d+)"))
  return h
end

local function unhex(s)
  return (s:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- The REQ lines the Lua server logged so far, as tables.
local function requests(h)
  local list = {}
  for line in h:output():gmatch("[^\n]+") do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
    if f[1] == "REQ" then
      list[#list + 1] = { method = f[2], path = f[3], sni = f[4], protocol = f[5],
                          host = f[6], body = unhex(f[7] or "") }
    elseif f[1] == "HANDSHAKE_FAIL" then
      list[#list + 1] = { failed = f[2] }
    end
  end
  return list
end

-- Waits (bounded) until the Lua server logged n requests.
local function wait_requests(h, n)
  local deadline = socket.gettime() + 5
  while #requests(h) < n and socket.gettime() < deadline do socket.sleep(0.02) end
  return requests(h)
end

-- `openssl s_server -WWW` in a fresh temporary directory holding `files`
-- (name -> contents). The directory goes away with the handle.
local function www_server(files, opts)
  opts = opts or {}
  local dir = process.mktempdir("sslua-www")
  for name, data in pairs(files) do process.write_file(dir .. "/" .. name, data) end
  local ok, srv = pcall(openssl.s_server, {
    host = opts.host, cwd = dir, args = opts.args or { "-WWW" }, max_life = 30,
    leaf = opts.leaf,
  })
  if not ok then process.rmtree(dir) error(srv, 2) end
  local stop = srv.stop
  srv.stop = function(self, ...)
    local r = stop(self, ...)
    process.rmtree(dir)
    return r
  end
  return srv
end

local INDEX = "hello from s_server -WWW\n"
local BIG = string.rep("0123456789abcdef", 4096)   -- 64 KiB, no Content-Length

local function url(srv, path, host)
  return ("https://%s:%d%s"):format(host or "127.0.0.1", srv.port, path)
end

-- Requests are verified by default now (system store, URL host), so the
-- test PKI is passed explicitly: a table-form GET trusting ca.pem,
-- returning body, code (like the string form).
local function fetch(u, extra)
  local t = {}
  local reqt = { url = u, sink = ltn12.sink.table(t), cafile = C "ca.pem" }
  for k, v in pairs(extra or {}) do reqt[k] = v end
  local r, code, headers, status = https.request(reqt)
  if not r then return nil, code end
  return table.concat(t), code, headers, status
end

-- The string form takes no TLS parameters: it runs in a child process
-- whose system store is the test PKI (OpenSSL's SSL_CERT_FILE). Returns
-- body, code, status (or nil, err).
local CHILD_SOURCE = [==[
local https = require "ssl.https"
local function hex(s)
  return (tostring(s):gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local request = arg[3] == "http" and require("socket.http").request or https.request
local body, code, _, status = request(arg[1], arg[2] ~= "" and arg[2] or nil)
print("RESULT\t" .. hex(body) .. "\t" .. tostring(code) .. "\t" .. hex(status))
]==]

local function string_request(defer, u, body, via)
  local dir = process.mktempdir("sslua-https-child")
  defer(function() process.rmtree(dir) end)
  process.write_file(dir .. "/child.lua", CHILD_SOURCE)
  local h = defer(process.spawn({ luapeer.interpreter(), dir .. "/child.lua", u, body or "", via or "https" },
    { dir = dir, name = "https child", max_life = 30,
      env = luapeer.env { SSL_CERT_FILE = C "ca.pem" } }))
  local _, out = h:wait_output("RESULT[^\n]*\n", 15)
  local b, code, status = out:match("RESULT\t(%x*)\t([^\t]*)\t(%x*)")
  assert(b, "child failed: " .. out)
  local function unhex_(s) return (s:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
  if tonumber(code) == nil then return nil, code end   -- nil, err
  return unhex_(b), tonumber(code), unhex_(status)
end

-- Seconds `fn` takes, and its results packed.
local function pack(...) return { n = select("#", ...), ... } end

local function timed(fn)
  local t0 = socket.gettime()
  local r = pack(fn())
  return socket.gettime() - t0, r
end

describe("ssl.https", function()
  after_each(helpers.stop_all)

  describe("module", function()
    it("has LuaSec's fields", function()
      assert.equal(443, https.PORT)
      assert.equal(60, https.TIMEOUT)
      assert.is_string(https._VERSION)
      assert.is_string(https._COPYRIGHT)
      assert.is_nil(https._COPYRIGHT:find("LuaSec", 1, true))
      assert.is_function(https.request)
      assert.is_function(https.tcp)
    end)

    it("tcp() fills the secure defaults into the params and forces client mode", function()
      local params = { mode = "server" }
      assert.is_function(https.tcp(params))
      assert.equal("client", params.mode)
      assert.same({ min = "tlsv1_2" }, params.protocol)
      assert.equal("peer", params.verify)
      assert.equal("system", params.cafile)
      assert.same({ "all", "no_sslv2", "no_sslv3", "no_tlsv1", "ignore_unexpected_eof" }, params.options)
      local mine = { verify = "none", protocol = "tlsv1_3", options = "all" }
      https.tcp(mine)
      -- verify = "none" consults no trust store, so the system one is not read
      assert.same({ mode = "client", verify = "none", protocol = "tlsv1_3", options = "all" }, mine)
      -- the caller's own trust replaces the system store
      local own = { capath = "/etc/ssl/certs" }
      https.tcp(own)
      assert.is_nil(own.cafile)
      -- each call gets its own options table
      local a, b = {}, {}
      https.tcp(a); https.tcp(b)
      assert.are_not.equal(a.options, b.options)
    end)
  end)

  describe("rejects, with LuaSec's messages", function()
    it("a proxy in the request", function()
      assert.same({ nil, "proxy not supported" },
        { https.request { url = "https://127.0.0.1:1/", proxy = "http://127.0.0.1:3128" } })
    end)

    it("socket.http.PROXY", function()
      finally(function() http.PROXY = nil end)
      http.PROXY = "http://127.0.0.1:3128"
      assert.same({ nil, "proxy not supported" }, { https.request("https://127.0.0.1:1/") })
      assert.same({ nil, "proxy not supported" }, { https.request { url = "https://127.0.0.1:1/" } })
    end)

    it("a truthy redirect", function()
      assert.same({ nil, "redirect not supported" },
        { https.request { url = "https://127.0.0.1:1/", redirect = true } })
    end)

    it("a create function", function()
      assert.same({ nil, "create function not permitted" },
        { https.request { url = "https://127.0.0.1:1/", create = socket.tcp } })
    end)
  end)

  describe("against openssl s_server -WWW", function()
    -- s_server's chain (server-rsa, int-ca) where the test root is not trusted
    local UNTRUSTED = oracle.handshake_message { leaf = C "server-rsa.pem",
                                                 untrusted = C "int-ca.pem", cafile = false }

    it("string form verifies against the system store by default", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      assert.same({ nil, UNTRUSTED }, { https.request(url(srv, "/index.txt")) })
    end)

    it("string form GET returns body, code, status (system store = test PKI)", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      local body, code, status = string_request(defer, url(srv, "/index.txt"))
      assert.equal(INDEX, body)
      assert.equal(200, code)
      assert.matches("^HTTP/1%.%d 200", status)
      body = string_request(defer, url(srv, "/index.txt", "localhost"))
      assert.equal(INDEX, body)
    end)

    it("checks the URL's host against the certificate", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server({ ["index.txt"] = INDEX }, { leaf = "wronghost" }))
      assert.same({ nil, 'certificate verify failed (hostname mismatch: "localhost")' },
                  { fetch(url(srv, "/index.txt", "localhost")) })
      assert.same({ nil, 'certificate verify failed (IP address mismatch: "127.0.0.1")' },
                  { fetch(url(srv, "/index.txt")) })
      assert.same({ nil, 'certificate verify failed (hostname mismatch: "localhost")' },
                  { http.request { url = url(srv, "/index.txt", "localhost"), cafile = C "ca.pem" } })
      -- explicit opt-outs, and naming the host the certificate is for
      assert.equal(INDEX, (fetch(url(srv, "/index.txt", "localhost"), { verify = "none" })))
      assert.equal(INDEX, (fetch(url(srv, "/index.txt", "localhost"), { verifyhost = false })))
      assert.equal(INDEX, (fetch(url(srv, "/index.txt"), { verifyhost = "wrong.sslua.test" })))
    end)

    it("accepts the right host name and IP address", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      assert.equal(INDEX, (fetch(url(srv, "/index.txt", "localhost"))))
      assert.equal(INDEX, (fetch(url(srv, "/index.txt"))))
    end)

    it("refuses servers older than TLS 1.2 unless asked", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server({ ["index.txt"] = INDEX }, { args = { "-WWW", "-tls1_1" } }))
      local r, err = fetch(url(srv, "/index.txt"))
      assert.is_nil(r)
      assert.is_string(err)
    end)

    it("table form pumps into the sink, returns 1, and leaves the table alone", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["big.txt"] = BIG })
      local t = {}
      local reqt = { url = url(srv, "/big.txt"), sink = ltn12.sink.table(t), cafile = C "ca.pem" }
      local r, code, headers, status = https.request(reqt)
      assert.equal(1, r)
      assert.equal(200, code)
      assert.is_table(headers)
      assert.matches("^HTTP/1%.%d 200", status)
      assert.equal(#BIG, #table.concat(t))
      assert.equal(BIG, table.concat(t))
      -- nothing was written into the caller's table: it can be used again
      assert.is_nil(reqt.create)
      assert.is_nil(reqt.mode)
      for i = #t, 1, -1 do t[i] = nil end
      assert.equal(1, (https.request(reqt)))
      assert.equal(BIG, table.concat(t))
    end)

    it("verify = 'peer' with the CA succeeds", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      local t = {}
      local r, code = https.request { url = url(srv, "/index.txt"), sink = ltn12.sink.table(t),
                                      verify = "peer", cafile = C "ca.pem" }
      assert.equal(1, r)
      assert.equal(200, code)
      assert.equal(INDEX, table.concat(t))
    end)

    it("verify = 'peer' without a CA fails with 'certificate verify failed'", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      assert.same({ nil, UNTRUSTED },
        { https.request { url = url(srv, "/index.txt"), verify = "peer" } })
    end)

    it("a bad TLS parameter comes back as nil, message", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      local r, err = https.request { url = url(srv, "/index.txt"), verify = "peer",
                                     cafile = "/nonexistent/ca.pem" }
      assert.is_nil(r)
      assert.matches("error loading CA locations", err, 1, true)
    end)

    it("socket.http.request('https://...') goes through ssl.https.tcp", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      -- the string form gets the secure defaults
      assert.same({ nil, UNTRUSTED }, { http.request(url(srv, "/index.txt")) })
      -- TLS keys in socket.http's table reach the context through tcp()
      assert.same({ nil, UNTRUSTED },
        { http.request { url = url(srv, "/index.txt"), verify = "peer" } })
      local t = {}
      assert.equal(1, (http.request { url = url(srv, "/index.txt"), verify = "peer",
                                      cafile = C "ca.pem", sink = ltn12.sink.table(t) }))
      assert.equal(INDEX, table.concat(t))
    end)

    it("tcp() objects act as LuaSocket TCP objects over TLS", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(www_server { ["index.txt"] = INDEX })
      local create = https.tcp { verify = "peer", cafile = C "ca.pem" }
      local c = assert(create())
      defer(c)
      assert.matches("^https{master}: ", tostring(c))
      assert.equal(1, c:settimeout(5))
      assert.equal(1, c:connect("127.0.0.1", srv.port))
      assert.matches("^https{client}: ", tostring(c))
      assert.is_true(c:getfd() >= 0)
      assert.equal(5, (c:gettimeout()))
      assert.equal(25, c:send("GET /index.txt HTTP/1.0\r\n"))
      assert.equal(2, c:send("\r\n"))
      assert.matches("^HTTP/1%.%d 200", c:receive("*l"))
      assert.is_boolean(c:dirty())
      assert.is_string(c:info("protocol"))
      assert.is_true(c:getpeerverification())
      local cn
      for _, e in ipairs(c:getpeercertificate():subject()) do
        if e.name == "commonName" then cn = e.value end
      end
      assert.equal("localhost", cn)
      local rest = c:receive("*a")
      assert.equal(INDEX, rest:match("\r?\n\r?\n(.*)$"))
      assert.equal(1, c:close())
      assert.equal(-1, c:getfd())
      assert.same({ nil, "closed" }, { c:connect("127.0.0.1", srv.port) })
      assert.equal("closed", select(2, c:receive()))
    end)

    it("tcp() objects report connect errors", function()
      local create = https.tcp {}
      local c = assert(create())
      assert.same({ nil, "connection refused" }, { c:connect("127.0.0.1", ports.free()) })
      assert.equal(1, c:close())
      local bad = assert(https.tcp { cafile = "/nonexistent/ca.pem" }())
      local r, err = bad:connect("127.0.0.1", ports.free())
      assert.is_nil(r)
      assert.matches("error loading CA locations", err, 1, true)
    end)
  end)

  describe("against a Lua HTTPS server", function()
    it("string form POST sends a form-urlencoded body", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server())
      local body, code = string_request(defer, url(srv, "/echo"), "a=1&b=two")
      assert.equal(200, code)
      assert.equal("POST application/x-www-form-urlencoded a=1&b=two", body)
      local seen = wait_requests(srv, 1)[1]
      assert.equal("POST", seen.method)
      assert.equal("a=1&b=two", seen.body)
      assert.equal("127.0.0.1:" .. srv.port, seen.host)
    end)

    it("table form with a source and method", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server())
      local t = {}
      local r, code = https.request { url = url(srv, "/echo"), method = "PUT", cafile = C "ca.pem",
                                      source = ltn12.source.string("chunked data"),
                                      sink = ltn12.sink.table(t) }
      assert.equal(1, r)
      assert.equal(200, code)
      assert.equal("PUT - chunked data", table.concat(t))
    end)

    it("socket.http.request follows a 302 to another https URL", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server { conns = 2 })
      -- socket.http's later hops carry no TLS keys: they get the defaults,
      -- so this runs where the system store is the test PKI
      local body, code = string_request(defer, url(srv, "/redirect"), nil, "http")
      assert.equal(200, code)
      assert.equal("final page\n", body)
      local seen = wait_requests(srv, 2)
      assert.equal("/redirect", seen[1].path)
      assert.equal("/final", seen[2].path)
    end)

    it("https.request follows redirects keeping the caller's TLS parameters", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server { conns = 3 })
      local t = {}
      local r, code = https.request { url = url(srv, "/redirect2"), sink = ltn12.sink.table(t),
                                      protocol = "tlsv1_2", verify = "peer", cafile = C "ca.pem" }
      assert.equal(1, r)
      assert.equal(200, code)
      assert.equal("final page\n", table.concat(t))
      local seen = wait_requests(srv, 3)
      assert.same({ "/redirect2", "/redirect", "/final" },
                  { seen[1].path, seen[2].path, seen[3].path })
      for i = 1, 3 do assert.equal("TLSv1.2", seen[i].protocol) end
    end)

    it("redirect = false returns the 302 itself", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server())
      local r, code, headers = https.request { url = url(srv, "/redirect"), redirect = false,
                                               cafile = C "ca.pem" }
      assert.equal(1, r)
      assert.equal(302, code)
      assert.equal(url(srv, "/final"), headers.location)
    end)

    it("sends SNI for host names, none for IP literals", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server { conns = 5 })
      assert.equal("(none)", (fetch(url(srv, "/sni"))))
      assert.equal("localhost", (fetch(url(srv, "/sni", "localhost"))))
      assert.equal("(none)", (fetch(url(srv, "/sni"), { verify = "none" })))
      -- redirect from an IP literal to a host name: SNI (and the name
      -- checked) follow the hop
      assert.equal("localhost", (fetch(url(srv, "/redirect-name"))))
    end)

    it("a request that is never answered fails after https.TIMEOUT", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(lua_server { hold = 5 })
      defer(function() https.TIMEOUT, http.TIMEOUT = 60, 60 end)
      https.TIMEOUT, http.TIMEOUT = 0.5, 3
      local elapsed, r = timed(function() return fetch(url(srv, "/hang")) end)
      assert.same({ n = 2, nil, "timeout" }, r)
      assert.is_true(elapsed >= 0.4 and elapsed < 2, "took " .. elapsed .. " s")
    end)
  end)

  describe("SNI oracle: s_server -servername localhost -servername_fatal", function()
    local function sni_server(host)
      return www_server({ ["index.txt"] = INDEX }, {
        host = host,
        args = { "-WWW", "-servername", "localhost", "-servername_fatal",
                 "-cert2", C "server-rsa.pem", "-key2", C "server-rsa.key" },
      })
    end

    local function handshake_with_sni(port, name)
      local tcp = socket.tcp()
      tcp:settimeout(5)
      assert(tcp:connect("127.0.0.1", port))
      local conn = assert(ssl.wrap(tcp, { mode = "client", protocol = "any" }))
      if name then conn:sni(name) end
      local ok, err = conn:dohandshake()
      conn:close()
      return ok, err
    end

    it("fires on a wrong SNI (control)", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(sni_server())
      assert.same({ false, "tlsv1 unrecognized name" },
                  { handshake_with_sni(srv.port, "127.0.0.1") })
      assert.is_true((handshake_with_sni(srv.port, "localhost")))
      assert.is_true((handshake_with_sni(srv.port, nil)))
    end)

    it("sees no SNI from https.request or socket.http for 127.0.0.1", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(sni_server())
      assert.equal(INDEX, (fetch(url(srv, "/index.txt"))))
      local t = {}
      assert.equal(1, (http.request { url = url(srv, "/index.txt"), cafile = C "ca.pem",
                                      sink = ltn12.sink.table(t) }))
      assert.equal(INDEX, table.concat(t))
      -- with SNI "localhost" s_server answers with -cert2, a leaf without
      -- its chain: the intermediate must be trusted directly
      assert.equal(INDEX, (fetch(url(srv, "/index.txt", "localhost"), { cafile = C "all-ca.pem" })))
    end)

    it("sees no SNI for an IPv6 literal", function()
      local probe = socket.bind("::1", 0)
      if not probe then pending("no IPv6 loopback") return end
      probe:close()
      local defer = helpers.cleanup(finally)
      local srv = defer(sni_server("::1"))
      assert.equal(INDEX, (fetch(url(srv, "/index.txt", "[::1]"))))
      local t = {}
      assert.equal(1, (http.request { url = url(srv, "/index.txt", "[::1]"), cafile = C "ca.pem",
                                      sink = ltn12.sink.table(t) }))
      assert.equal(INDEX, table.concat(t))
    end)
  end)

  describe("timeouts during the handshake (a peer that never answers)", function()
    -- A listener that never accepts: the kernel completes the TCP handshake
    -- from the backlog, so connect succeeds and the TLS handshake stalls.
    local function silent_listener(defer)
      local l = assert(socket.bind("127.0.0.1", 0))
      defer(l)
      local _, port = l:getsockname()
      return tonumber(port)
    end

    -- Each test sets the other knob to 3 s as a backstop: an implementation
    -- that ignores the one under test fails in 3 s instead of hanging 60 s.
    local function set_timeouts(defer, https_t, http_t)
      defer(function() https.TIMEOUT, http.TIMEOUT = 60, 60 end)
      https.TIMEOUT, http.TIMEOUT = https_t, http_t
    end

    it("https.request uses https.TIMEOUT", function()
      local defer = helpers.cleanup(finally)
      local port = silent_listener(defer)
      set_timeouts(defer, 0.5, 3)
      local elapsed, r = timed(function()
        return https.request("https://127.0.0.1:" .. port .. "/")
      end)
      assert.same({ n = 2, nil, "timeout" }, r)
      assert.is_true(elapsed >= 0.4 and elapsed < 2, "took " .. elapsed .. " s")
    end)

    it("https.request also honours a shorter socket.http.TIMEOUT", function()
      local defer = helpers.cleanup(finally)
      local port = silent_listener(defer)
      set_timeouts(defer, 3, 0.5)
      local elapsed, r = timed(function()
        return https.request("https://127.0.0.1:" .. port .. "/")
      end)
      assert.same({ n = 2, nil, "timeout" }, r)
      assert.is_true(elapsed >= 0.4 and elapsed < 2, "took " .. elapsed .. " s")
    end)

    it("socket.http.request honours the caller's timeout (LuaSec ignored it)", function()
      local defer = helpers.cleanup(finally)
      local port = silent_listener(defer)
      set_timeouts(defer, 3, 0.5)
      local elapsed, r = timed(function()
        return http.request("https://127.0.0.1:" .. port .. "/")
      end)
      assert.same({ n = 2, nil, "timeout" }, r)
      assert.is_true(elapsed >= 0.4 and elapsed < 2, "took " .. elapsed .. " s")
    end)

    it("a tcp() object applies settimeout made before connect", function()
      local defer = helpers.cleanup(finally)
      local port = silent_listener(defer)
      set_timeouts(defer, 3, 3)
      local c = assert(https.tcp {}())
      defer(c)
      c:settimeout(0.5)
      local elapsed, r = timed(function() return c:connect("127.0.0.1", port) end)
      assert.same({ n = 2, nil, "timeout" }, r)
      assert.is_true(elapsed >= 0.4 and elapsed < 2, "took " .. elapsed .. " s")
    end)
  end)
end)
