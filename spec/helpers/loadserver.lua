-- spec/helpers/loadserver.lua - the select-loop TLS echo server of the load
-- and slow-loris specs (spec/helpers/loadserver_main.lua), in a process of
-- its own, so that its descriptors and memory can be measured from outside.
--
--   local loadserver = require "spec.helpers.loadserver"
--   local srv = defer(loadserver.start({ deadline = 2 }))  -- ECDSA identity
--   srv.port, srv.pid, srv.fd_limit
--   srv:fds(), srv:rss_kib(), srv:cpu_seconds()     -- from /proc/<pid>
--   local idle = srv:wait_idle(1)   --> { accepted = n, echoed = n, ... }
--   srv:lines("DROP")               --> every DROP line so far
--   srv:quit()                      --> true, exit code (0: clean exit)
--
-- The child runs with the same interpreter and module paths as luapeer
-- children (luapeer.env), and with its descriptor limit raised to fd_limit
-- (default 4096) before any client connects.

local process = require "spec.helpers.process"
local procstat = require "spec.helpers.procstat"
local certs = require "spec.helpers.certs"
local luapeer = require "spec.helpers.luapeer"

local M = {}

M.FD_LIMIT = 4096
M.WAIT = 120   -- seconds any awaited line may take before the spec fails

-- "a=1 b=x" -> { a = 1, b = "x" } (numbers where they are numbers)
function M.fields(line)
  local t = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do t[k] = tonumber(v) or v end
  return t
end

local methods = {}

function methods:fds() return procstat.fd_count(self.pid) end
function methods:rss_kib() return procstat.rss_kib(self.pid) end
function methods:cpu_seconds() return procstat.cpu_seconds(self.pid) end

-- Every output line starting with `word`, in order.
function methods:lines(word)
  local t = {}
  for line in self:output():gmatch("[^\n]+") do
    if line:sub(1, #word + 1) == word .. " " then t[#t + 1] = line end
  end
  return t
end

-- Waits for the n-th IDLE line; returns its fields. Errors after M.WAIT s.
function methods:wait_idle(n, timeout)
  local ok, out = self:wait_output("\nIDLE " .. n .. " [^\n]*\n", timeout or M.WAIT)
  if not ok then error("loadserver: no IDLE " .. n .. " line; output:\n" .. out, 2) end
  return M.fields(out:match("\nIDLE " .. n .. " ([^\n]*)\n"))
end

-- Asks the server to end; returns what process:wait returns.
function methods:quit(timeout)
  self:write("quit\n")
  return self:wait(timeout or 10)
end

-- start(opts) -> handle; opts.deadline: handshake deadline in seconds
-- (0/nil: none), opts.fd_limit, opts.env, opts.max_life.
function M.start(opts)
  opts = opts or {}
  local argv = {
    luapeer.interpreter(), certs.root() .. "/spec/helpers/loadserver_main.lua",
    certs.path("server-ecdsa-chain.pem"), certs.path("server-ecdsa.key"),
    tostring(opts.deadline or 0),
  }
  local h = process.spawn(argv, { stdin_fifo = true, name = "loadserver",
                                  env = luapeer.env(opts.env), max_life = opts.max_life or 900 })
  for name, fn in pairs(methods) do h[name] = fn end
  h.fd_limit = procstat.raise_nofile(h.pid, opts.fd_limit or M.FD_LIMIT)
  local ok, out = h:wait_output("READY (%d+)", 10)
  if not ok then
    h:stop()
    error("loadserver did not start: " .. out, 2)
  end
  h.port = tonumber(out:match("READY (%d+)"))
  return h
end

return M
