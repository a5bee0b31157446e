-- spec/helpers/procstat.lua - what a running process holds, read from /proc
-- (Linux), and raising its descriptor limit.
--
--   local procstat = require "spec.helpers.procstat"
--   procstat.rss_kib(pid)        --> 27516   (VmRSS of /proc/<pid>/status)
--   procstat.fd_count(pid)       --> 6       (entries of /proc/<pid>/fd)
--   procstat.cpu_seconds(pid)    --> 1.42    (user + system time so far)
--   procstat.raise_nofile(pid, 4096)  --> soft limit now in force
--   procstat.nofile(pid)         --> soft, hard

local process = require "spec.helpers.process"

local M = {}

local CLOCK_TICKS = 100   -- USER_HZ: what /proc/<pid>/stat counts in on Linux

function M.rss_kib(pid)
  local status = process.read_file("/proc/" .. pid .. "/status")
  local kib = status and status:match("\nVmRSS:%s*(%d+) kB")
  return assert(tonumber(kib), "procstat: no VmRSS for pid " .. tostring(pid))
end

-- Counts the entries `ls` lists; `ls` runs in its own process, so it adds
-- no descriptor to the one counted.
function M.fd_count(pid)
  local p = assert(io.popen("ls -1 /proc/" .. tonumber(pid) .. "/fd 2>/dev/null"))
  local n = 0
  for _ in p:lines() do n = n + 1 end
  p:close()
  assert(n > 0, "procstat: no descriptors listed for pid " .. tostring(pid))
  return n
end

function M.cpu_seconds(pid)
  local stat = assert(process.read_file("/proc/" .. pid .. "/stat"),
    "procstat: no stat for pid " .. tostring(pid))
  -- after "pid (comm) " come state, ppid, ...: utime and stime are the
  -- 14th and 15th fields of the line, the 12th and 13th of this rest
  local rest = stat:match("^%d+ %(.*%) (.*)$")
  local fields = {}
  for f in rest:gmatch("%S+") do fields[#fields + 1] = f end
  return (tonumber(fields[12]) + tonumber(fields[13])) / CLOCK_TICKS
end

-- The soft and hard "Max open files" of `pid`.
function M.nofile(pid)
  local limits = process.read_file("/proc/" .. pid .. "/limits") or ""
  local soft, hard = limits:match("Max open files%s+(%S+)%s+(%S+)")
  return tonumber(soft) or math.huge, tonumber(hard) or math.huge
end

-- Raises the descriptor limit of `pid` to `want` with prlimit(1): both
-- limits when allowed (root), else the soft one up to the hard one; never
-- lowers them.
-- Returns the soft limit now in force.
function M.raise_nofile(pid, want)
  if M.nofile(pid) >= want then return (M.nofile(pid)) end
  local set = "prlimit --pid %d --nofile=%s >/dev/null 2>&1"
  if not process.execute(set:format(pid, want .. ":" .. want)) then
    local _, hard = M.nofile(pid)
    process.execute(set:format(pid, math.min(want, hard) .. ":"))
  end
  return (M.nofile(pid))
end

return M
