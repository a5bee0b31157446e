-- spec/helpers/serialize.lua - Lua values to one-line Lua literals and back.
--
-- Used to hand LuaSec parameter tables to child processes and to read their
-- RESULT lines. Plain Lua 5.1-5.4 / LuaJIT; no require, so a child can load
-- it with dofile().
--
--   encode(v[, lenient])      -> string; strings, numbers, booleans, nil and
--                                nested tables (no cycles). Functions, userdata
--                                and threads are an error, or with `lenient`
--                                become their tostring() text.
--   encode_list(...)          -> "v1, v2, ..." (holes and trailing nils kept)
--   decode(s)                 -> value | nil, err   (s from encode)
--   decode_list(s)            -> { n = N, ... } | nil, err
--
-- Output never contains a newline or control character: every byte outside
-- printable ASCII is written as a \ddd escape.

local M = {}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

local function encode_number(v)
  if v ~= v then return "(0/0)" end
  if v == math.huge then return "(1/0)" end
  if v == -math.huge then return "(-1/0)" end
  if math.type then
    if math.type(v) == "integer" then return string.format("%d", v) end
    return (string.format("%.17g", v):gsub("^(%-?%d+)$", "%1.0"))
  end
  if v == math.floor(v) and v > -2^53 and v < 2^53 then
    return string.format("%.0f", v)
  end
  return string.format("%.17g", v)
end

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

local encode

local function encode_table(t, lenient, seen)
  if seen[t] then error("serialize: cycle in table", 0) end
  seen[t] = true
  local parts, n = {}, 0
  -- array part 1..n (stopping at the first nil)
  while t[n + 1] ~= nil do
    n = n + 1
    parts[n] = encode(t[n], lenient, seen)
  end
  local keys = {}
  for k in pairs(t) do
    local tk = type(k)
    local in_array = tk == "number" and k >= 1 and k <= n and k == math.floor(k)
    if not in_array then
      if tk ~= "string" and tk ~= "number" and tk ~= "boolean" then
        if not lenient then error("serialize: unsupported key type " .. tk, 0) end
      else
        keys[#keys + 1] = k
      end
    end
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "boolean" then return (a and 1 or 0) < (b and 1 or 0) end
    return a < b
  end)
  for _, k in ipairs(keys) do
    local ks
    if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then
      ks = k
    else
      ks = "[" .. encode(k, lenient, seen) .. "]"
    end
    parts[#parts + 1] = ks .. "=" .. encode(t[k], lenient, seen)
  end
  seen[t] = nil
  return "{" .. table.concat(parts, ",") .. "}"
end

function encode(v, lenient, seen)
  local tv = type(v)
  if tv == "string" then return encode_string(v)
  elseif tv == "number" then return encode_number(v)
  elseif tv == "boolean" or tv == "nil" then return tostring(v)
  elseif tv == "table" then return encode_table(v, lenient, seen or {})
  elseif lenient then return encode_string(tostring(v))
  else error("serialize: cannot serialize a " .. tv, 0) end
end

function M.encode(v, lenient)
  return encode(v, lenient, {})
end

function M.encode_list(...)
  local n = select("#", ...)
  local t = { ... }
  local parts = {}
  for i = 1, n do parts[i] = encode(t[i], true, {}) end
  return table.concat(parts, ", ")
end

local function load_expr(s)
  if type(s) ~= "string" then return nil, "string expected" end
  if s:find("[%c\128-\255]") then return nil, "control byte in serialized data" end
  local chunk = "return " .. s
  local f, err
  if setfenv then
    f, err = loadstring(chunk, "=serialized")
    if f then setfenv(f, {}) end
  else
    f, err = load(chunk, "=serialized", "t", {})
  end
  return f, err
end

local function pack(...) return { n = select("#", ...), ... } end

function M.decode_list(s)
  if s:match("^%s*$") then return { n = 0 } end
  local f, err = load_expr(s)
  if not f then return nil, err end
  local r = pack(pcall(f))
  if not r[1] then return nil, r[2] end
  local out = { n = r.n - 1 }
  for i = 2, r.n do out[i - 1] = r[i] end
  return out
end

function M.decode(s)
  local r, err = M.decode_list(s)
  if not r then return nil, err end
  return r[1]
end

return M
