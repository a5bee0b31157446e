-- spec/helpers_spec.lua - proves the spec helpers (spec/helpers/*.lua) work:
-- processes start, talk, report exit codes and always stop; ports, certs,
-- openssl s_server/s_client and Lua peers in child processes.
--
-- Runs against whatever `require "ssl"` finds (sslua once built, otherwise an
-- installed upstream LuaSec). Test PKI: $SSLUA_CERTS (default build/certs),
-- made by certs/gen.sh through certs.ensure() when missing.

local socket = require "socket"
local helpers = require "spec.helpers.peer"
local process = require "spec.helpers.process"
local ports = require "spec.helpers.ports"
local certs = require "spec.helpers.certs"
local openssl = require "spec.helpers.openssl"
local alerts = require "spec.helpers.alerts"
local luapeer = require "spec.helpers.luapeer"
local ser = require "spec.helpers.serialize"

local LOOP = "127.0.0.1"

local function dir_exists(path)
  return (process.execute("test -d " .. process.quote(path)))
end

local function ipv6_loopback()
  if not socket.tcp6 then return false end
  local s = socket.tcp6()
  local ok = s:bind("::1", 0)
  s:close()
  return ok and true or false
end

describe("spec helpers", function()
  setup(function()
    certs.ensure()
  end)

  -- Each test stops its own processes (finally); this only proves it did.
  after_each(function()
    local left = process.stop_all()
    assert.equal(0, left, "a test left processes running")
  end)

  -- After everything: no pid this file started is alive, no temp dir is left.
  teardown(function()
    process.stop_all()
    for _, h in ipairs(process.history()) do
      assert.is_false(process.pid_alive(h.pid), "pid " .. h.pid .. " (" .. h.name .. ") still alive")
      if h.holder then assert.is_false(process.pid_alive(h.holder)) end
      assert.is_false(dir_exists(h.dir), "temp dir left: " .. h.dir)
    end
  end)

  describe("process", function()
    it("captures stdout+stderr and the exit code", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sh", "-c", "echo out; echo err >&2; exit 3" }))
      assert.is_number(p.pid)
      assert.is_true(p.pid > 1)
      local ok, code = p:wait(5)
      assert.is_true(ok)
      assert.equal(3, code)
      assert.equal("out\nerr\n", p:output())
      assert.is_false(p:alive())
    end)

    it("passes every argument verbatim (no shell expansion)", function()
      local defer = helpers.cleanup(finally)
      local args = { "a b", "it's", '"q"', "$HOME", "`id`", "x\ny", "*", "" }
      local argv = { "printf", "[%s]" }
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      local p = defer(process.spawn(argv))
      assert.same({ true, 0 }, { p:wait(5) })
      assert.equal("[a b][it's][\"q\"][$HOME][`id`][x\ny][*][]", p:output())
    end)

    it("reports the real pid of the program", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sleep", "30" }))
      local f = assert(io.open("/proc/" .. p.pid .. "/cmdline", "rb"))
      local cmdline = f:read("*a")
      f:close()
      assert.equal("sleep\0" .. "30\0", cmdline)
    end)

    it("reports 127 for a program that does not exist", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sslua-no-such-program-here" }))
      local ok, code = p:wait(5)
      assert.is_true(ok)
      assert.equal(127, code)
    end)

    it("wait times out on a process that does not exit, stop ends it", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sleep", "30" }))
      local t0 = socket.gettime()
      local ok, err = p:wait(0.5)
      local elapsed = socket.gettime() - t0
      assert.is_false(ok)
      assert.equal("timeout", err)
      assert.is_true(elapsed >= 0.45 and elapsed < 2, "waited " .. elapsed .. " s")
      assert.is_true(p:alive())
      assert.equal(143, p:stop())                 -- 128 + SIGTERM
      assert.is_false(p:alive())
      assert.is_false(process.pid_alive(p.pid))
      assert.is_false(process.execute("kill -0 " .. p.pid .. " 2>/dev/null"))
    end)

    it("stop is idempotent and removes the temp files", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sleep", "30" }))
      assert.is_true(dir_exists(p.dir))
      local c1 = p:stop()
      local c2 = p:stop()
      assert.equal(143, c1)
      assert.equal(c1, c2)
      assert.is_false(p:alive())
      assert.is_false(dir_exists(p.dir))
      assert.same({ true, 143 }, { p:wait(1) })
    end)

    it("stop escalates to SIGKILL when SIGTERM is ignored, within the grace", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sh", "-c", "trap '' TERM; echo armed; while :; do sleep 0.1; done" }))
      assert.is_true((p:wait_output("armed", 5, true)))
      local t0 = socket.gettime()
      assert.equal(137, p:stop(0.5))              -- 128 + SIGKILL
      assert.is_true(socket.gettime() - t0 < 3)
      assert.is_false(process.pid_alive(p.pid))
    end)

    it("stop also ends the children the program started", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sh", "-c", "sleep 30 & echo child=$!; wait" }))
      local ok, out = p:wait_output("child=%d+\n", 5)
      assert.is_true(ok)
      local child = tonumber(out:match("child=(%d+)"))
      assert.is_true(process.pid_alive(child))
      p:stop()
      local deadline = socket.gettime() + 2
      while process.pid_alive(child) and socket.gettime() < deadline do socket.sleep(0.02) end
      assert.is_false(process.pid_alive(child))
    end)

    it("feeds a string as stdin", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "cat" }, { stdin = "abc\n123\0end" }))
      assert.same({ true, 0 }, { p:wait(5) })
      assert.equal("abc\n123\0end", p:output())
    end)

    it("drives stdin through a FIFO without EOF until close_stdin", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "cat" }, { stdin_fifo = true }))
      assert.is_true(p:write("one\n"))
      assert.is_true((p:wait_output("one\n", 5, true)))
      -- no EOF yet: cat keeps running
      assert.same({ false, "timeout" }, { p:wait(0.3) })
      assert.is_true(p:alive())
      assert.is_true(p:write("two\n"))
      assert.is_true(p:close_stdin())
      assert.same({ true, 0 }, { p:wait(5) })
      assert.equal("one\ntwo\n", p:output())
      assert.is_nil((p:write("late\n")))
    end)

    it("passes env and cwd", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sh", "-c", 'printf "%s|%s" "$SSLUA_X" "$(pwd)"' },
        { env = { SSLUA_X = "a b'c" }, cwd = "/" }))
      assert.same({ true, 0 }, { p:wait(5) })
      assert.equal("a b'c|/", p:output())
    end)

    it("kills a process that outlives max_life", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sleep", "30" }, { max_life = 1 }))
      local ok, code = p:wait(5)
      assert.is_true(ok)
      assert.equal(137, code)
    end)
  end)

  describe("ports", function()
    it("free returns distinct ports that can be bound and connected to", function()
      local seen, list = {}, {}
      for i = 1, 5 do
        local p = ports.free()
        assert.is_true(p >= 1 and p <= 65535)
        assert.is_nil(seen[p], "port handed out twice: " .. p)
        seen[p] = true
        list[i] = p
      end
      for _, p in ipairs(list) do
        local srv = assert(socket.bind(LOOP, p))
        assert.is_true(ports.listening(p))
        assert.is_true(ports.wait_listening(LOOP, p, 2))
        assert.is_true(ports.wait_bound(LOOP, p, 2))
        srv:close()
        assert.is_false(ports.listening(p))
      end
    end)

    it("wait_listening gives up at its deadline on a closed port", function()
      local p = ports.free()
      local t0 = socket.gettime()
      local ok = ports.wait_listening(LOOP, p, 0.3)
      local elapsed = socket.gettime() - t0
      assert.is_false(ok)
      assert.is_true(elapsed >= 0.25 and elapsed < 2, "took " .. elapsed)
      assert.is_false((ports.wait_bound(LOOP, p, 0.2)))
    end)

    it("works on ::1", function()
      local defer = helpers.cleanup(finally)
      if not ipv6_loopback() then
        pending("no IPv6 loopback here")
        return
      end
      local p = ports.free("::1")
      defer(assert(socket.bind("::1", p)))
      assert.is_true(ports.wait_listening("::1", p, 2))
      assert.is_true(ports.wait_bound("::1", p, 2))
    end)
  end)

  describe("certs", function()
    it("finds the test PKI and builds LuaSec params", function()
      assert.equal("/", certs.dir():sub(1, 1))
      local ca = certs.path("ca.pem")
      assert.equal(certs.dir() .. "/ca.pem", ca)
      assert.matches("BEGIN CERTIFICATE", certs.read("ca.pem"))
      local sp = certs.server_params({ protocol = "tlsv1_3", cafile = certs.NIL })
      assert.equal("server", sp.mode)
      assert.equal("tlsv1_3", sp.protocol)
      assert.is_nil(sp.cafile)
      assert.equal(certs.path("server-rsa.key"), sp.key)
      assert.equal(certs.path("server-rsa-chain.pem"), sp.certificate)
      assert.equal("none", sp.verify)
      assert.equal("all", sp.options)
      local cp = certs.client_params()
      assert.equal("client", cp.mode)
      assert.equal("peer", cp.verify)
      assert.equal(certs.path("client-rsa.key"), cp.key)
      assert.equal(ca, cp.cafile)
      local ssl = require "ssl"
      assert.is_truthy(ssl.newcontext(sp))
      assert.is_truthy(ssl.newcontext(cp))
    end)

    it("says to run `make certs` when a file is missing", function()
      local ok, err = pcall(certs.path, "no-such-file.pem")
      assert.is_false(ok)
      assert.matches("make certs", err, 1, true)
      assert.matches("no-such-file.pem", err, 1, true)
    end)

    it("splits chain files into certificates", function()
      local blocks = certs.pem_blocks(certs.read("server-rsa-chain.pem"))
      assert.is_true(#blocks >= 2)
      assert.equal(certs.read("server-rsa.pem"):match("%-%-%-%-%-BEGIN.-END CERTIFICATE%-%-%-%-%-"),
        blocks[1]:match("%-%-%-%-%-BEGIN.-END CERTIFICATE%-%-%-%-%-"))
    end)
  end)

  describe("serialize", function()
    it("round-trips params and refuses functions", function()
      local v = { mode = "client", verify = { "peer", "fail_if_no_peer_cert" }, depth = 3,
        alpn = { "h2", "http/1.1" }, x = 0.25, odd = "a\n\0\"\\\255", [true] = false,
        ["end"] = 1 }
      local s = ser.encode(v)
      assert.is_nil(s:find("[%c]"))
      assert.same(v, ser.decode(s))
      assert.has_error(function() ser.encode({ f = print }) end)
      local l = ser.decode_list(ser.encode_list(nil, "x", nil))
      assert.equal(3, l.n)
      assert.equal("x", l[2])
      assert.is_nil((ser.decode("os.exit(1)")))
    end)
  end)

  describe("openssl", function()
    it("knows its version", function()
      local s, major = openssl.version()
      assert.matches("OpenSSL", s, 1, true)
      assert.is_true(major >= 3)
    end)

    -- The same facts as OpenSSL 3.0's s_client prints them and as 3.5/3.6's
    -- (spaced or plain subjects, "Server"/"Peer Temp Key", the session
    -- block's "Protocol  :" or the plain "Protocol:", and 3.6's error for
    -- its own SSL_shutdown after a failed handshake).
    -- (48 and 116 are unknown_ca and certificate_required in the TLS alert registry)
    it("alerts: a received alert's text, by name or by number, from openssl errstr", function()
      assert.equal(48, alerts.number("unknown ca"))
      assert.equal(116, alerts.number("certificate required"))
      assert.equal(alerts.received(48), alerts.received("unknown ca"))
      assert.matches(" alert unknown ca$", alerts.received("unknown ca"))
      assert.has_error(function() alerts.received("no such alert") end)
      assert.has_error(function() alerts.received(255) end)
    end)

    it("parse reads s_client's output of OpenSSL 3.0 and of 3.5 and later alike", function()
      local old = table.concat({
        "subject=O = sslua Test PKI, OU = server-rsa, CN = localhost",
        "Server Temp Key: ECDH, secp384r1, 384 bits",
        "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",
        "40B79DC7BB7F0000:error:0A000417:SSL routines:ssl3_read_bytes:sslv3 alert illegal parameter:" ..
          "../ssl/record/rec_layer_s3.c:1601:SSL alert number 47",
        "    Protocol  : TLSv1.3", "" }, "\n")
      local new = table.concat({
        "subject=O=sslua Test PKI, OU=server-rsa, CN=localhost",
        "Peer Temp Key: ECDH, secp384r1, 384 bits",
        "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",
        "40472A41FF7E0000:error:0A00041B:SSL routines:ssl3_read_bytes:tlsv1 alert decrypt error:" ..
          "ssl/record/rec_layer_s3.c:918:SSL alert number 51",
        "40472A41FF7E0000:error:0A000197:SSL routines:SSL_shutdown:shutdown while in init:" ..
          "ssl/ssl_lib.c:2804:",
        "Protocol: TLSv1.3", "" }, "\n")
      local a, b = openssl.parse("\n" .. old), openssl.parse("\n" .. new)
      for _, r in ipairs { a, b } do
        assert.equal("O=sslua Test PKI, OU=server-rsa, CN=localhost", r.peer_subject)
        assert.equal("ECDH, secp384r1, 384 bits", r.temp_key)
        assert.equal("TLSv1.3", r.protocol)
        assert.equal(1, #r.errors)
      end
      assert.same({ "sslv3 alert illegal parameter" }, a.errors)
      assert.same({ "tlsv1 alert decrypt error" }, b.errors)
      assert.same({}, a.shutdown_errors)
      assert.same({ "shutdown while in init" }, b.shutdown_errors)
    end)

    it("s_server starts; an in-process ssl client exchanges lines; stop ends it", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server({ naccept = 1 }))
      assert.is_number(srv.port)
      assert.is_true(srv:alive())
      assert.matches("ACCEPT", srv:output(), 1, true)

      local ssl = require "ssl"
      local tcp = socket.tcp()
      tcp:settimeout(5)
      assert(tcp:connect(LOOP, srv.port))
      local conn = defer(assert(ssl.wrap(tcp, certs.client_params())))
      conn:settimeout(5)
      assert.is_true(conn:dohandshake())
      assert.truthy(conn:send("hello from lua\n"))
      assert.is_true((srv:wait_output("hello from lua", 5, true)))
      assert.is_true(srv:write("hello from s_server\n"))
      assert.equal("hello from s_server", conn:receive("*l"))
      conn:close()

      -- -naccept 1: the readiness probe did not use up the only accept, and
      -- s_server exits by itself once our connection is closed
      assert.same({ true, 0 }, { srv:wait(5) })
      srv:stop()
      assert.is_false(srv:alive())
      assert.is_false(process.pid_alive(srv.pid))
    end)

    it("s_server -quiet (no ACCEPT line) is detected ready; -rev works", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server({ quiet = true, args = { "-rev" } }))
      assert.equal("", srv:output())
      assert.is_true(ports.listening(srv.port))
      local cl = defer(luapeer.client(srv.port, certs.client_params(),
        { actions = { { "send", "abc\n" }, { "receive", "*l" } } }))
      assert.same({ true, 0 }, { cl:wait(10) })
      local r = cl:results()
      assert.is_true(r.handshake[1])
      assert.equal("cba", r.receive[1])
      assert.equal(143, srv:stop())
      assert.is_false(process.pid_alive(srv.pid))
    end)

    it("s_client talks to a luapeer server through a FIFO stdin", function()
      local defer = helpers.cleanup(finally)
      local lp = defer(luapeer.server(certs.server_params(), { actions = {
        { "receive", "*l" }, { "send", "pong\n" }, { "call", "info" }, { "close" } } }))
      assert.is_number(lp.port)
      local cl = defer(openssl.s_client({ port = lp.port, servername = "localhost",
        stdin_fifo = true, verify_return_error = true }))
      assert.is_true(cl:write("ping\n"))
      assert.is_true((cl:wait_output("pong", 5, true)))
      cl:close_stdin()
      assert.same({ true, 0 }, { cl:wait(5) })
      assert.same({ true, 0 }, { lp:wait(5) })

      local r = lp:results()
      assert.is_true(r.handshake[1])
      assert.equal("ping", r.receive[1])
      assert.equal(5, r.send[1])
      assert.is_table(r.info[1])
      assert.is_true(r.done[1])

      local info = openssl.parse(cl:output())
      assert.is_true(info.ok)
      assert.is_true(info.verify_ok)
      assert.equal(0, info.verify_code)
      assert.matches("^TLSv1%.[23]$", info.protocol)
      assert.matches("CN=localhost", info.peer_subject, 1, true)
    end)

    it("s_client reports failed verification (exit 1 only with -verify_return_error)", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server({ leaf = "untrusted" }))
      local lax = defer(openssl.s_client({ port = srv.port }))
      assert.same({ true, 0 }, { lax:wait(10) })
      local i1 = openssl.parse(lax:output())
      assert.is_false(i1.verify_ok)
      assert.is_true(i1.verify_code ~= 0)

      local strict = defer(openssl.s_client({ port = srv.port, verify_return_error = true }))
      local ok, code = strict:wait(10)
      assert.is_true(ok)
      assert.equal(1, code)
      local i2 = openssl.parse(strict:output())
      assert.is_false(i2.ok)
      assert.matches("certificate verify failed", table.concat(i2.errors, "|"), 1, true)
    end)

    it("s_client reports a refused connection", function()
      local defer = helpers.cleanup(finally)
      local cl = defer(openssl.s_client({ port = ports.free() }))
      assert.same({ true, 1 }, { cl:wait(10) })
      assert.is_true(openssl.parse(cl:output()).connect_failed)
    end)
  end)

  describe("luapeer", function()
    it("server and client children handshake with client certificates", function()
      local defer = helpers.cleanup(finally)
      local lp = defer(luapeer.server(certs.server_params({ verify = { "peer", "fail_if_no_peer_cert" } }),
        { actions = { { "receive", "*l" }, { "send", "hello\n" }, { "close" } } }))
      local cl = defer(luapeer.client(lp.port, certs.client_params(),
        { actions = { { "send", "hi there\n" }, { "receive", "*l" }, { "receive", "*l" } } }))
      assert.same({ true, 0 }, { cl:wait(10) })
      assert.same({ true, 0 }, { lp:wait(10) })

      local rs, rc = lp:results(), cl:results()
      assert.equal("listening", rs[2].name)
      assert.equal(lp.port, rs.listening[1])
      assert.is_true(rs.handshake[1])
      assert.equal("hi there", rs.receive[1])
      assert.is_true(rc.connect[1] ~= nil)
      assert.is_true(rc.handshake[1])
      assert.equal("hello", rc.receive[1])
      -- second receive: the server closed
      local second = rc.all.receive[2]
      assert.is_nil(second[1])
      assert.equal("closed", second[2])
      assert.is_true(rc.done[1])
      assert.same(second, cl:result("receive", 2))
    end)

    it("reports a failed handshake as a result, not a crash", function()
      local defer = helpers.cleanup(finally)
      local srv = defer(openssl.s_server({ leaf = "untrusted", naccept = 1 }))
      local cl = defer(luapeer.client(srv.port, certs.client_params()))
      assert.same({ true, 0 }, { cl:wait(10) })
      local hs = cl:result("handshake")
      assert.is_falsy(hs[1])
      assert.is_string(hs[2])
      assert.is_true(cl:results().done[1])
    end)

    it("refuses params it cannot pass to the child, starting nothing", function()
      local before = #process.history()
      local ok, err = pcall(luapeer.server, { mode = "server", verifyext = print })
      assert.is_false(ok)
      assert.matches("serialize", err, 1, true)
      assert.equal(before, #process.history())
    end)

    it("child keeps its own deadlines", function()
      local defer = helpers.cleanup(finally)
      -- nobody connects: accept times out
      local lp = defer(luapeer.server(certs.server_params(), { accept_timeout = 0.5 }))
      assert.same({ true, 0 }, { lp:wait(5) })
      local acc = lp:result("accept")
      assert.is_nil(acc[1])
      assert.equal("timeout", acc[2])

      -- a script longer than the overall deadline ends with exit 3
      local lp2 = defer(luapeer.server(certs.server_params(),
        { deadline = 1.5, actions = { { "sleep", 30 }, { "print", "never" } } }))
      local cl = defer(luapeer.client(lp2.port, certs.client_params(), { actions = { { "receive", "*a" } } }))
      local t0 = socket.gettime()
      assert.same({ true, 3 }, { lp2:wait(10) })
      assert.is_true(socket.gettime() - t0 < 5)
      assert.is_nil(lp2:result("print"))
      assert.is_table(lp2:result("deadline"))
      assert.same({ true, 0 }, { cl:wait(10) })
    end)
  end)

  describe("peer helpers", function()
    it("with() stops the handle even when the body fails", function()
      local defer = helpers.cleanup(finally)
      local p = defer(process.spawn({ "sleep", "30" }))
      local ok, err = pcall(helpers.with, p, function(h)
        assert.is_true(h:alive())
        error("boom")
      end)
      assert.is_false(ok)
      assert.matches("boom", err, 1, true)
      assert.is_false(p:alive())
      assert.is_false(process.pid_alive(p.pid))
      assert.equal(42, helpers.with(process.spawn({ "true" }), function() return 42 end))
    end)

    it("cleanup() keeps every registration although finally keeps one fn", function()
      local registered
      local busted_like_finally = function(fn) registered = fn end   -- last one wins
      local add = helpers.cleanup(busted_like_finally)
      local a = add(process.spawn({ "sleep", "30" }))
      local b = add(process.spawn({ "sleep", "30" }))
      local called = false
      add(function() called = true end)
      assert.is_true(a:alive() and b:alive())
      registered()
      assert.is_true(called)
      assert.is_false(a:alive())
      assert.is_false(b:alive())
      assert.is_false(process.pid_alive(a.pid) or process.pid_alive(b.pid))
    end)

    it("autostop() registers stop with a finally function", function()
      local defer = helpers.cleanup(finally)
      local registered
      local fake_finally = function(fn) registered = fn end
      local p = defer(helpers.autostop(fake_finally, process.spawn({ "sleep", "30" })))
      assert.is_function(registered)
      assert.is_true(p:alive())
      registered()
      assert.is_false(p:alive())
    end)
  end)
end)
