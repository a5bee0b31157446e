-- spec/upstream/results.lua - reading what the differential run leaves in
-- its output folder (the lines spec/upstream/output.lua writes, the exit
-- statuses ci/spec-upstream writes), for summarize.lua and
-- replay_crashes.lua. Files are read and written by the spec helpers'
-- process module (ci/spec-upstream runs from the root, ./?.lua on the path).
local process = require "spec.helpers.process"

local M = {}

M.read = process.read_file    -- the whole file, or nil when there is none
M.write = process.write_file

-- Iterates over the lines of an output.lua results file (none if it is
-- missing), each as its tab-separated fields: {"start", name} or
-- {"end", verdict, status, entry index or "-", name, message}.
function M.lines(path)
  local next_line = (M.read(path) or ""):gmatch("[^\n]+")
  return function()
    local line = next_line()
    if not line then return nil end
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
    return f
  end
end

return M
