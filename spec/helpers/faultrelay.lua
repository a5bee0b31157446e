-- spec/helpers/faultrelay.lua - interop/faultrelay.py as a spec peer: a
-- loopback relay in its own process that forwards TLS and injects one fault
-- (see the top of interop/faultrelay.py for the faults and how it finds
-- records).
--
--   local faultrelay = require "spec.helpers.faultrelay"
--   local defer = require("spec.helpers.peer").cleanup(finally)  -- in an `it`
--   local relay = defer(faultrelay.start(server_port, "truncate", "client"))
--   -- connect to relay.port instead of server_port ...
--
-- start(target_port, fault, toward) -> process handle with .port, once the
-- relay listens; toward = "client" (what the connecting side reads, the
-- default) or "server" (what the target reads). :stop() ends it by its pid.

local process = require "spec.helpers.process"
local certs = require "spec.helpers.certs"

local M = {}

-- The interpreter's real path: `python3` may be a wrapper (pyenv) that
-- execs another program, which process.spawn would wait for in vain.
local python
function M.python()
  if not python then
    local p = io.popen((os.getenv("SSLUA_PYTHON") or "python3") ..
                       " -c 'import sys; print(sys.executable)' 2>/dev/null")
    python = p and p:read("*l") or ""
    if p then p:close() end
    if python == "" then python = "python3" end
  end
  return python
end

function M.script()
  return certs.root() .. "/interop/faultrelay.py"
end

function M.start(target, fault, toward)
  local h = process.spawn({ M.python(), "-B", M.script(), tostring(target),
                            "--fault", fault, "--toward", toward or "client" },
                          { name = "faultrelay " .. fault, max_life = 60 })
  local ok, out = h:wait_output("LISTEN %d+", 10)
  if not ok then
    h:stop()
    error("faultrelay did not start: " .. out, 2)
  end
  h.port = tonumber(out:match("LISTEN (%d+)"))
  return h
end

return M
