-- spec/helpers/process.lua - start, watch and stop background processes.
--
-- Plain Lua 5.1-5.4 / LuaJIT, LuaSocket and the standard library only; the
-- work is done by /bin/sh and coreutils (mktemp, mkfifo, kill, sleep).
--
--   local process = require "spec.helpers.process"
--   local p = process.spawn({ "openssl", "version" })
--   local ok, code = p:wait(5)     --> true, 0
--   print(p:output())              --> "OpenSSL 3.0..."
--   p:stop()                       -- always; idempotent, removes temp files
--
-- How it works: a detached monitor shell runs
--     sh -c 'echo $$ > DIR/pid; exec setsid "$@"' sh ARGV... <STDIN >DIR/out 2>&1
-- in the background, so DIR/pid holds the real pid of the program (setsid(1)
-- does not fork here: it makes the program the leader of a new session and
-- process group, which :stop() signals as a whole, children included), then
-- waits for it and writes its exit status (128+N when killed by signal N) to
-- DIR/status. A watchdog in the monitor kills the program with SIGKILL after
-- opts.max_life seconds (default 300, 0 = never) so that nothing outlives a
-- crashed test run for long. Every argument is single-quoted for the shell.
--
-- With opts.stdin_fifo the program's stdin is a named FIFO. The monitor keeps
-- a `sleep` holding the FIFO open read-write, so the program does not see EOF
-- between writes; :write(s) opens the FIFO read-write (never blocks), writes
-- and closes it; :close_stdin() ends the holder, after which the program reads
-- EOF. Keep what is outstanding (written but not yet read) under the pipe size
-- (64 KiB on Linux), or :write blocks until the program reads.

local socket = require "socket"

local M = {}

M.DEFAULT_MAX_LIFE = 300
M.START_TIMEOUT = 10      -- seconds to wait for the pid file
M.STOP_GRACE = 3          -- seconds between SIGTERM and SIGKILL

local live = {}           -- handle -> true, for M.stop_all()
local history = {}        -- every handle ever spawned, in order

local function quote(s)
  s = tostring(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
M.quote = quote

local function shell_join(argv)
  local t = {}
  for i = 1, #argv do t[i] = quote(argv[i]) end
  return table.concat(t, " ")
end
M.shell_join = shell_join

-- os.execute returns a number on 5.1/LuaJIT (without 5.2 compat) and
-- true|nil, "exit"|"signal", code on 5.2+.
local function execute(cmd)
  local a, b, c = os.execute(cmd)
  if type(a) == "number" then
    if a > 255 then a = math.floor(a / 256) end
    return a == 0, a
  end
  if b == "exit" then return a == true, c end
  return false, 128 + (c or 0)
end
M.execute = execute

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
M.read_file = read_file

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  f:close()
end
M.write_file = write_file

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function now() return socket.gettime() end

-- run(argv, seconds[, stdin_file]) -> everything the command printed
-- (stdout and stderr), for short commands that read local files only; the
-- command is killed after `seconds`.
function M.run(argv, seconds, stdin_file)
  local cmd = "timeout " .. tostring(seconds) .. " " .. shell_join(argv) ..
    (stdin_file and (" <" .. quote(stdin_file)) or " </dev/null") .. " 2>&1"
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

-- Creates a private temporary directory (mode 0700) and returns its path.
function M.mktempdir(prefix)
  local p = io.popen("mktemp -d " .. quote("/tmp/" .. (prefix or "sslua-spec") .. ".XXXXXXXX") .. " 2>/dev/null")
  local dir = p and p:read("*l")
  if p then p:close() end
  if not dir or dir == "" then error("process: mktemp -d failed", 2) end
  return dir
end

function M.rmtree(dir)
  -- only ever our own mktemp directories
  if type(dir) == "string" and dir:match("^/tmp/[%w%-%._]+$") then
    execute("rm -rf " .. quote(dir) .. " >/dev/null 2>&1")
  end
end

-- Is `pid` a live (non-zombie) process? Linux /proc first, kill -0 otherwise.
function M.pid_alive(pid)
  pid = tonumber(pid)
  if not pid or pid <= 1 then return false end
  local stat = read_file("/proc/" .. pid .. "/stat")
  if stat then
    local state = stat:match("^%d+ %(.*%) (%a)")
    return state ~= nil and state ~= "Z" and state ~= "X"
  end
  if exists("/proc/self/stat") then return false end   -- /proc works: pid gone
  return (execute("kill -0 " .. pid .. " >/dev/null 2>&1"))
end

local function signal(pid, sig)
  pid = tonumber(pid)
  if not pid or pid <= 1 then return false end
  return (execute("kill -" .. sig .. " " .. pid .. " >/dev/null 2>&1"))
end
M.signal = signal

-- Process group id of `pid` (Linux /proc), or nil.
function M.pgid(pid)
  local stat = read_file("/proc/" .. tostring(pid) .. "/stat")
  return stat and tonumber(stat:match("^%d+ %(.*%) %a %d+ (%d+)")) or nil
end

-- Signals the process group `pgid` (the program and its children, as the
-- program runs in a session of its own when setsid(1) exists).
local function signal_group(pgid, sig)
  pgid = tonumber(pgid)
  if not pgid or pgid <= 1 then return false end
  return (execute("kill -" .. sig .. " -" .. pgid .. " >/dev/null 2>&1"))
end

-- The monitor: $1 = dir, $2 = max life (0 = none), $3 = stdin mode, rest = argv.
local MONITOR = [[
d=$1; life=$2; mode=$3; shift 3
h=
case $mode in
  fifo) if [ "$life" -gt 0 ]; then hl=$((life + 5)); else hl=infinity; fi
        sleep "$hl" 3<>"$d/stdin" & h=$!
        echo "$h" > "$d/holder.tmp" && mv "$d/holder.tmp" "$d/holder"
        in="$d/stdin" ;;
  file) in="$d/stdin" ;;
  *)    in=/dev/null ;;
esac
if command -v setsid >/dev/null 2>&1; then g=1; else g=0; fi
sh -c 'echo $$ > "$1/pid.tmp" && mv "$1/pid.tmp" "$1/pid"; g=$2; shift 2
  if [ "$g" = 1 ]; then exec setsid "$@"; else exec "$@"; fi' sh "$d" "$g" "$@" <"$in" >"$d/out" 2>&1 &
c=$!
w=
if [ "$life" -gt 0 ]; then
  ( s=; trap 'kill $s 2>/dev/null; wait $s; exit 0' TERM
    i=0; while [ "$i" -lt "$life" ]; do sleep 1 & s=$!; wait $s; i=$((i + 1)); done
    kill -KILL "$c" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
  w=$!
fi
wait "$c"
rc=$?
[ -n "$w" ] && kill "$w" 2>/dev/null
[ -n "$h" ] && kill "$h" 2>/dev/null
wait   # reap watchdog and holder: no zombies handed to init
echo "$rc" > "$d/status.tmp" && mv "$d/status.tmp" "$d/status"
]]

local Process = {}
Process.__index = Process

-- spawn(argv, opts) -> handle
--   argv: { "prog", "arg1", ... } (program looked up in PATH)
--   opts.stdin      = string fed as the program's stdin (from a temp file)
--   opts.stdin_fifo = true: stdin is a FIFO, driven by :write / :close_stdin
--   opts.env        = { NAME = "value", ... } added to the environment
--   opts.cwd        = directory to run in
--   opts.max_life   = watchdog in seconds (default 300; 0 = none)
--   opts.dir        = use this (mktempdir) directory for the temp files; it is
--                     removed by :stop() like one spawn made itself
--   opts.name       = label used in error messages (default argv[1])
function M.spawn(argv, opts)
  opts = opts or {}
  assert(type(argv) == "table" and #argv > 0, "process.spawn: argv table expected")
  local dir = opts.dir or M.mktempdir("sslua-proc")
  local mode = "null"
  if opts.stdin_fifo then
    if not execute("mkfifo -m 600 " .. quote(dir .. "/stdin")) then
      M.rmtree(dir)
      error("process.spawn: mkfifo failed", 2)
    end
    mode = "fifo"
  elseif opts.stdin ~= nil then
    write_file(dir .. "/stdin", tostring(opts.stdin))
    mode = "file"
  end

  local full = {}
  if opts.env and next(opts.env) then
    full[#full + 1] = "env"
    local names = {}
    for k in pairs(opts.env) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do full[#full + 1] = k .. "=" .. tostring(opts.env[k]) end
  end
  for i = 1, #argv do full[#full + 1] = tostring(argv[i]) end

  local life = opts.max_life
  if life == nil then life = M.DEFAULT_MAX_LIFE end
  life = math.floor(tonumber(life) or 0)

  local cmd = "sh -c " .. quote(MONITOR) .. " sh " .. quote(dir) .. " " .. life ..
    " " .. mode .. " " .. shell_join(full) .. " </dev/null >/dev/null 2>&1 &"
  if opts.cwd then cmd = "cd " .. quote(opts.cwd) .. " && " .. cmd end

  local self = setmetatable({
    argv = full, dir = dir, name = opts.name or tostring(argv[1]),
    outfile = dir .. "/out", fifo = (mode == "fifo") and (dir .. "/stdin") or nil,
    stdin_open = (mode == "fifo"),
  }, Process)

  if not execute(cmd) then
    M.rmtree(dir)
    error("process.spawn: could not start monitor shell for " .. self.name, 2)
  end

  local deadline = now() + M.START_TIMEOUT
  while true do
    local s = read_file(dir .. "/pid")
    if s and tonumber(s) then self.pid = tonumber(s) break end
    if now() > deadline then
      local out = read_file(self.outfile) or ""
      M.rmtree(dir)
      error("process.spawn: " .. self.name .. " did not start within " ..
        M.START_TIMEOUT .. " s: " .. out, 2)
    end
    socket.sleep(0.01)
  end
  if mode == "fifo" then
    local deadline2 = now() + M.START_TIMEOUT
    while not self.holder do
      self.holder = tonumber(read_file(dir .. "/holder") or "")
      if not self.holder then
        if now() > deadline2 then break end
        socket.sleep(0.01)
      end
    end
  end
  -- The pid file is written just before `exec [setsid] [env] PROGRAM`: wait
  -- (briefly, bounded) until the pid really runs PROGRAM, so that callers
  -- see the program in /proc and its signal handlers are in place.
  local want = {}
  for i = 1, #argv do want[i] = tostring(argv[i]) end
  want = table.concat(want, "\0") .. "\0"
  local exec_deadline = now() + 2
  while now() < exec_deadline do
    local cmdline = read_file("/proc/" .. self.pid .. "/cmdline")
    if cmdline == nil or cmdline == want or read_file(dir .. "/status") then break end
    socket.sleep(0.002)
  end
  if M.pgid(self.pid) == self.pid then self.group = true end
  live[self] = true
  history[#history + 1] = self
  return self
end

-- Combined stdout+stderr so far ("" once stopped and nothing was read).
function Process:output()
  if self.stopped then return self.final_output or "" end
  return read_file(self.outfile) or ""
end

-- Exit status if the program has exited (the monitor wrote it), else nil.
function Process:status()
  if self.exit_code ~= nil then return self.exit_code end
  if self.stopped then return self.exit_code end
  local s = read_file(self.dir .. "/status")
  if s and tonumber(s) then self.exit_code = tonumber(s) end
  return self.exit_code
end

function Process:alive()
  if self.stopped then return false end
  if self:status() ~= nil then return false end
  return M.pid_alive(self.pid)
end

-- wait(timeout_s) -> true, exit_code | false, "timeout"
-- Exit code 128+N means killed by signal N (e.g. 143 SIGTERM, 137 SIGKILL).
function Process:wait(timeout)
  timeout = timeout or 10
  local deadline = now() + timeout
  local gone_since
  while true do
    local code = self:status()
    if code ~= nil then return true, code end
    if self.stopped then return true, self.exit_code end
    if not M.pid_alive(self.pid) then
      -- the monitor writes the status right after; give it a moment
      gone_since = gone_since or now()
      if now() - gone_since > 2 then return true, nil end
    end
    if now() >= deadline then return false, "timeout" end
    socket.sleep(0.02)
  end
end

-- Output polling: waits until `pattern` (Lua pattern; plain=true for a plain
-- string) appears in the output. Returns true, output | false, output.
function Process:wait_output(pattern, timeout, plain)
  local deadline = now() + (timeout or 5)
  while true do
    local out = self:output()
    if out:find(pattern, 1, plain) then return true, out end
    if now() >= deadline or not self:alive() then
      out = self:output()
      return out:find(pattern, 1, plain) ~= nil, out
    end
    socket.sleep(0.02)
  end
end

-- write(s) to a stdin_fifo process. Returns true | nil, err.
-- At most 64 KiB per call; more than the pipe holds, unread, would block.
function Process:write(s)
  s = tostring(s)
  if #s > 65536 then error("process:write: at most 64 KiB per call", 2) end
  if not self.fifo then return nil, "process was not spawned with stdin_fifo" end
  if not self.stdin_open then return nil, "stdin closed" end
  local f, err = io.open(self.fifo, "r+")   -- O_RDWR on a FIFO never blocks
  if not f then return nil, err end
  f:setvbuf("no")
  local ok, werr = f:write(s)
  f:close()
  if not ok then return nil, werr end
  return true
end

-- Ends the FIFO holder so that the program reads EOF once it drained the FIFO.
function Process:close_stdin()
  if not self.fifo or not self.stdin_open then return true end
  self.stdin_open = false
  local h = self.holder or tonumber(read_file(self.dir .. "/holder") or "")
  if h then
    signal(h, "TERM")
    local deadline = now() + 2
    while M.pid_alive(h) and now() < deadline do socket.sleep(0.01) end
  end
  return true
end

-- stop([grace]) -> exit_code or nil. SIGTERM, then SIGKILL after `grace`
-- seconds (default 3); idempotent; removes the temporary files.
function Process:stop(grace)
  if self.stopped then return self.exit_code end
  grace = grace or M.STOP_GRACE
  -- Once it ran setsid, the program leads its own process group, so the
  -- signals also reach the children it started. (Asked now, not at spawn:
  -- the pid file is written just before `exec setsid`.)
  if not self.group and M.pgid(self.pid) == self.pid then self.group = true end
  local kill = self.group and signal_group or signal
  if self:alive() then
    kill(self.pid, "TERM")
    local deadline = now() + grace
    while self:alive() and now() < deadline do socket.sleep(0.02) end
    if self:alive() then
      kill(self.pid, "KILL")
      deadline = now() + 5
      while self:alive() and now() < deadline do socket.sleep(0.02) end
    end
  end
  -- children of the program that outlived it (same group): no mercy
  if self.group then signal_group(self.pid, "KILL") end
  self:close_stdin()
  -- let the monitor record the status (it also ends the watchdog and holder)
  local deadline = now() + 2
  while self:status() == nil and now() < deadline do socket.sleep(0.01) end
  self.final_output = read_file(self.outfile) or ""
  self.stopped = true
  live[self] = nil
  M.rmtree(self.dir)
  return self.exit_code
end

-- Stops every process spawned by this Lua state that is not stopped yet.
function M.stop_all()
  local n = 0
  for h in pairs(live) do h:stop() n = n + 1 end
  return n
end

function M.live_count()
  local n = 0
  for _ in pairs(live) do n = n + 1 end
  return n
end

-- All handles spawned so far by this Lua state (stopped or not), oldest
-- first: lets a suite check at its end that none of its pids is alive.
function M.history()
  local t = {}
  for i = 1, #history do t[i] = history[i] end
  return t
end

M.Process = Process
return M
