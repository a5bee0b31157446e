-- spec/helpers/luapeer_main.lua CONFIG_FILE
--
-- The child program behind spec/helpers/luapeer.lua: a one-connection TLS
-- peer using whatever `require "ssl"` finds (sslua or upstream LuaSec).
-- CONFIG_FILE holds a table written by spec/helpers/serialize.lua:
--   { role = "server"|"client", host = "127.0.0.1", port = N (server: 0 = any),
--     params = { LuaSec ssl.wrap params }, servername = "sni name" (client),
--     handshake = true, timeout = per-operation seconds, deadline = overall
--     seconds, actions = { {"send", "x\n"}, {"receive", "*l"}, ... } }
--
-- Every step prints one line "RESULT <step> <v1>, <v2>, ..." where the values
-- are the step's return values as Lua literals (serialize.encode_list), then
-- "RESULT done true" at the end. Exit 0 when the script ran to its end
-- (whatever TLS did), 2 on a harness error, 3 when the overall deadline hit.
--
-- Actions (on the TLS connection unless said otherwise):
--   {"send", data}             conn:send(data)
--   {"receive", pattern [, prefix]}  conn:receive(...)
--   {"close"}                  conn:close()
--   {"sleep", seconds}         socket.sleep
--   {"settimeout", t}          conn:settimeout(t)
--   {"dohandshake"}            conn:dohandshake() (with handshake = false)
--   {"call", "method", args...} conn:method(args...); step name = method
--   {"tcp_close"}              close the raw TCP socket under TLS (abort)
--   {"print", "text"}          RESULT print "text" (a marker)

local start_clock = os.time()
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local ser = dofile(here .. "/serialize.lua")

local function result(name, ...)
  io.stdout:write("RESULT ", name, " ", ser.encode_list(...), "\n")
  io.stdout:flush()
end

local function fail(msg, code)
  result("error", tostring(msg))
  io.stdout:flush()
  os.exit(code or 2)
end

local cfg_path = arg and arg[1]
if not cfg_path then fail("usage: luapeer_main.lua CONFIG_FILE") end
local f = io.open(cfg_path, "rb")
if not f then fail("cannot open " .. tostring(cfg_path)) end
local cfg, derr = ser.decode(f:read("*a"))
f:close()
if type(cfg) ~= "table" then fail("bad config: " .. tostring(derr)) end

local socket = require "socket"
local ok_ssl, ssl = pcall(require, "ssl")
if not ok_ssl then fail("require ssl: " .. tostring(ssl)) end

local timeout = tonumber(cfg.timeout) or 5
local deadline = socket.gettime() + (tonumber(cfg.deadline) or 30)
local host = cfg.host or "127.0.0.1"
local v6 = host:find(":", 1, true) ~= nil

local function searchpath(name, path)
  if package.searchpath then return package.searchpath(name, path) end
  for tmpl in path:gmatch("[^;]+") do
    local file = tmpl:gsub("%?", (name:gsub("%.", "/")))
    local fh = io.open(file, "rb")
    if fh then fh:close() return file end
  end
  return nil
end
-- which ssl this child runs: version, ssl.lua, ssl.so
result("module", tostring(ssl._VERSION), searchpath("ssl", package.path),
  searchpath("ssl", package.cpath))

local function left()
  local l = deadline - socket.gettime()
  if l <= 0 then
    result("deadline", false, "overall deadline reached")
    os.exit(3)
  end
  return l
end
local function op_timeout() return math.min(timeout, left()) end

local conn, tcp
if cfg.role == "server" then
  local srv, err = socket.bind(host, tonumber(cfg.port) or 0)
  if not srv then fail("bind: " .. tostring(err)) end
  local _, port = srv:getsockname()
  result("listening", tonumber(port))
  srv:settimeout(math.min(tonumber(cfg.accept_timeout) or timeout * 2, left()))
  local c, aerr = srv:accept()
  srv:close()
  result("accept", c and true or nil, aerr)
  if not c then os.exit(0) end
  tcp = c
elseif cfg.role == "client" then
  local c = v6 and socket.tcp6() or socket.tcp()
  c:settimeout(op_timeout())
  local okc, cerr = c:connect(host, tonumber(cfg.port))
  result("connect", okc, cerr)
  if not okc then c:close() os.exit(0) end
  tcp = c
else
  fail("role must be server or client")
end

local werr
conn, werr = ssl.wrap(tcp, cfg.params or {})
result("wrap", conn and true or nil, werr)
if not conn then tcp:close() os.exit(0) end
conn:settimeout(op_timeout())
if cfg.servername and conn.sni then conn:sni(cfg.servername) end

if cfg.handshake ~= false then
  local hok, herr = conn:dohandshake()
  result("handshake", hok, herr)
  if not hok then
    conn:close()
    result("done", true)
    os.exit(0)
  end
end

local function pack(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack
-- pcall results -> the call's own results, or nil, "error: ..."
local function from_pcall(r)
  if not r[1] then return pack(nil, "error: " .. tostring(r[2])) end
  return pack(unpack(r, 2, r.n))
end

local handlers = {}
function handlers.send(a) return conn:send(a[2]) end
function handlers.receive(a)
  if a[3] ~= nil then return conn:receive(a[2], a[3]) end
  return conn:receive(a[2])
end
function handlers.close() return conn:close() end
function handlers.sleep(a) socket.sleep(math.min(tonumber(a[2]) or 0, left())) return true end
function handlers.settimeout(a) timeout = tonumber(a[2]) or timeout return conn:settimeout(op_timeout()) end
function handlers.dohandshake() return conn:dohandshake() end
function handlers.tcp_close() return tcp:close() end
function handlers.print(a) return a[2] end

for i, a in ipairs(cfg.actions or {}) do
  left()
  local name = a[1]
  local r
  if name == "call" then
    local m = conn[a[2]]
    if type(m) ~= "function" then
      r = pack(nil, "no method " .. tostring(a[2]))
    else
      r = from_pcall(pack(pcall(m, conn, unpack(a, 3, a.n or #a))))
    end
    name = a[2]
  elseif handlers[name] then
    if name ~= "sleep" and name ~= "close" and name ~= "tcp_close" and name ~= "print" then
      conn:settimeout(op_timeout())
    end
    r = from_pcall(pack(pcall(handlers[name], a)))
  else
    fail("action " .. i .. ": unknown action " .. tostring(name))
  end
  result(name, unpack(r, 1, r.n))
end

pcall(conn.close, conn)
result("done", true, os.time() - start_clock)
os.exit(0)
