-- spec/upstream/replay_crashes.lua OUTDIR LUA TIMEOUT SPECFILE... - runs each
-- test the crash guard kept from running (spec/upstream/output.lua: a test
-- listed with kind = "crash" is marked pending instead) once more, alone, in
-- a busted process of its own with the guard off, so that summarize.lua can
-- check the entry: a listed crash must still crash upstream LuaSec. Without
-- this, an entry of kind "crash" would agree with any outcome.
--
-- For the Nth guarded test it leaves OUTDIR/replay-N.results (output.lua's
-- lines) and OUTDIR/replay-N.rc (the exit status: 128+N when killed by
-- signal N), and OUTDIR/replays lists them: N<TAB>spec file<TAB>full name.
-- Run by ci/spec-upstream, with its environment (the module paths).
local outdir, lua, timeout = assert(arg[1]), assert(arg[2]), assert(arg[3])
local here = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/upstream")
local divergences = dofile(here .. "/entries.lua")   -- the entries for this version
local results = dofile(here .. "/results.lua")

local quote = require("spec.helpers.process").quote

-- busted's --filter is a Lua pattern over the full name: this one matches
-- the name and nothing else.
local function exactly(name)
  return "^" .. name:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0") .. "$"
end

local list, n = {}, 0
for i = 4, #arg do
  local file = arg[i]
  local base = file:match("([^/]+)%.lua$")
  for f in results.lines(outdir .. "/" .. base .. ".results") do
    local entry = divergences[tonumber(f[4] or "")]
    -- a test pending by an entry of kind "crash": the guard skipped it
    if f[1] == "end" and f[2] == "divergence" and f[3] == "pending" and entry
       and entry.kind == "crash" then
      n = n + 1
      local replay = ("%s/replay-%d.results"):format(outdir, n)
      print(("--- replay %d, %s: %s"):format(n, file, f[5]))
      -- SSLUA_UPSTREAM unset: output.lua's guard is off, the test runs.
      local cmd = ("env -u SSLUA_UPSTREAM ./ci/run-specs --bound %s %s -- %s /usr/bin/busted "
        .. "--run=upstream --filter=%s -o spec/upstream/output.lua -Xoutput %s %s"
        .. " >/dev/null 2>&1; echo $? > %s/replay-%d.rc")
        :format(timeout, quote("replay " .. n), quote(lua), quote(exactly(f[5])),
                quote(replay), quote(file), quote(outdir), n)
      os.execute(cmd)
      list[#list + 1] = ("%d\t%s\t%s\n"):format(n, file, f[5])
    end
  end
end
results.write(outdir .. "/replays", table.concat(list))
print(("spec-upstream: %d guarded crash tests replayed alone"):format(n))
