-- interop/sslua_peer.lua - the sslua side of every interop case.
--
--   lua sslua_peer.lua client --port N [--flag value]...
--       one connection; prints one line:  RESULT {json}
--   lua sslua_peer.lua server [--flag value]...
--       prints  LISTEN {"port":N}  (or SETUP {json} when the context cannot
--       be made), then serves connections one after another, printing one
--       RESULT {json} per connection, until it is killed or --count is reached.
--
-- Flags (lists are comma-separated):
--   --host H --port N          where to connect / listen (127.0.0.1, 0)
--   --protocol P --options a,b --ciphers S --ciphersuites S --curves S
--   --protocol-min P --protocol-max P   protocol = {min = P, max = P}
--   --cert F --key F --cafile F --verify a,b --verifyext a,b --depth N
--   --verifyhost NAME          the name the peer certificate must carry
--   --dhparam F                server: a LuaSec dhparam function returning F
--   --sessioncache 1           server: sessioncache = true (where it exists)
--   --alpn a,b                 client: offer; server: accept, in this order
--   --sni NAME                 client: server name to send
--   --checkhost NAME           client: application host check of the peer cert
--   --io blocking|nonblocking  blocking sockets with a timeout, or
--                              settimeout(0) and socket.select
--   --send MSG --expect REPLY  client: line sent and line expected back
--                              (the server replies with the line reversed)
--   --drain 1                  client: after the reply, read on and report
--                              whether the server closed with close_notify
--   --resume 1                 client: connect again, resuming the session
--   --timeout S --count N
--
-- A parameter or method the module does not have makes the result
-- "unavailable" (never "fail"), so a run can go ahead of the module.
--
-- Result fields: status ("ok", "fail", "unavailable"), stage ("setup",
-- "connect", "handshake", "send", "receive", "resume"), error, version,
-- cipher, alpn, sni, peer_cert (OU of the peer's certificate), hostcheck,
-- resumed, close, local_port / peer_port.

local socket = require "socket"

------------------------------------------------------------------------------
-- JSON output (strings, numbers, booleans, flat tables)
------------------------------------------------------------------------------

local function json_string(s)
  s = tostring(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    return ("\\u%04x"):format(c:byte())
  end)
  return '"' .. s .. '"'
end

local function json(value)
  local t = type(value)
  if t == "string" then return json_string(value) end
  if t == "number" or t == "boolean" then return tostring(value) end
  if t == "nil" then return "null" end
  if t == "table" then
    if #value > 0 then
      local parts = {}
      for i, v in ipairs(value) do parts[i] = json(v) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(value) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = json_string(k) .. ":" .. json(value[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return json_string(tostring(value))
end

local function emit(tag, tbl)
  io.stdout:write(tag, " ", json(tbl), "\n")
  io.stdout:flush()
end

------------------------------------------------------------------------------
-- arguments
------------------------------------------------------------------------------

local function split(s)
  local list = {}
  if s == nil or s == "" then return list end
  for item in (s .. ","):gmatch("([^,]*),") do
    if item ~= "" then list[#list + 1] = item end
  end
  return list
end

local role = arg[1]
local cfg = {}
do
  local i = 2
  while i <= #arg do
    local name = arg[i]:match("^%-%-(.+)$")
    if not name then
      io.stderr:write("sslua_peer: unexpected argument ", arg[i], "\n")
      os.exit(2)
    end
    cfg[name] = arg[i + 1] or ""
    i = i + 2
  end
end
if role ~= "client" and role ~= "server" then
  io.stderr:write("usage: lua sslua_peer.lua client|server [--flag value]...\n")
  os.exit(2)
end

local TIMEOUT = tonumber(cfg.timeout) or 10
local NONBLOCKING = cfg.io == "nonblocking"

------------------------------------------------------------------------------
-- the module and what it offers
------------------------------------------------------------------------------

local ok_ssl, ssl = pcall(require, "ssl")
if not ok_ssl then
  emit(role == "server" and "SETUP" or "RESULT",
       { status = "fail", stage = "setup", error = "cannot load ssl: " .. tostring(ssl) })
  os.exit(0)
end
local context = require "ssl.context"

-- Parameters that need module support which may not have landed yet.
local function missing_features()
  local missing = {}
  if cfg.curves and type(context.setcurveslist) ~= "function" then
    missing[#missing + 1] = "curveslist"
  end
  if cfg.alpn and type(context.setalpn) ~= "function" then
    missing[#missing + 1] = "alpn"
  end
  if (cfg["protocol-min"] or cfg["protocol-max"])
     and type(context.setprotocolrange) ~= "function" then
    missing[#missing + 1] = "protocol range"
  end
  if cfg.verifyhost and type(context.setverifyhost) ~= "function" then
    missing[#missing + 1] = "verifyhost"
  end
  return missing
end

-- Methods on the connection object, checked once a connection exists.
local function missing_methods(conn)
  local missing = {}
  if role == "client" and cfg.sni and type(conn.sni) ~= "function" then
    missing[#missing + 1] = "sni"
  end
  if role == "client" and cfg.resume and (type(conn.getsession) ~= "function"
     or type(conn.setsession) ~= "function") then
    missing[#missing + 1] = "client session resumption"
  end
  return missing
end

local function params()
  local p = {
    mode        = role,
    protocol    = cfg.protocol or "any",
    key         = cfg.key,
    certificate = cfg.cert,
    cafile      = cfg.cafile,
    ciphers     = cfg.ciphers,
    ciphersuites = cfg.ciphersuites,
    curveslist  = cfg.curves,
    depth       = tonumber(cfg.depth),
  }
  if cfg.options then p.options = split(cfg.options) end
  if cfg.verify then p.verify = split(cfg.verify) end
  if cfg.verifyext then p.verifyext = split(cfg.verifyext) end
  if cfg.alpn then p.alpn = split(cfg.alpn) end
  if cfg["protocol-min"] or cfg["protocol-max"] then
    p.protocol = { min = cfg["protocol-min"], max = cfg["protocol-max"] }
  end
  p.verifyhost = cfg.verifyhost
  if cfg.sessioncache and type(context.setsessioncache) == "function" then
    p.sessioncache = true
  end
  if cfg.dhparam then
    local f = assert(io.open(cfg.dhparam))
    local pem = f:read("*a")
    f:close()
    p.dhparam = function() return pem end
  end
  return p
end

------------------------------------------------------------------------------
-- I/O, blocking or not
------------------------------------------------------------------------------

local function deadline() return socket.gettime() + TIMEOUT end

-- Waits until `conn` can go on after `err`; nil, message when it cannot.
local function wait(conn, err, stop)
  if err ~= "wantread" and err ~= "wantwrite" and err ~= "timeout" then
    return nil, err
  end
  if not NONBLOCKING then return nil, err end   -- the timeout ran out
  local left = stop - socket.gettime()
  if left <= 0 then return nil, "timeout (non-blocking loop)" end
  if err == "wantwrite" then
    socket.select(nil, { conn }, left)
  else
    socket.select({ conn }, nil, left)
  end
  return true
end

local function handshake(conn)
  local stop = deadline()
  while true do
    local ok, err = conn:dohandshake()
    if ok then return true end
    local go, why = wait(conn, err, stop)
    if not go then return nil, why end
  end
end

local function send_all(conn, data)
  local stop, i = deadline(), 1
  while i <= #data do
    local last, err, partial = conn:send(data, i)
    if last then
      i = last + 1
    else
      i = (partial or i - 1) + 1
      local go, why = wait(conn, err, stop)
      if not go then return nil, why end
    end
  end
  return true
end

local function receive_line(conn)
  local stop, got = deadline(), ""
  while true do
    local line, err, partial = conn:receive("*l", got)
    if line then return line end
    got = partial or got
    local go, why = wait(conn, err, stop)
    if not go then return nil, why end
  end
end

local function set_mode(conn)
  if NONBLOCKING then conn:settimeout(0) else conn:settimeout(TIMEOUT) end
end

------------------------------------------------------------------------------
-- what a connection negotiated
------------------------------------------------------------------------------

local function cert_ou(cert)
  if not cert then return nil end
  local ok, subject = pcall(cert.subject, cert)
  if not ok or type(subject) ~= "table" then return nil end
  for _, entry in ipairs(subject) do
    if entry.oid == "2.5.4.11" or entry.name == "organizationalUnitName" then
      return entry.value
    end
  end
  return nil
end

local function describe(conn, result)
  local info = conn:info() or {}
  result.version = info.protocol
  result.cipher = info.cipher
  if type(conn.getalpn) == "function" then
    local ok, proto = pcall(conn.getalpn, conn)
    if ok and proto then result.alpn = proto end
  end
  if role == "server" and type(conn.getsniname) == "function" then
    local ok, name = pcall(conn.getsniname, conn)
    if ok and name then result.sni = name end
  end
  if type(conn.sessionreused) == "function" then
    local ok, reused = pcall(conn.sessionreused, conn)
    if ok and type(reused) == "boolean" then result.resumed = reused end
  end
  local cert = conn:getpeercertificate()
  result.peer_cert = cert_ou(cert)
  if cfg.checkhost and cert then
    local check = cfg.checkhost:match("^[%d.]+$") and cert.checkip or cert.checkhost
    local ok, match = pcall(check, cert, cfg.checkhost)
    result.hostcheck = (ok and match) and "match" or "mismatch"
  end
end

local function fail(result, stage, err)
  result.status = "fail"
  result.stage = stage
  result.error = tostring(err)
  return result
end

------------------------------------------------------------------------------
-- client
------------------------------------------------------------------------------

-- One client connection; `session` (from an earlier one) is offered for
-- resumption. Returns the result and the session to resume next time.
local function connect_once(ctx, session)
  local result = {}
  local tcp = socket.tcp()
  tcp:settimeout(TIMEOUT)
  local ok, err = tcp:connect(cfg.host or "127.0.0.1", tonumber(cfg.port))
  if not ok then return fail(result, "connect", err) end
  local _, lport = tcp:getsockname()
  result.local_port = tonumber(lport)
  local conn
  conn, err = ssl.wrap(tcp, ctx)
  if not conn then return fail(result, "setup", err) end
  local missing = missing_methods(conn)
  if #missing > 0 then
    conn:close()
    result.status, result.stage = "unavailable", "setup"
    result.error = "module lacks " .. table.concat(missing, ",")
    return result
  end
  if cfg.sni then conn:sni(cfg.sni) end
  if session then
    ok, err = conn:setsession(session)
    if not ok then conn:close(); return fail(result, "setup", "setsession: " .. tostring(err)) end
  end
  set_mode(conn)
  ok, err = handshake(conn)
  if not ok then conn:close(); return fail(result, "handshake", err) end
  describe(conn, result)
  ok, err = send_all(conn, (cfg.send or "ping") .. "\n")
  if not ok then conn:close(); return fail(result, "send", err) end
  local line
  line, err = receive_line(conn)
  local next_session
  if cfg.resume and type(conn.getsession) == "function" then
    next_session = conn:getsession()
  end
  if line and cfg.drain then
    -- the server closes after its reply: is there a close_notify?
    local more, why = receive_line(conn)
    result.close = (not more and why == "closed") and "close_notify"
                   or ("no close_notify: " .. tostring(more and "more data" or why))
  end
  conn:close()
  if not line then return fail(result, "receive", err) end
  if cfg.expect and line ~= cfg.expect then
    return fail(result, "receive", ("unexpected reply %q"):format(line))
  end
  result.status = "ok"
  return result, next_session
end

local function run_client()
  local missing = missing_features()
  if #missing > 0 then
    return { status = "unavailable", stage = "setup",
             error = "module lacks " .. table.concat(missing, ",") }
  end
  local ctx, err = ssl.newcontext(params())
  if not ctx then return fail({}, "setup", err) end
  local result, session = connect_once(ctx)
  if not cfg.resume or result.status ~= "ok" then return result end
  if not session then
    return fail(result, "resume", "no resumable session after the first connection")
  end
  result = connect_once(ctx, session)
  result.connections = 2
  return result
end

------------------------------------------------------------------------------
-- server
------------------------------------------------------------------------------

local function serve_one(ctx, client)
  local result = {}
  local _, pport = client:getpeername()
  result.peer_port = tonumber(pport)
  local conn, err = ssl.wrap(client, ctx)
  if not conn then return fail(result, "setup", err) end
  set_mode(conn)
  local ok
  ok, err = handshake(conn)
  if not ok then conn:close(); return fail(result, "handshake", err) end
  describe(conn, result)
  local line
  line, err = receive_line(conn)
  if not line then conn:close(); return fail(result, "receive", err) end
  ok, err = send_all(conn, line:reverse() .. "\n")
  conn:close()
  if not ok then return fail(result, "send", err) end
  result.status = "ok"
  return result
end

local function accept(server)
  if NONBLOCKING then
    while true do
      socket.select({ server }, nil, 1)
      local client, err = server:accept()
      if client then return client end
      if err ~= "timeout" then return nil, err end
    end
  end
  server:settimeout(nil)
  return server:accept()
end

local function run_server()
  local missing = missing_features()
  if #missing > 0 then
    emit("SETUP", { status = "unavailable", stage = "setup",
                    error = "module lacks " .. table.concat(missing, ",") })
    return
  end
  local ctx, err = ssl.newcontext(params())
  if not ctx then
    emit("SETUP", { status = "fail", stage = "setup", error = tostring(err) })
    return
  end
  local server = assert(socket.bind(cfg.host or "127.0.0.1", tonumber(cfg.port) or 0))
  local _, port = server:getsockname()
  if NONBLOCKING then server:settimeout(0) end
  emit("LISTEN", { port = tonumber(port) })
  local count = tonumber(cfg.count)
  local served = 0
  while not count or served < count do
    local client, aerr = accept(server)
    if client then
      client:settimeout(TIMEOUT)
      emit("RESULT", serve_one(ctx, client))
      served = served + 1
    else
      emit("RESULT", { status = "fail", stage = "accept", error = tostring(aerr) })
      served = served + 1
    end
  end
  server:close()
end

if role == "client" then emit("RESULT", run_client()) else run_server() end
