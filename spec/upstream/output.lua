-- spec/upstream/output.lua - busted output handler for the differential run
-- (`make spec-upstream`, ci/spec-upstream): the suite runs against Debian's
-- upstream LuaSec, and every test is compared with the committed list of
-- expected divergences, spec/upstream/divergences.lua.
--
--   busted -o spec/upstream/output.lua -Xoutput RESULTS_FILE spec/x_spec.lua
--
-- Only the entries for the LuaSec version under test count (an entry's
-- optional `upstream` field names the one version it is for; see
-- spec/upstream/entries.lua). For each test (by its full name, as busted's
-- handlers spell it):
--   not listed, passes                      agree  ("same")
--   listed, fails or errors                 agree  ("divergence")
--   listed as a crash, not run (guard)      agree  ("divergence", pending)
--   listed, passes                          DISAGREE (unexpected pass)
--   not listed, fails or errors             DISAGREE (unlisted failure)
-- Errors outside tests (file, describe, before_each...) are named
-- "<full name> (<block>)" and compared the same way. A test marked pending
-- by the spec itself is neither (reported as skipped).
--
-- The crash guard: with SSLUA_UPSTREAM=1, a test whose divergence entry has
-- kind = "crash" is not run but marked pending with the entry's reason, so
-- a test that segfaults upstream LuaSec does not take the rest of its file
-- down with it. Without SSLUA_UPSTREAM=1 nothing is skipped.
--
-- RESULTS_FILE gets one line per event, written and flushed as it happens,
-- so spec/upstream/summarize.lua can tell which test was running when the
-- process died:
--   start<TAB>full name
--   end<TAB>verdict<TAB>status<TAB>entry index or -<TAB>full name<TAB>message
-- (verdict: same, divergence, unexpected-pass, unlisted-failure, skipped;
-- entry: the index of the divergence entry that matched.)
-- The console shows a line per disagreement and a count for the file.
-- (only the entries for the LuaSec version under test: entries.lua)
local divergences = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/upstream")
  .. "/entries.lua")

local function one_line(s)
  s = tostring(s == nil and "" or s)
  return (s:gsub("[\r\n\t]+", " "))
end

-- The entry that lists `name` (a test's or a block's full name) in `file`.
local function lookup(name, file)
  for i, e in ipairs(divergences) do
    local file_ok = e.file == nil or (file and file:sub(-#e.file) == e.file)
    if file_ok and (e.name or e.match) then
      if (e.name and e.name == name) or (e.match and name:find(e.match)) then
        return e, i
      end
    end
  end
end

return function(options)
  local busted = require 'busted'
  local handler = require 'busted.outputHandlers.base'()
  local guard = os.getenv("SSLUA_UPSTREAM") == "1"
  local path = options.arguments and options.arguments[1]
  local out = path and assert(io.open(path, "a")) or nil
  local messages = setmetatable({}, { __mode = "k" })
  local counts = { same = 0, divergence = 0, ["unexpected-pass"] = 0,
                   ["unlisted-failure"] = 0, skipped = 0 }

  local function emit(...)
    if not out then return end
    out:write(table.concat({ ... }, "\t"), "\n")
    out:flush()
  end

  -- The spec file an element belongs to (its `file` ancestor's name).
  local function file_of(element)
    local e = element
    while e do
      if e.descriptor == "file" then return e.name end
      e = busted.parent(e)
    end
  end

  local function record(name, status, file, message)
    local entry, index = lookup(name, file)
    local verdict
    if status == "pending" and not (entry and entry.kind == "crash" and guard) then
      verdict = "skipped"
    elseif status == "success" then
      verdict = (entry and entry.kind ~= "timing") and "unexpected-pass" or "same"
    elseif entry then
      verdict = "divergence"
    else
      verdict = "unlisted-failure"
    end
    counts[verdict] = counts[verdict] + 1
    emit("end", verdict, status, index or "-", name, one_line(message))
    if verdict == "unexpected-pass" then
      io.write("UNEXPECTED PASS  ", name, "\n    listed (", entry.kind, "): ",
        one_line(entry.reason), "\n")
    elseif verdict == "unlisted-failure" then
      io.write("UNLISTED ", status:upper(), "  ", name, "\n    ", one_line(message):sub(1, 300), "\n")
    end
    io.flush()
  end

  handler.testStart = function(element)
    local name = handler.getFullName(element)
    emit("start", name)
    local entry = guard and lookup(name, file_of(element))
    if entry and entry.kind == "crash" then
      local pend = element.env and element.env.pending
      local reason = "upstream divergence (crash): " .. one_line(entry.reason)
      element.run = function() pend(reason) end
    end
    return nil, true
  end

  local function remember(element, _, message)
    messages[element] = message
    return nil, true
  end

  handler.testEnd = function(element, _, status)
    record(handler.getFullName(element), status, file_of(element), messages[element])
    return nil, true
  end

  -- Errors and failures outside `it` blocks.
  local function block_error(element, _, message)
    local kind = type(element) == "table" and element.descriptor
    if kind ~= "it" then
      local ok, full = pcall(handler.getFullName, element)
      local name = (kind == "file") and ("file " .. tostring(element.name))
        or ((ok and full or tostring(element and element.name)) .. " (" .. tostring(kind) .. ")")
      record(name, "error", file_of(element), message)
    end
    return nil, true
  end

  handler.suiteEnd = function()
    local line = ("%d same, %d expected divergences, %d unexpected passes, %d unlisted failures")
      :format(counts.same, counts.divergence, counts["unexpected-pass"], counts["unlisted-failure"])
    if counts.skipped > 0 then line = line .. (", %d skipped"):format(counts.skipped) end
    io.write(line, "\n")
    io.flush()
    if out then out:close(); out = nil end
    return nil, true
  end

  busted.subscribe({ 'test', 'start' }, handler.testStart)
  busted.subscribe({ 'test', 'end' }, handler.testEnd)
  busted.subscribe({ 'failure', 'it' }, remember)
  busted.subscribe({ 'error', 'it' }, remember)
  busted.subscribe({ 'error' }, block_error)
  busted.subscribe({ 'failure' }, block_error)
  busted.subscribe({ 'suite', 'end' }, handler.suiteEnd)
  return handler
end
