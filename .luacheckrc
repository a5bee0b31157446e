-- luacheck configuration for src/, spec/, examples/, interop/.
std = "max"
max_line_length = 140
-- The divergence list is data: one entry a line, long test names included.
files["spec/upstream/divergences.lua"] = { max_line_length = false }
files["spec/"] = { std = "+busted" }
-- Specs and helpers run under 5.1–5.4: they test for table.pack/unpack and
-- math.type before use, which luacheck's max std already knows.
