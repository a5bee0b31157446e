-- spec/helpers/loadclient.lua - drives spec/helpers/loadclient_main.lua:
-- many concurrent non-blocking TLS clients in one Lua process of its own,
-- stepped by commands so that the spec can measure the server in between.
--
--   local loadclient = require "spec.helpers.loadclient"
--   local cli = defer(loadclient.start(srv.port))
--   cli:open(1000, 1)   --> { ok = 1000, fail = 0, secs = 2.1 }  (kept open)
--   cli:close(1)        --> { n = 1000 }
--   cli:stall(30)       --> { ok = 30, fail = 0 }
--   cli:normal(50)      --> { ok = 50, fail = 0, secs = .. }, { open = 30, closed = 0 }
--   cli:await(10)       --> { open = 0, closed = 30, min_age = 2.0 }
--
-- Each call waits for the child's one-line answer (loadserver.WAIT s at
-- most) and returns its key=value fields; a missing answer is an error
-- carrying the child's output.

local process = require "spec.helpers.process"
local procstat = require "spec.helpers.procstat"
local certs = require "spec.helpers.certs"
local luapeer = require "spec.helpers.luapeer"
local loadserver = require "spec.helpers.loadserver"

local M = {}

M.WINDOW = 32    -- clients connecting or handshaking at a time

local fields = loadserver.fields

local methods = {}

-- Sends one command and returns the fields of the answer starting `reply`.
function methods:ask(command, reply)
  self:write(command .. "\n")
  local pattern = "\n" .. reply .. "([^\n]*)\n"
  local ok, out = self:wait_output(pattern, loadserver.WAIT)
  if not ok then error("loadclient: no answer '" .. reply .. "' to '" .. command ..
    "'; output:\n" .. out, 2) end
  return fields(out:match(pattern))
end

function methods:open(n, round)  return self:ask(("open %d %d"):format(n, round), "OPENED " .. round .. " ") end
function methods:close(round)    return self:ask("close " .. round, "CLOSED " .. round .. " ") end
function methods:stall(k)        return self:ask("stall " .. k, "STALLED ") end
function methods:await(limit)    return self:ask("await " .. limit, "AWAITED ") end

-- -> the NORMAL fields, then the STALLERS fields (stallers seen right after)
function methods:normal(m)
  local r = self:ask("normal " .. m, "NORMAL ")
  local ok, out = self:wait_output("\nSTALLERS [^\n]*\n", loadserver.WAIT)
  assert(ok, "loadclient: no STALLERS line; output:\n" .. out)
  return r, fields(out:match("\nSTALLERS ([^\n]*)\n"))
end

-- start(port, opts) -> handle; opts.window, opts.fd_limit.
function M.start(port, opts)
  opts = opts or {}
  local argv = {
    luapeer.interpreter(), certs.root() .. "/spec/helpers/loadclient_main.lua",
    "127.0.0.1", tostring(port), certs.path("ca.pem"), tostring(opts.window or M.WINDOW),
  }
  local h = process.spawn(argv, { stdin_fifo = true, name = "loadclient", env = luapeer.env(),
                                  max_life = opts.max_life or 900 })
  for name, fn in pairs(methods) do h[name] = fn end
  h.fd_limit = procstat.raise_nofile(h.pid, opts.fd_limit or loadserver.FD_LIMIT)
  -- Answers are matched after a newline: READY comes first.
  local ok, out = h:wait_output("READY\n", 10, true)
  if not ok then
    h:stop()
    error("loadclient did not start: " .. out, 2)
  end
  return h
end

return M
