-- interop/faultpeer.lua - sslua's side of one fault-matrix case (faults.py).
--
--   lua faultpeer.lua client --port N [--flag value]...
--   lua faultpeer.lua server [--flag value]...   prints LISTEN <port> first
--
-- One connection, then one line:  RESULT {json}
--
-- Flags:
--   --io blocking|nonblocking   settimeout(T), or settimeout(0) + socket.select
--   --timeout T                 seconds without progress before giving up (1)
--   --op read|readall|write     read: send "go\n" (the peer starts then, so
--                               our handshake is over), receive --size
--                               bytes, then read on to see how it ends;
--                               readall: the same with one receive("*a");
--                               write: send --size bytes
--   --size N                    payload bytes (the pattern of payload())
--   --protocol P                tlsv1_2 | tlsv1_3
--   --cert F --key F            server identity
--   --cafile F                  client: verify the server against it
--
-- Result fields: stage (where it ended: "handshake", "request", "receive",
-- "close" = the read after the payload, "send", "done" = sent all or
-- "*a" returned), error (the
-- module's own last error text, nil when none), data ("full" when all
-- --size bytes came back intact, "prefix" when a shorter part came that is
-- a prefix of the payload, "corrupt" otherwise), got / sent (bytes), and
-- close (read: what the read after the payload returned).

local socket = require "socket"
local ssl = require "ssl"

local function json(t)
  local keys, parts = {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == "string" then
      v = '"' .. v:gsub('[%c"\\]', function(c) return ("\\u%04x"):format(c:byte()) end) .. '"'
    end
    parts[#parts + 1] = ('"%s":%s'):format(k, tostring(v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local role, cfg = arg[1], {}
for i = 2, #arg, 2 do
  cfg[assert(arg[i]:match("^%-%-(.+)$"), "bad flag " .. arg[i])] = arg[i + 1]
end

local TIMEOUT = tonumber(cfg.timeout) or 1
local NONBLOCKING = cfg.io == "nonblocking"
local SIZE = tonumber(cfg.size) or 40000
local ALL = cfg.op == "readall"

-- The payload both sides agree on: no newline, so a count reads it.
local function payload(n)
  local unit = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  return unit:rep(math.ceil(n / #unit)):sub(1, n)
end

------------------------------------------------------------------------------
-- operations that wait: blocking with a timeout, or select()

-- After a wantread/wantwrite: true to go on, false when T passed without
-- progress (blocking: the module's own timeout already ran out).
-- After a wantread/wantwrite: the time of the last progress to go on
-- with, or nil when T passed without the socket becoming ready (blocking:
-- the module's own timeout already ran out).
local function wait(conn, err, since)
  if not NONBLOCKING or (err ~= "wantread" and err ~= "wantwrite") then return nil end
  local left = since + TIMEOUT - socket.gettime()
  if left <= 0 then return nil end
  local r, w = socket.select(err == "wantread" and { conn } or nil,
                             err == "wantwrite" and { conn } or nil, left)
  return #r + #w > 0 and socket.gettime() or since
end

local function handshake(conn)
  local since = socket.gettime()
  while true do
    local ok, err = conn:dohandshake()
    if ok then return true end
    since = wait(conn, err, since)
    if not since then return nil, err end
  end
end

local function send_all(conn, data)
  local i, since = 1, socket.gettime()
  while true do
    local last, err, partial = conn:send(data, i)
    if last then return #data end
    i = partial + 1
    since = wait(conn, err, since)
    if not since then return nil, err, partial end
  end
end

-- A count or "*l", with LuaSocket's prefix idiom across retries.
local function receive(conn, pattern)
  local got, since = "", socket.gettime()
  while true do
    local data, err, partial = conn:receive(pattern, got)
    if data then return data end
    got = partial
    since = wait(conn, err, since)
    if not since then return nil, err, got end
  end
end

------------------------------------------------------------------------------
-- one connection

local function judge(data, expected)
  if data == expected then return "full" end
  if data == expected:sub(1, #data) then return "prefix" end
  return "corrupt"
end

local function read_side(conn, result)
  local ok, why = send_all(conn, "go\n")
  if not ok then result.stage, result.error = "request", why return end
  local data, err, partial = receive(conn, ALL and "*a" or SIZE)
  data = data or partial
  result.got, result.data = #data, judge(data, payload(SIZE))
  if err then result.stage, result.error = "receive", err return end
  if ALL then result.stage = "done" return end
  local more
  more, why = receive(conn, "*l")
  result.stage, result.error = "close", why
  result.close = more and ("data: " .. #more .. " bytes") or why
end

local function write_side(conn, result)
  local sent, err, partial = send_all(conn, payload(SIZE))
  result.sent = math.floor(sent or partial)
  result.stage, result.error = err and "send" or "done", err
end

local function run(tcp)
  local result = {}
  local p = { mode = role, protocol = cfg.protocol or "any",
              certificate = cfg.cert, key = cfg.key, cafile = cfg.cafile,
              verify = cfg.cafile and "peer" or "none" }
  local conn, err = ssl.wrap(tcp, p)
  if not conn then return { stage = "setup", error = tostring(err) } end
  conn:settimeout(NONBLOCKING and 0 or TIMEOUT)
  local ok
  ok, err = handshake(conn)
  if not ok then
    result.stage, result.error = "handshake", err
  elseif cfg.op == "write" then
    write_side(conn, result)
  else
    read_side(conn, result)
  end
  conn:close()
  return result
end

local function connect()
  local tcp = socket.tcp()
  tcp:settimeout(10)
  local ok, err = tcp:connect("127.0.0.1", tonumber(cfg.port))
  if not ok then return nil, err end
  return tcp
end

local function accept()
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  io.stdout:write("LISTEN ", port, "\n")
  io.stdout:flush()
  server:settimeout(10)
  local tcp, err = server:accept()
  server:close()
  return tcp, err
end

local tcp, err = (role == "server" and accept or connect)()
local result = tcp and run(tcp) or { stage = "connect", error = tostring(err) }
io.stdout:write("RESULT ", json(result), "\n")
io.stdout:flush()
