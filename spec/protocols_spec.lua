-- Protocol pinning: every client protocol x every server protocol, in several
-- security settings, against our own peer (spec.helpers.pair) and against the
-- openssl command-line tools in both roles.
--
-- Nothing here is a hand-written expectation: `expect` below models how
-- OpenSSL negotiates a version and in which order the two ends give up,
-- and every combination is checked against it (negotiated version on
-- success; on failure, each side's error text). What differs between
-- OpenSSL versions is asked of the openssl command of the same version
-- (which versions each security setting allows) and of alerts.received
-- (how a received alert reads).
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local pair    = require "spec.helpers.pair"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local alerts  = require "spec.helpers.alerts"
local socket  = require "socket"

local PROTOCOLS = { "any", "sslv23", "tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3" }

-- Version numbers 1..4 = TLS 1.0 .. 1.3, and how conn:info("protocol")
-- (SSL_get_version) spells them.
local VERSION_NAME = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" }

-- protocol string -> lowest, highest version it allows. "any" and its alias
-- "sslv23" leave OpenSSL's own range (TLS 1.0 .. 1.3: the security level,
-- not the version range, is what stops TLS 1.0/1.1 on OpenSSL 3).
local RANGE = {
  any = { 1, 4 }, sslv23 = { 1, 4 },
  tlsv1 = { 1, 1 }, tlsv1_1 = { 2, 2 }, tlsv1_2 = { 3, 3 }, tlsv1_3 = { 4, 4 },
}

-- The equivalent command-line switch of the openssl tools (nil: no switch).
local OPENSSL_FLAG = {
  tlsv1 = "-tls1", tlsv1_1 = "-tls1_1", tlsv1_2 = "-tls1_2", tlsv1_3 = "-tls1_3",
}

local SECLEVEL0 = "DEFAULT:@SECLEVEL=0"

-- Security settings: which ends run with ciphers = "DEFAULT:@SECLEVEL=0".
local SETTINGS = {
  { name = "default seclevel",               server = false, client = false },
  { name = "@SECLEVEL=0 on both ends",       server = true,  client = true  },
  { name = "@SECLEVEL=0 on the server only", server = true,  client = false },
  { name = "@SECLEVEL=0 on the client only", server = false, client = true  },
}
-- The openssl tools run the two symmetric settings (the ones that matter to
-- users); the asymmetric ones are covered by the in-process matrix.
local OPENSSL_SETTINGS = { SETTINGS[1], SETTINGS[2] }

-- The lowest version a security setting allows (1..4, 5: none), from the
-- openssl command of this OpenSSL: s_client pinned to one version, with the
-- same cipher string, either sends its ClientHello or gives up at once
-- with "no protocols available" (OpenSSL 3.2 and later forbid TLS 1.0 and
-- 1.1 above security level 0; 3.0 allows every version at every level,
-- and level 1+ then fails on their SHA-1 signatures instead, steps 2 and 4
-- below). The listener only takes the connection and closes it.
local PROBE_FLAG = { "-tls1", "-tls1_1", "-tls1_2", "-tls1_3" }
local lowest_cache = {}
local function lowest_version(seclevel0)
  local key = seclevel0 and "0" or "default"
  if lowest_cache[key] then return lowest_cache[key] end
  local lowest = 5
  for v = 1, 4 do
    local listener = assert(socket.bind("127.0.0.1", 0))
    local _, port = listener:getsockname()
    local args = { PROBE_FLAG[v] }
    if seclevel0 then args[2] = "-cipher"; args[3] = SECLEVEL0 end
    local cli = openssl.s_client({ port = tonumber(port), cafile = false, args = args })
    listener:settimeout(10)
    local conn = listener:accept()
    if conn then conn:close() end
    listener:close()
    local done = cli:wait(10)
    local out = cli:output()
    cli:stop()
    assert(conn and done, "the version probe did not run: " .. out)
    if not out:find("no protocols available", 1, true) then lowest = v break end
  end
  lowest_cache[key] = lowest
  return lowest
end

-- The oracle. Returns { ok = true, version = "TLSv1.x" } or
-- { ok = false, server = "server's error", client = "client's error" }.
--
-- How OpenSSL gets there, in the order the checks happen:
--  0. Each end's range is its protocol's, cut below at the lowest version
--     its security setting allows. A client left with none gives up before
--     sending anything: "no protocols available"; the server then reads
--     no ClientHello ("unexpected message"), unless it has no version
--     either ("no protocols available"). A server left with none fails on
--     the ClientHello the same way and alerts protocol_version.
--  1. The client offers [cmin, cmax]. With cmax = TLS 1.3 it sends the
--     supported_versions extension and the server takes the highest version
--     both ranges share; below that it sends a plain ClientHello with
--     version cmax and the server takes min(cmax, smax). No usable version
--     (the ranges do not meet / cmax < smin): the server fails with
--     "unsupported protocol" and alerts protocol_version.
--  2. TLS 1.0/1.1 can only be signed with SHA-1 (or MD5+SHA-1), which the
--     default security level 1 forbids: a server not at @SECLEVEL=0 finds
--     "no suitable signature algorithm" and alerts internal_error.
--  3. The client reads the ServerHello: a version below its cmin (the
--     server picked its own maximum) is "unsupported protocol" for it; its
--     protocol_version alert reaches the server as a record of a version it
--     does not expect: "wrong version number".
--  4. The client checks the server's SHA-1 signature against its own level:
--     "legacy sigalg disallowed or unsupported", alert internal_error.
local function expect(client_protocol, server_protocol, setting)
  local cmin, cmax = RANGE[client_protocol][1], RANGE[client_protocol][2]
  local smin, smax = RANGE[server_protocol][1], RANGE[server_protocol][2]
  cmin = math.max(cmin, lowest_version(setting.client))
  smin = math.max(smin, lowest_version(setting.server))
  if cmin > cmax then
    return { ok = false, server = smin > smax and "no protocols available" or "unexpected message",
             client = "no protocols available" }
  end
  if smin > smax then
    return { ok = false, server = "no protocols available", client = alerts.received("protocol version") }
  end
  local v
  if cmax == 4 then
    local hi, lo = math.min(cmax, smax), math.max(cmin, smin)
    if hi >= lo then v = hi end
  elseif cmax >= smin then
    v = math.min(cmax, smax)
  end
  if not v then
    return { ok = false, server = "unsupported protocol", client = alerts.received("protocol version") }
  end
  if v <= 2 and not setting.server then
    return { ok = false, server = "no suitable signature algorithm", client = alerts.received("internal error") }
  end
  if v < cmin then
    return { ok = false, server = "wrong version number", client = "unsupported protocol" }
  end
  if v <= 2 and not setting.client then
    return { ok = false, server = alerts.received("internal error"),
             client = "legacy sigalg disallowed or unsupported" }
  end
  return { ok = true, version = VERSION_NAME[v] }
end

-- Whether the server end has no version at all under `setting` (step 0).
local function server_has_no_version(server_protocol, setting)
  return math.max(RANGE[server_protocol][1], lowest_version(setting.server)) > RANGE[server_protocol][2]
end

local function describe_expectation(e)
  if e.ok then return "negotiates " .. e.version end
  return "fails: server '" .. e.server .. "', client '" .. e.client .. "'"
end

local function our_params(mode, protocol, seclevel0)
  local o = { protocol = protocol, verify = "none" }
  if seclevel0 then o.ciphers = SECLEVEL0 end
  if mode == "server" then return certs.server_params(o) end
  -- the client verifies the server: the protocol matrix runs with real trust
  o.verify = "peer"
  o.key, o.certificate = certs.NIL, certs.NIL
  return certs.client_params(o)
end

local function openssl_args(protocol, seclevel0)
  local args = {}
  if OPENSSL_FLAG[protocol] then args[#args + 1] = OPENSSL_FLAG[protocol] end
  if seclevel0 then args[#args + 1] = "-cipher"; args[#args + 1] = SECLEVEL0 end
  return args
end

local function assert_has_error(output, text, who)
  assert(openssl.error_counts(output)[text], who .. " should report '" .. text .. "'; its output:\n" .. output)
end

-- The version s_client negotiated. Up to TLS 1.2 it prints its SSL-Session
-- block at once ("    Protocol  : TLSv1.1"); the "New, X, Cipher is" line
-- shows the cipher's own minimum version instead (e.g. "TLSv1.0" for a TLS
-- 1.1 session with ECDHE-RSA-AES256-SHA), so it is trusted only for TLS 1.3,
-- whose ciphers exist in no other version and whose session block comes only
-- with a ticket, i.e. not at all when s_client quits right away.
local function session_protocol(output)
  return output:match("\n%s*Protocol%s*:%s*(TLSv[%d%.]+)") or
    (output:find("\nNew, TLSv1.3, Cipher is ", 1, true) and "TLSv1.3") or nil
end

describe("protocol matrix", function()
  after_each(helpers.stop_all)   -- safety net; every test stops its own

  it("the oracle covers the whole matrix and matches the reference's examples", function()
    local n = 0
    for _, s in ipairs(SETTINGS) do
      for _, cp in ipairs(PROTOCOLS) do
        for _, sp in ipairs(PROTOCOLS) do
          local e = expect(cp, sp, s)
          assert.is_boolean(e.ok)
          n = n + 1
        end
      end
    end
    assert.equal(#SETTINGS * #PROTOCOLS * #PROTOCOLS, n)
    -- TLS 1.0/1.1 pins fail at the default level: on the SHA-1 signature,
    -- or before anything is sent where the level forbids the versions...
    local pinned = expect("tlsv1", "tlsv1", SETTINGS[1])
    if lowest_version(false) == 1 then
      assert.same({ ok = false, server = "no suitable signature algorithm",
                    client = alerts.received("internal error") }, pinned)
    else
      assert.same({ ok = false, server = "no protocols available", client = "no protocols available" }, pinned)
    end
    -- ...and work at @SECLEVEL=0
    assert.same({ ok = true, version = "TLSv1" }, expect("tlsv1", "tlsv1", SETTINGS[2]))
    assert.same({ ok = true, version = "TLSv1.3" }, expect("any", "sslv23", SETTINGS[1]))
  end)

  describe("our client x our server", function()
    for _, setting in ipairs(SETTINGS) do
      for _, cp in ipairs(PROTOCOLS) do
        for _, sp in ipairs(PROTOCOLS) do
          local e = expect(cp, sp, setting)
          it(string.format("[%s] client %s x server %s %s", setting.name, cp, sp,
              describe_expectation(e)), function()
            local defer = helpers.cleanup(finally)
            local server, client, sres, cres = pair.connect(
              our_params("server", sp, setting.server), our_params("client", cp, setting.client))
            defer(server); defer(client)
            if e.ok then
              assert.same({ ok = true }, sres)
              assert.same({ ok = true }, cres)
              assert.equal(e.version, pair.version(server))
              assert.equal(e.version, pair.version(client))
              -- and the channel works
              client:settimeout(5); server:settimeout(5)
              assert.equal(5, client:send("ping\n"))
              assert.equal("ping", server:receive("*l"))
            else
              assert.same({ ok = false, err = e.server }, sres)
              assert.same({ ok = false, err = e.client }, cres)
            end
          end)
        end
      end
    end
  end)

  -- One s_server per server setting (each case alone took ~120 ms, mostly
  -- process start and exit): it accepts one connection per client protocol,
  -- in turn, and each connection is checked on its own before the next one.
  describe("our client x openssl s_server", function()
    for _, setting in ipairs(OPENSSL_SETTINGS) do
      for _, sp in ipairs(PROTOCOLS) do
        local args = openssl_args(sp, setting.server)
        local names = {}
        for _, cp in ipairs(PROTOCOLS) do
          names[#names + 1] = cp .. ": " .. describe_expectation(expect(cp, sp, setting))
        end
        it(string.format("[%s] server %s (s_server %s) x client {%s}", setting.name, sp,
            #args > 0 and table.concat(args, " ") or "without flags", table.concat(names, "; ")), function()
          local defer = helpers.cleanup(finally)
          local rounds = {}
          for _, cp in ipairs(PROTOCOLS) do
            local e = expect(cp, sp, setting)
            rounds[#rounds + 1] = {
              what = string.format("client %s x s_server %s: ", cp, sp),
              params = our_params("client", cp, setting.client),
              client_err = not e.ok and e.client or nil, server_err = e.server,
              check = function(conn, what) assert.equal(e.version, conn:info("protocol"), what .. "version") end,
            }
          end
          -- s_server takes a connection it fails before reading anything
          -- (no version at all) for an error in its configuration and ends
          -- at once: then each round gets an s_server of its own.
          if server_has_no_version(sp, setting) then
            for _, round in ipairs(rounds) do
              local srv = defer(openssl.s_server({ naccept = 1, cafile = false, args = args }))
              openssl.client_rounds(defer, srv, { round }, 5)
            end
          else
            local srv = defer(openssl.s_server({ naccept = #PROTOCOLS, cafile = false, args = args }))
            openssl.client_rounds(defer, srv, rounds, 5)
          end
        end)
      end
    end
  end)

  describe("openssl s_client x our server", function()
    for _, setting in ipairs(OPENSSL_SETTINGS) do
      for _, cp in ipairs(PROTOCOLS) do
        for _, sp in ipairs(PROTOCOLS) do
          local e = expect(cp, sp, setting)
          local args = openssl_args(cp, setting.client)
          it(string.format("[%s] client %s (s_client %s) x server %s %s", setting.name, cp,
              #args > 0 and table.concat(args, " ") or "without flags", sp, describe_expectation(e)), function()
            local defer = helpers.cleanup(finally)
            local conn, ok, err, cli = openssl.accept_s_client(defer, { args = args },
              our_params("server", sp, setting.server), nil, 5)
            -- close first: s_client lingers up to 0.5 s for the peer's close
            conn:close()
            local done, code = cli:wait(5)
            assert.is_true(done)
            local out = cli:output()
            if e.ok then
              assert.same({ true }, { ok, err })
              assert.equal(0, code)
              assert.equal(e.version, session_protocol(out))
              assert.same({}, openssl.parse(out).errors)
            else
              assert.same({ false, e.server }, { ok, err })
              assert.equal(1, code)
              assert_has_error(out, e.client, "s_client")
            end
          end)
        end
      end
    end
  end)
end)

describe("protocol names", function()
  for _, name in ipairs({ "sslv3", "sslv2" }) do
    for _, mode in ipairs({ "client", "server" }) do
      it(name .. " is refused by newcontext (" .. mode .. ")", function()
        local ctx, err = ssl.newcontext({ mode = mode, protocol = name })
        assert.is_nil(ctx)
        assert.equal("invalid protocol (" .. name .. ")", err)
      end)
    end
  end

  it("every protocol of the matrix makes a context in both modes", function()
    for _, p in ipairs(PROTOCOLS) do
      for _, mode in ipairs({ "client", "server" }) do
        local ctx, err = ssl.newcontext({ mode = mode, protocol = p })
        assert(ctx, p .. "/" .. mode .. ": " .. tostring(err))
      end
    end
  end)
end)
