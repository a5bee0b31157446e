-- spec/upstream/summarize.lua OUTDIR SPECFILE... - the verdict of the
-- differential run. For each spec file, ci/spec-upstream left
--   OUTDIR/<base>.results   lines written by spec/upstream/output.lua
--   OUTDIR/<base>.rc        busted's exit status (128+N: killed by signal N)
-- A file whose busted died from a signal (or timed out) "crashed": that
-- agrees with the list only when a `file` entry of kind "crash" names it.
-- A test the crash guard kept from running was replayed alone
-- (replay_crashes.lua: OUTDIR/replays, replay-N.rc): it agrees only if that
-- process died from a signal, so a crash entry that no longer crashes
-- upstream is found.
-- Every divergence entry for the version under test (SSLUA_UPSTREAM_VERSION,
-- spec/upstream/entries.lua) must match something, or it is stale (a
-- failure: the list must describe the suite as it is).
-- Prints the disagreements, counts by kind, and last the line
-- "N passed, N failed" (passed = results agreeing with the list); exits 1
-- when anything failed.
local outdir = assert(arg[1], "usage: summarize.lua OUTDIR SPECFILE...")
local here = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/upstream")
local divergences = dofile(here .. "/entries.lua")   -- the entries for this version
local results = dofile(here .. "/results.lua")
local read = results.read

local passed, failed = 0, 0
local verdicts = {}
local used = {}                 -- divergence entry index -> times it matched
local by_kind = {}              -- kind -> agreeing results
local problems = {}

local function problem(fmt, ...)
  problems[#problems + 1] = fmt:format(...)
end

for i = 2, #arg do
  local file = arg[i]
  local base = file:match("([^/]+)%.lua$")
  local rc = tonumber(read(outdir .. "/" .. base .. ".rc") or "")
  local running
  local n = 0
  for f in results.lines(outdir .. "/" .. base .. ".results") do
    if f[1] == "start" then
      running = f[2]
    elseif f[1] == "end" then
      running = nil
      n = n + 1
      local verdict, index, name, message = f[2], tonumber(f[4]), f[5], f[6]
      verdicts[verdict] = (verdicts[verdict] or 0) + 1
      if index then used[index] = (used[index] or 0) + 1 end
      if verdict == "same" or verdict == "divergence" then
        passed = passed + 1
        local kind = verdict == "same" and "same" or divergences[index].kind
        by_kind[kind] = (by_kind[kind] or 0) + 1
      elseif verdict == "unexpected-pass" then
        failed = failed + 1
        problem("UNEXPECTED PASS   %s: %s\n    listed (%s): %s", file, name,
          divergences[index].kind, divergences[index].reason)
      elseif verdict == "unlisted-failure" then
        failed = failed + 1
        problem("UNLISTED FAILURE  %s: %s\n    %s", file, name, message:sub(1, 300))
      end
    end
  end

  -- whole-file crashes
  local crashed = rc == nil or rc >= 124
  local entry, index
  for j, e in ipairs(divergences) do
    if e.file and not (e.name or e.match) and file:sub(-#e.file) == e.file then entry, index = e, j end
  end
  if crashed then
    local how = rc == nil and "no exit status" or rc == 124 and "timed out" or
      rc == 139 and "segmentation fault" or ("exit status " .. rc)
    local where = running and (" while running: " .. running) or ""
    if entry and entry.kind == "crash" then
      passed = passed + 1
      used[index] = (used[index] or 0) + 1
      by_kind.crash = (by_kind.crash or 0) + 1
      verdicts.divergence = (verdicts.divergence or 0) + 1
      print(("file crashed as listed: %s (%s%s)"):format(file, how, where))
    else
      failed = failed + 1
      problem("FILE CRASHED      %s: %s%s (after %d tests)", file, how, where, n)
    end
  elseif entry then
    failed = failed + 1
    used[index] = (used[index] or 0) + 1
    problem("UNEXPECTED PASS   %s: listed as crashing, but ran to its end (%s)", file, entry.reason)
  end
end

-- The guarded tests, each replayed alone: the listed crash must happen.
-- (Each was counted above as agreeing; a replay that did not crash takes
-- that back.)
local SIGNALS = { [134] = "SIGABRT", [135] = "SIGBUS", [136] = "SIGFPE", [139] = "SIGSEGV" }
local replays, crashed_alone = 0, 0
for line in (read(outdir .. "/replays") or ""):gmatch("[^\n]+") do
  local n, file, name = line:match("^(%d+)\t([^\t]*)\t(.*)$")
  local rc = tonumber(read(("%s/replay-%s.rc"):format(outdir, n)) or "")
  local ran = (read(("%s/replay-%s.results"):format(outdir, n)) or ""):find("start\t", 1, true)
  replays = replays + 1
  if rc and SIGNALS[rc] then
    crashed_alone = crashed_alone + 1
  else
    passed, failed = passed - 1, failed + 1
    by_kind.crash = (by_kind.crash or 0) - 1
    local how = not ran and "the test was not found (busted's filter matched nothing)"
      or rc == 0 and "it passed" or rc == 124 and "it timed out"
      or ("exit status %s, no crash"):format(tostring(rc))
    problem("CRASH NOT SEEN    %s: %s\n    listed as crashing upstream, but run alone: %s",
      file, name, how)
  end
end
if replays > 0 then
  print(("guarded crash tests run alone: %d of %d crashed (by signal)"):format(crashed_alone, replays))
end

for j, e in ipairs(divergences) do
  if not used[j] then
    local ran = false
    for i = 2, #arg do
      if e.file == nil or arg[i]:sub(-#e.file) == e.file then ran = true end
    end
    if ran then
      failed = failed + 1
      problem("STALE ENTRY       #%d %s: matches no test (%s)", j,
        e.name or e.match or e.file, e.reason)
    end
  end
end

for _, p in ipairs(problems) do print(p) end
local kinds = {}
for k, v in pairs(by_kind) do kinds[#kinds + 1] = ("%s %d"):format(k, v) end
table.sort(kinds)
print(("LuaSec %s, agreeing with the list: %s"):format(os.getenv("SSLUA_UPSTREAM_VERSION"),
  table.concat(kinds, ", ")))
if (verdicts.skipped or 0) > 0 then
  print(("%d tests skipped by the suite itself"):format(verdicts.skipped))
end
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
