-- Slow loris: clients that stall mid-handshake must not block
-- the others. The select-loop server (spec/helpers/loadserver_main.lua)
-- gives every connection a handshake deadline; stallers of three kinds
-- connect first - "silent" (send nothing), "partial" (half a ClientHello),
-- "hello" (a whole ClientHello, then never answer the server's flight) -
-- and while they hang, normal clients must all complete handshake + echo.
-- The stallers must still be open when the normal clients are done, and
-- be closed by the server at their deadline, not before.
--
-- Knobs (CI defaults; `make load` raises them):
--   LOAD_STALLERS (30), LOAD_NORMAL (50), LOAD_DEADLINE seconds (3)

local helpers = require "spec.helpers.peer"
local loadserver = require "spec.helpers.loadserver"
local loadclient = require "spec.helpers.loadclient"
local socket = require "socket"

local STALLERS = tonumber(os.getenv("LOAD_STALLERS")) or 30
local NORMAL = tonumber(os.getenv("LOAD_NORMAL")) or 50
local DEADLINE = tonumber(os.getenv("LOAD_DEADLINE")) or 3

-- Polls until the server holds `want` descriptors (or `limit` s passed);
-- returns the last count.
local function wait_fds(srv, want, limit)
  local stop = socket.gettime() + limit
  local n = srv:fds()
  while n ~= want and socket.gettime() < stop do
    socket.sleep(0.02)
    n = srv:fds()
  end
  return n
end

describe("slow loris", function()
  after_each(helpers.process.stop_all)

  it(("%d stalled handshakes do not hold up %d normal clients; the server drops them at its %g s deadline")
     :format(STALLERS, NORMAL, DEADLINE), function()
    local defer = helpers.cleanup(finally)
    local srv = defer(loadserver.start({ deadline = DEADLINE }))
    local cli = defer(loadclient.start(srv.port))
    local base_fds = srv:fds()

    assert.same({ ok = STALLERS, fail = 0 }, cli:stall(STALLERS))
    -- every staller accepted: the server is now waiting on all of them
    assert.equal(base_fds + STALLERS, wait_fds(srv, base_fds + STALLERS, 10))

    local normal, stallers = cli:normal(NORMAL)
    assert.same({ ok = NORMAL, fail = 0 }, { ok = normal.ok, fail = normal.fail },
      "normal clients failed: " .. tostring(normal.err))
    -- seen by the client right after its last normal connection closed
    assert.same({ open = STALLERS, closed = 0 }, stallers)

    local awaited = cli:await(DEADLINE + 30)
    assert.same({ open = 0, closed = STALLERS }, { open = awaited.open, closed = awaited.closed })
    assert.is_true(awaited.min_age >= DEADLINE, "a staller was closed after only " .. awaited.min_age .. " s")

    local drops = srv:lines("DROP")
    assert.equal(STALLERS, #drops)
    for _, line in ipairs(drops) do
      local age = tonumber(line:match("^DROP deadline age=([%d.]+)$"))
      assert.is_true(age ~= nil and age >= DEADLINE, line)
    end
    local idle = srv:wait_idle(1)
    assert.same({ accepted = STALLERS + NORMAL, echoed = NORMAL, failed = 0, dropped = STALLERS, refused = 0 },
      { accepted = idle.accepted, echoed = idle.echoed, failed = idle.failed,
        dropped = idle.dropped, refused = idle.refused })
    assert.equal(base_fds, srv:fds())
    print(("\n[slowloris] %d stallers, %d normal clients: normal done in %.2f s while all stallers hung; " ..
           "stallers closed by the server after %.2f s (deadline %g s); server fds %d at rest")
      :format(STALLERS, NORMAL, normal.secs, awaited.min_age, DEADLINE, base_fds))
    assert.same({ true, 0 }, { srv:quit() })
  end)
end)
