-- spec/helpers/ports.lua - free loopback ports and bounded readiness waits.
--
--   local ports = require "spec.helpers.ports"
--   local port = ports.free()                     -- 127.0.0.1 by default
--   assert(ports.wait_listening("127.0.0.1", port, 5))   -- connects (!)
--   assert(ports.wait_bound("127.0.0.1", port, 5))       -- never connects
--   ports.listening(port)                         -- LISTEN socket right now?
--
-- wait_listening proves readiness with a real TCP connect, which a server
-- that accepts only N connections (s_server -naccept, a one-shot Lua peer)
-- counts as one of them. wait_bound only looks for a LISTEN socket in
-- /proc/net/tcp{,6} (Linux), so it consumes nothing.

local socket = require "socket"
local read_file = require("spec.helpers.process").read_file

local M = {}

local handed_out = {}     -- ports already returned by free() in this Lua state

local function is_v6(host) return host:find(":", 1, true) ~= nil end

local function tcp_for(host)
  if is_v6(host) then
    assert(socket.tcp6, "LuaSocket without IPv6 support")
    return socket.tcp6()
  end
  return socket.tcp()
end

-- free([host]) -> port. A TCP port on `host` (default 127.0.0.1) that was
-- free a moment ago; never the same port twice in one Lua state.
function M.free(host)
  host = host or "127.0.0.1"
  for _ = 1, 50 do
    local s = assert(tcp_for(host))
    s:setoption("reuseaddr", true)
    local ok, err = s:bind(host, 0)
    if not ok then s:close() error("ports.free: bind(" .. host .. ", 0): " .. tostring(err), 2) end
    local _, port = s:getsockname()
    s:close()
    port = tonumber(port)
    if port and port > 0 and not handed_out[port] then
      handed_out[port] = true
      return port
    end
  end
  error("ports.free: no fresh port on " .. host, 2)
end

-- connect_once(host, port[, timeout]) -> true | nil, err
function M.connect_once(host, port, timeout)
  local s = tcp_for(host)
  s:settimeout(timeout or 0.5)
  local ok, err = s:connect(host, port)
  s:close()
  if ok then return true end
  return nil, err
end

-- wait_listening(host, port, timeout) -> true | false, last_error
-- Polls with real TCP connects until one succeeds or `timeout` s passed.
function M.wait_listening(host, port, timeout)
  local deadline = socket.gettime() + (timeout or 5)
  local err
  repeat
    local left = deadline - socket.gettime()
    local ok
    ok, err = M.connect_once(host, port, math.max(0.05, math.min(0.5, left)))
    if ok then return true end
    socket.sleep(0.02)
  until socket.gettime() >= deadline
  return false, err
end

-- listening(port) -> true | false: a socket in LISTEN state on `port`, on
-- any local address, IPv4 or IPv6 (/proc/net/tcp and tcp6). Returns
-- nil, "no /proc/net/tcp" where /proc is not available.
function M.listening(port)
  local hex = string.format(":%04X ", tonumber(port))
  local seen = false
  for _, f in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    local data = read_file(f)
    if data then
      seen = true
      for line in data:gmatch("[^\n]+") do
        -- sl local_address rem_address st ...
        local loc, st = line:match("^%s*%d+:%s+(%x+:%x+)%s+%x+:%x+%s+(%x%x)")
        if loc and st == "0A" and (loc .. " "):find(hex, 1, true) then
          return true
        end
      end
    end
  end
  if not seen then return nil, "no /proc/net/tcp" end
  return false
end

-- wait_bound(host, port, timeout) -> true | false
-- Like wait_listening, but never connects (see the top of this file). Where
-- /proc is missing it falls back to wait_listening.
function M.wait_bound(host, port, timeout)
  local deadline = socket.gettime() + (timeout or 5)
  repeat
    local ok, err = M.listening(port)
    if ok then return true end
    if ok == nil and err then return M.wait_listening(host, port, deadline - socket.gettime()) end
    socket.sleep(0.02)
  until socket.gettime() >= deadline
  return false, "timeout"
end

return M
