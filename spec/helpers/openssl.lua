-- spec/helpers/openssl.lua - `openssl s_server` / `openssl s_client` peers.
--
--   local openssl = require "spec.helpers.openssl"
--   local defer = require("spec.helpers.peer").cleanup(finally)  -- in an `it`
--   local srv = defer(openssl.s_server({ naccept = 1 }))  -- waits until ready
--   -- connect to srv.port on 127.0.0.1 ...
--   local cli = defer(openssl.s_client({ port = port, servername = "localhost",
--                                        stdin = "ping\n" }))
--   assert(cli:wait(10))
--   local info = openssl.parse(cli:output())  -- protocol, cipher, verify...
--
-- With our module on the other end (ssl.wrap), in an `it`:
--   local conn, ok, err = openssl.connect(defer, srv, client_params)
--   local conn, ok, err, cli = openssl.accept_s_client(defer, { leaf = "client-rsa" },
--                                                      server_params)
--   local info = openssl.report(cli)            -- parse(), once s_client exited
--   openssl.client_rounds(defer, srv, rounds)   -- one s_server, many clients
--
-- Things worth knowing about the openssl 3.0 tools:
-- * s_server prints "ACCEPT" once it listens, except with -quiet, which
--   prints nothing at all; readiness is taken from "ACCEPT" or from a LISTEN
--   socket in /proc/net/tcp - never from a test connection, which -naccept
--   would count.
-- * s_server reacts to EOF on its stdin: without -quiet it acts as on "Q"
--   (prints "DONE", drops the client before the handshake, closes the
--   listening socket); with -quiet the handshake completes but the server
--   then closes the connection at once. So s_server always gets a FIFO stdin
--   here (handle:write("R\n") etc. work); opts.stdin feeds a string instead.
--   Without -quiet, a stdin line starting with Q (quit) or q (close the
--   connection) is a command, and so are the one-letter lines R, r, k, K...;
--   with -quiet every line is sent to the client as data.
-- * s_client without -quiet/-ign_eof stops at EOF on stdin, right after the
--   handshake, possibly before reading what the server sends; -quiet
--   implies -ign_eof. A line "Q" quits and "R" renegotiates (TLS <= 1.2),
--   "k"/"K" request a key update (TLS 1.3), unless -nocommands.
-- * s_client exits 0 even when certificate verification fails, unless
--   -verify_return_error; a failed handshake / refused connection exits 1.
--   Errors go to stderr as "<hex>:error:<code>:SSL routines:<func>:<reason>:
--   <file>:<line>:" lines (connect failures: "connect:errno=111").
-- * TLS 1.3: a client without a certificate against s_server -Verify 1
--   still exits 0 and prints a full session; only the server sees the
--   failure (prints "ERROR"); the client learns it on its first read.
-- * s_server -naccept N exits 0 after the N-th connection closed; SIGTERM
--   gives 143 (128 + 15) in handle:wait()/stop().

local process = require "spec.helpers.process"
local ports = require "spec.helpers.ports"
local certs = require "spec.helpers.certs"
local socket = require "socket"

local M = {}

M.bin = os.getenv("SSLUA_OPENSSL") or "openssl"

local version_cache
-- version() -> "OpenSSL 3.0.x ...", major, minor, patch
function M.version()
  if not version_cache then
    local p = io.popen(process.quote(M.bin) .. " version 2>&1")
    local s = p and p:read("*l") or ""
    if p then p:close() end
    version_cache = s
  end
  local a, b, c = version_cache:match("(%d+)%.(%d+)%.(%d+)")
  return version_cache, tonumber(a), tonumber(b), tonumber(c)
end

-- require_same_library(): errors unless the CLI runs on the OpenSSL the
-- module loaded. Oracles that ask the CLI how OpenSSL words or does
-- something answer for the module only then. (A module without
-- ssl.config.library - upstream LuaSec - is taken to load the system's.)
function M.require_same_library()
  local text = M.version()
  local cli = text:match("%(Library: OpenSSL (%S+)") or text:match("^OpenSSL (%S+)")
  local ok, config = pcall(require, "ssl.config")
  local lib = ok and type(config) == "table" and type(config.library) == "table"
    and config.library.version or nil
  if lib and cli ~= lib then
    error(("the openssl command (%s) runs on OpenSSL %s but the module loads %s: put that " ..
      "OpenSSL's CLI first on PATH or name it in SSLUA_OPENSSL (make test OPENSSL=...)"):format(
      M.bin, tostring(cli), lib), 2)
  end
end

local function hostport(host, port)
  if host:find(":", 1, true) then return "[" .. host .. "]:" .. port end
  return host .. ":" .. port
end

local function append(t, list)
  for _, v in ipairs(list or {}) do t[#t + 1] = tostring(v) end
  return t
end

-- Adds -cert/-key/-cert_chain for the test PKI leaf `leaf` (e.g. "server-rsa"):
-- LEAF.pem, LEAF.key and the CA certificates of LEAF-chain.pem (everything
-- after its first block), written to `dir`/chain.pem. s_server/s_client -cert
-- read only the first certificate of a file, hence the split.
local function leaf_args(argv, dir, opts, default_leaf)
  if opts.nocert then return end
  local leaf = opts.leaf or default_leaf
  if not leaf and not opts.cert then return end
  argv[#argv + 1] = "-cert"
  argv[#argv + 1] = opts.cert or certs.path(leaf .. ".pem")
  argv[#argv + 1] = "-key"
  argv[#argv + 1] = opts.key or certs.path(leaf .. ".key")
  local chain = opts.chain
  if chain == nil and leaf and not opts.cert and certs.exists(leaf .. "-chain.pem") then
    local blocks = certs.pem_blocks(certs.read(leaf .. "-chain.pem"))
    if #blocks > 1 then
      chain = dir .. "/chain.pem"
      process.write_file(chain, table.concat(blocks, "", 2))
    end
  end
  if chain then
    argv[#argv + 1] = "-cert_chain"
    argv[#argv + 1] = chain
  end
end

local function cafile_args(argv, opts)
  local ca = opts.cafile
  if ca == false then return end
  argv[#argv + 1] = "-CAfile"
  argv[#argv + 1] = ca or certs.path("ca.pem")
end

-- s_server(opts) -> process handle with .port, .host, .addr, ready to accept.
--   opts.host "127.0.0.1" | "::1"; opts.port (default: a free one)
--   opts.leaf "server-rsa" (test PKI name) or opts.cert/opts.key/opts.chain
--     paths; opts.nocert = true for none (PSK, anon)
--   opts.cafile (default ca.pem; false: none); opts.verify = n (ask for a
--     client certificate), opts.Verify = n (require one)
--   opts.naccept = n; opts.quiet = true (-quiet); opts.args = { extra... }
--     e.g. {"-rev"}, {"-WWW"}, {"-tls1_2"}, {"-alpn", "h2"}
--   opts.stdin = "string" (else a FIFO: handle:write / handle:close_stdin)
--   opts.cwd (for -WWW); opts.ready_timeout (5 s); opts.max_life (300 s)
function M.s_server(opts)
  opts = opts or {}
  local host = opts.host or "127.0.0.1"
  local tries = opts.port and 1 or 3
  local last_out = ""
  for _ = 1, tries do
    local port = opts.port or ports.free(host)
    local dir = process.mktempdir("sslua-s_server")
    local argv = { M.bin, "s_server", "-accept", hostport(host, port) }
    local ok, err = pcall(leaf_args, argv, dir, opts, "server-rsa")
    if ok then ok, err = pcall(cafile_args, argv, opts) end
    if not ok then process.rmtree(dir) error(err, 2) end
    -- Without -nocert s_server looks for ./server.pem and refuses to start.
    if opts.nocert then append(argv, { "-nocert" }) end
    if opts.verify then append(argv, { "-verify", opts.verify }) end
    if opts.Verify then append(argv, { "-Verify", opts.Verify }) end
    if opts.naccept then append(argv, { "-naccept", opts.naccept }) end
    if opts.quiet then argv[#argv + 1] = "-quiet" end
    append(argv, opts.args)

    local h = process.spawn(argv, {
      dir = dir, name = "s_server", cwd = opts.cwd, env = opts.env,
      stdin = opts.stdin, stdin_fifo = (opts.stdin == nil),
      max_life = opts.max_life,
    })
    h.port, h.host, h.addr = port, host, hostport(host, port)

    local deadline = socket.gettime() + (opts.ready_timeout or 5)
    local ready = false
    while socket.gettime() < deadline do
      local out = h:output()
      if out:find("ACCEPT", 1, true) then ready = true break end
      if not h:alive() then break end
      if ports.listening(port) then
        -- listening, and still alive a moment later (not a bind failure
        -- racing with somebody else's socket on the same port)
        socket.sleep(0.05)
        if h:alive() then ready = true end
        break
      end
      socket.sleep(0.02)
    end
    if ready then return h end
    h:wait(0.5)
    last_out = h:output()
    h:stop()
    if not last_out:find("in use", 1, true) then break end
  end
  error("openssl s_server did not become ready: " .. last_out, 2)
end

-- s_client(opts) -> process handle (running; use :wait, :write, :output).
--   opts.port (required); opts.host "127.0.0.1"
--   opts.servername "localhost" (-servername) / opts.noservername
--   opts.alpn "h2,http/1.1"; opts.cafile (default ca.pem; false: none)
--   opts.leaf "client-rsa" or opts.cert/opts.key/opts.chain: client certificate
--   opts.verify_return_error = true; opts.quiet, opts.brief, opts.ign_eof
--   opts.args = { "-tls1_2", "-cipher", ... }
--   opts.stdin = "string" | opts.stdin_fifo = true (else /dev/null: s_client
--     then quits right after the handshake unless quiet/ign_eof)
function M.s_client(opts)
  opts = opts or {}
  local host = opts.host or "127.0.0.1"
  assert(opts.port, "openssl.s_client: opts.port required")
  local dir = process.mktempdir("sslua-s_client")
  local argv = { M.bin, "s_client", "-connect", hostport(host, opts.port) }
  local ok, err = pcall(function()
    if opts.servername then append(argv, { "-servername", opts.servername }) end
    if opts.noservername then argv[#argv + 1] = "-noservername" end
    if opts.alpn then append(argv, { "-alpn", opts.alpn }) end
    cafile_args(argv, opts)
    leaf_args(argv, dir, opts, nil)
  end)
  if not ok then process.rmtree(dir) error(err, 2) end
  if opts.verify_return_error then argv[#argv + 1] = "-verify_return_error" end
  if opts.quiet then argv[#argv + 1] = "-quiet" end
  if opts.brief then argv[#argv + 1] = "-brief" end
  if opts.ign_eof then argv[#argv + 1] = "-ign_eof" end
  append(argv, opts.args)
  local h = process.spawn(argv, {
    dir = dir, name = "s_client", env = opts.env,
    stdin = opts.stdin, stdin_fifo = opts.stdin_fifo, max_life = opts.max_life,
  })
  h.port, h.host = opts.port, host
  return h
end

-- parse(output) -> table with what s_client (normal or -brief) reported:
--   protocol "TLSv1.3", cipher, verify_code (number), verify_ok (boolean),
--   alpn (string or false), peer_subject ("O=..., OU=..., CN=...", see
--   dn), temp_key ("ECDH, secp384r1, 384 bits": the peer's ephemeral key),
--   errors = { OpenSSL error reasons, e.g. "certificate verify failed",
--   "tlsv1 alert protocol version" }, shutdown_errors = { the reasons of
--   s_client's own SSL_shutdown call after a failed handshake ("shutdown
--   while in init", OpenSSL 3.6): not an outcome of the handshake },
--   connect_failed (true when the TCP connect failed), ok (a cipher was
--   negotiated and no OpenSSL error was printed).
-- Beware: with -verify_return_error, s_client prints "New, TLSv1.3, Cipher is
-- ..." and "Verify return code: N" even though it aborted the handshake; the
-- exit code (1) and `errors` are what tell. A failed protocol negotiation
-- prints "New, (NONE), Cipher is (NONE)" and "Verify return code: 0 (ok)".
function M.parse(out)
  out = out or ""
  local r = { errors = {} }
  r.protocol = out:match("\nNew, (TLSv[%d%.]+), Cipher is") or
    out:match("Protocol%s*:%s*(TLSv[%d%.]+)") or out:match("Protocol version: (%S+)")
  r.cipher = out:match("Cipher is (%S+)") or out:match("Ciphersuite: (%S+)")
  if r.cipher == "(NONE)" then r.cipher = nil end
  r.verify_code = tonumber(out:match("Verify return code: (%d+)"))
  if out:find("Verification error", 1, true) or out:find("verify error:num=", 1, true) then
    r.verify_ok = false
  elseif r.verify_code then
    r.verify_ok = (r.verify_code == 0)
  elseif out:find("Verification: OK", 1, true) then
    r.verify_ok = true
  end
  local alpn = out:match("ALPN protocol: ([^\r\n]+)")
  if alpn then r.alpn = alpn elseif out:find("No ALPN negotiated", 1, true) then r.alpn = false end
  r.peer_subject = M.dn(out:match("\nsubject=([^\r\n]+)") or out:match("Peer certificate: ([^\r\n]+)"))
  -- "Server Temp Key:" up to OpenSSL 3.4, "Peer Temp Key:" from 3.5 on
  r.temp_key = out:match("\nServer Temp Key: ([^\r\n]+)") or out:match("\nPeer Temp Key: ([^\r\n]+)")
  r.shutdown_errors = {}
  -- e.g. 80AB61ED0B7F0000:error:0A000086:SSL routines:func:reason:file:line:
  for func, reason in out:gmatch("%x+:error:%x+:[^:\n]*:([^:\n]*):([^:\n]*)") do
    local list = func == "SSL_shutdown" and r.shutdown_errors or r.errors
    list[#list + 1] = reason
  end
  r.connect_failed = out:find("connect:errno=", 1, true) ~= nil
  r.ok = r.cipher ~= nil and #r.errors == 0 and not r.connect_failed
  return r
end

local groups_verdicts = {}
-- accepts_groups(list) -> whether this OpenSSL takes `list` as its groups
-- (SSL_CTX_set1_groups_list, which s_client -groups calls before it
-- connects: to a port where nothing listens, so it ends right after).
function M.accepts_groups(list)
  if groups_verdicts[list] == nil then
    local out = process.run({ M.bin, "s_client", "-groups", list,
                              "-connect", "127.0.0.1:" .. ports.free() }, 10)
    groups_verdicts[list] = not out:find("SSL_CONF_cmd(-groups", 1, true)
  end
  return groups_verdicts[list]
end

-- dn(text) -> a distinguished name as the tools print it by default, in
-- one form: OpenSSL 3.0 writes "O = sslua Test PKI, OU = server-rsa, CN =
-- localhost", 3.2 and later "O=sslua Test PKI, OU=server-rsa, CN=localhost";
-- both become the latter. (No value of the test PKI holds " = ".)
function M.dn(text)
  if text == nil then return nil end
  return (text:gsub(" = ", "="))
end

-- error_counts(output) -> { [reason] = how many times } for the OpenSSL
-- error lines of a tool's output (see parse).
function M.error_counts(out)
  local counts = {}
  for _, reason in ipairs(M.parse(out).errors) do counts[reason] = (counts[reason] or 0) + 1 end
  return counts
end

-- The rest drives our module against the tools; `defer` is the test's
-- helpers.cleanup(finally), which gets every socket, connection and process.
-- Waits are bounded by `timeout` (seconds, default 10).

-- connect(defer, srv, params[, setup[, timeout]]) -> conn, ok, err
-- Our client (ssl.wrap with params: a table or a context) to s_server `srv`:
-- setup(conn) runs before the handshake (sni, setverifyhost...).
function M.connect(defer, srv, params, setup, timeout)
  timeout = timeout or 10
  local tcp = defer(socket.tcp())
  tcp:settimeout(timeout)
  assert(tcp:connect(srv.host or "127.0.0.1", srv.port))
  local conn = defer(assert(require("ssl").wrap(tcp, params)))
  if setup then setup(conn) end
  conn:settimeout(timeout)
  local ok, err = conn:dohandshake()
  return conn, ok, err
end

-- accept_s_client(defer, opts, params[, setup[, timeout]]) -> conn, ok, err, cli
-- s_client (opts as for M.s_client, without port) against a listener of
-- ours; its connection is wrapped with our server params, setup(conn) runs,
-- then our side's handshake. cli is the s_client handle (still running).
function M.accept_s_client(defer, opts, params, setup, timeout)
  timeout = timeout or 10
  local listener = defer(assert(socket.bind("127.0.0.1", 0)))
  local _, port = listener:getsockname()
  local o = { port = tonumber(port) }
  for k, v in pairs(opts) do o[k] = v end
  local cli = defer(M.s_client(o))
  listener:settimeout(timeout)
  local tcp = defer(assert(listener:accept()))
  listener:close()
  local conn = defer(assert(require("ssl").wrap(tcp, params)))
  if setup then setup(conn) end
  conn:settimeout(timeout)
  local ok, err = conn:dohandshake()
  return conn, ok, err, cli
end

-- report(cli[, timeout]) -> parse() of what s_client printed, once it has
-- exited (the test fails if it does not within `timeout`).
function M.report(cli, timeout)
  require("luassert")(cli:wait(timeout or 10), "s_client did not exit: " .. cli:output())
  return M.parse(cli:output())
end

-- client_rounds(defer, srv, rounds[, timeout]): our client connects to
-- s_server `srv` (started with naccept = #rounds) once per round, in turn,
-- and each connection is checked before the next one. A round:
--   { what = "label: ", params = client params,
--     client_err = nil (the handshake succeeds) | our client's error text,
--     server_err = the error s_server prints when client_err is set,
--     check = function(conn, what) (optional, after a successful handshake) }
-- A successful round sends a line s_server must print; a failed one waits
-- for s_server's error. At the end s_server has exited 0 having printed
-- exactly the predicted errors.
function M.client_rounds(defer, srv, rounds, timeout)
  local luassert = require "luassert"
  timeout = timeout or 10
  local want = {}
  for i, r in ipairs(rounds) do
    local conn, ok, err = M.connect(defer, srv, r.params, nil, timeout)
    if r.client_err == nil then
      luassert.same({ true }, { ok, err }, r.what .. "handshake")
      if r.check then r.check(conn, r.what) end
      local line = "round-" .. i .. "\n"
      luassert.equal(#line, conn:send(line), r.what .. "send")
      luassert(srv:wait_output(line, timeout, true), r.what .. "s_server did not print the line: " .. srv:output())
      conn:close()
    else
      luassert.same({ false, r.client_err }, { ok, err }, r.what .. "handshake")
      conn:close()
      want[r.server_err] = (want[r.server_err] or 0) + 1
      local function seen() return (M.error_counts(srv:output())[r.server_err] or 0) >= want[r.server_err] end
      local deadline = socket.gettime() + timeout
      while not seen() and socket.gettime() < deadline do socket.sleep(0.01) end
      luassert(seen(), r.what .. "s_server should report '" .. r.server_err .. "': " .. srv:output())
    end
  end
  luassert.same({ true, 0 }, { srv:wait(timeout) })
  luassert.same(want, M.error_counts(srv:output()))
end

return M
