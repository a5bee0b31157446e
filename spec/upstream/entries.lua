-- spec/upstream/entries.lua - the entries of spec/upstream/divergences.lua
-- that apply to the LuaSec under test, for spec/upstream/output.lua and
-- spec/upstream/summarize.lua (both load the list through this file, so an
-- entry's index means the same entry to both).
--
-- SSLUA_UPSTREAM_VERSION names the LuaSec under test (ci/spec-upstream sets
-- it from the module's ssl._VERSION). An entry whose `upstream` field names
-- another version is left out; an entry without the field applies to every
-- version. A malformed entry stops the run: a typo in a kind or a version
-- would otherwise make an entry silently apply nowhere.
local here = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/upstream")
local all = dofile(here .. "/divergences.lua")

local KINDS = { fault = true, lacks = true, deliberate = true, crash = true, harness = true, timing = true }
local VERSIONS = { ["1.2.0"] = true, ["1.3.2"] = true }

local version = os.getenv("SSLUA_UPSTREAM_VERSION")
if not VERSIONS[version] then
  error(("SSLUA_UPSTREAM_VERSION is %q: divergences.lua lists 1.2.0 and 1.3.2 (ci/spec-upstream sets it)")
        :format(tostring(version)), 0)
end

local function check(e, i)
  local what = ("divergences.lua entry #%d (%s)"):format(i, tostring(e.name or e.match or e.file))
  assert(KINDS[e.kind], what .. ": unknown kind " .. tostring(e.kind))
  assert(type(e.reason) == "string" and e.reason ~= "", what .. ": no reason")
  assert(e.upstream == nil or VERSIONS[e.upstream], what .. ": unknown upstream " .. tostring(e.upstream))
  assert(e.name or e.match or (e.file and e.kind == "crash"),
         what .. ": needs a name or a match (only a crash entry may name a whole file)")
end

local list = {}
for i, e in ipairs(all) do
  check(e, i)
  if e.upstream == nil or e.upstream == version then list[#list + 1] = e end
end
return list
