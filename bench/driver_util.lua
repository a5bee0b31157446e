-- bench/driver_util.lua - what the Lua benchmark drivers share.
--
-- Arguments are key=value words, like bench/ref.c's. Contexts are built
-- with the LuaSec API only (so the same driver runs over sslua and over
-- upstream LuaSec) and match ref.c's make_ctx: one TLS version, options
-- "all", server certificate chain + key, client verify = "peer" against
-- the test root. Servers print "ready port=N"; every driver ends with one
-- "result k=v ..." line.

local socket = require "socket"
local ssl = require "ssl"

local M = {}

M.CHUNK = 1024 * 1024     -- what a sender hands to one send(): 1 MiB
M.LINE_LEN = 64           -- *l lines: 63 bytes and "\n"

local DEFAULTS = { tls = "1.3", key = "rsa", certs = "build/certs", port = "0",
                   count = "1", bytes = "0", pattern = "16384", wait = "1" }

function M.args(argv)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for _, a in ipairs(argv) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if not k then error("bad argument " .. a .. " (want key=value)") end
    o[k] = v
  end
  for _, k in ipairs({ "port", "count", "bytes", "wait" }) do o[k] = tonumber(o[k]) end
  return o
end

local PROTOCOL = { ["1.2"] = "tlsv1_2", ["1.3"] = "tlsv1_3" }

function M.context(o, mode)
  local params = { mode = mode, protocol = assert(PROTOCOL[o.tls], "tls=1.2|1.3"),
                   options = "all" }
  if mode == "server" then
    params.certificate = o.certs .. "/server-" .. o.key .. "-chain.pem"
    params.key = o.certs .. "/server-" .. o.key .. ".key"
  else
    params.verify = "peer"
    params.cafile = o.certs .. "/ca.pem"
  end
  return assert(ssl.newcontext(params))
end

-- "sslua" or "luasec-<version>": the orchestrator checks it loaded the
-- implementation it meant to measure.
function M.impl()
  return ssl._IMPLEMENTATION or ("luasec-" .. tostring(ssl._VERSION))
end

function M.listen(port)
  local srv = assert(socket.bind("127.0.0.1", port, 1024))
  local _, actual = srv:getsockname()
  io.stdout:write("ready port=", actual, "\n")
  io.stdout:flush()
  return srv
end

function M.accept_tls(srv, ctx)
  local conn = assert(ssl.wrap(assert(srv:accept()), ctx))
  local ok, err = conn:dohandshake()
  if not ok then return nil, err end
  return conn
end

function M.connect_tls(port, ctx)
  local tcp = socket.tcp()
  assert(tcp:connect("127.0.0.1", port))
  local conn = assert(ssl.wrap(tcp, ctx))
  assert(conn:dohandshake())
  return conn
end

-- The negotiated protocol and cipher, for the result line.
function M.session(conn)
  local info = conn:info() or {}
  return { protocol = info.protocol, cipher = info.cipher }
end

-- A stopwatch: wall seconds (socket.gettime) and process CPU seconds
-- (os.clock, user + system).
function M.stopwatch()
  local w0, c0 = socket.gettime(), os.clock()
  return function() return socket.gettime() - w0, os.clock() - c0 end
end

-- Resident set size in bytes after a full collection (garbage is not
-- what a connection costs).
function M.rss()
  collectgarbage("collect")
  collectgarbage("collect")
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("*n", "*n")
  f:close()
  return resident * 4096
end

-- 1 MiB of 64-byte lines: the same bytes bench/ref.c sends (byte i is
-- "\n" at the end of each line, else letter i mod 26; period 832 = 64 * 13).
function M.line_chunk()
  local period = {}
  for i = 0, 831 do
    period[i + 1] = (i % M.LINE_LEN == M.LINE_LEN - 1) and "\n" or string.char(97 + i % 26)
  end
  local reps = math.ceil(M.CHUNK / 832)
  return (table.concat(period):rep(reps)):sub(1, M.CHUNK)
end

function M.result(fields)
  local keys, out = {}, { "result" }
  for k in pairs(fields) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = fields[k]
    if type(v) == "number" and v ~= math.floor(v) then v = ("%.6f"):format(v) end
    out[#out + 1] = k .. "=" .. tostring(v)
  end
  io.stdout:write(table.concat(out, " "), "\n")
  io.stdout:flush()
end

return M
