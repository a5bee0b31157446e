------------------------------------------------------------------------------
-- faults/sweep.lua - fails every allocation of a scenario in turn.
--
--   faults/driver faults/sweep.lua NAME [STRIDE | pPOINTS]
--
-- pPOINTS (e.g. p20) spreads POINTS runs evenly over the allocations of
-- the clean run instead of a fixed stride. FAULTS_LEAK_EVERY=K asks
-- LeakSanitizer after every K-th run (default 8; a leak is then placed
-- within the last K runs), FAULTS_VERBOSE=1 prints every run's outcome,
-- FAULTS_FROM=N / FAULTS_TO=N bound the sweep (to replay one finding).
--
-- Runs scenario NAME (faults/scenarios.lua) clean twice (the first warms
-- OpenSSL's lazy caches, the second counts the allocations), then for
-- N = 1, 1 + STRIDE, 1 + 2*STRIDE, ... until a run makes fewer than N
-- allocations: fail the N-th allocation and run the scenario; then, with
-- injection off, run it again in the same Lua state (it must succeed), and
-- ask LeakSanitizer whether anything became unreachable. Prints one
-- summary line; every finding is printed as FINDING and the exit status
-- is the number of findings (capped at 100).
------------------------------------------------------------------------------
-- luacheck: read globals faults
local name, spacing = arg[1], arg[2] or "1"
local LEAK_EVERY = math.tointeger(tonumber(os.getenv("FAULTS_LEAK_EVERY") or "8")) or 8
local VERBOSE = os.getenv("FAULTS_VERBOSE") == "1"
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local scenarios = dofile(os.getenv("FAULTS_SCENARIOS") or here .. "/scenarios.lua")
local sc = scenarios.byname[name]
if not sc then
  io.stderr:write("unknown scenario ", tostring(name), "\n")
  return 2
end

-- An expected failure: a public call answered nil/false with a message.
local FAILED = {}
local function failure(msg) return setmetatable({ msg = msg }, FAILED) end
local function is_failure(e) return getmetatable(e) == FAILED end
local function is_memory(e) return type(e) == "string" and e:find("not enough memory", 1, true) ~= nil end

local function message_ok(msg)
  if type(msg) == "string" then return msg ~= "" end
  -- error objects (errorobjects = true) print as their message
  return type(msg) == "table" and type(tostring(msg)) == "string"
end

-- The helpers a scenario's run gets; `seen` collects its observations.
local function tools(seen)
  local t = {}
  function t.ok(v, msg, ...)
    if v == nil or v == false then
      if message_ok(msg) then error(failure(msg), 0) end
      error("WRONG: a failure without a message (" .. tostring(v) .. ", " .. tostring(msg) .. ")", 0)
    end
    return v, msg, ...
  end
  function t.see(key, value) seen[#seen + 1] = { key, value } end
  -- A call answering a boolean, or nil plus a message when it fails.
  function t.boolean(v, msg, ...)
    if v == nil then return t.ok(v, msg, ...) end
    return v
  end
  function t.expect(cond, why) if not cond then error("WRONG: " .. why, 0) end end
  t.failed = is_failure
  return t
end

-- Arms inside the protected call: nothing between arm and pcall may
-- allocate unprotected. Returns ok, err, observations, fired, allocations.
local function armed(n, env, t)
  if n then faults.arm(n) end
  return sc.run(env, t)
end
local function run(env, n)
  local seen = {}
  local t = tools(seen)
  local ok, err = pcall(armed, n, env, t)
  local fired, count = faults.disarm()
  return ok, err, seen, fired, count
end

local function differs(clean, seen)
  for i, kv in ipairs(seen) do
    local ref = clean[i]
    if not ref or ref[1] ~= kv[1] or ref[2] ~= kv[2] then
      return ("%s = %s (clean run: %s)"):format(kv[1], tostring(kv[2]), ref and tostring(ref[2]) or "nothing")
    end
  end
end

local findings, start = 0, os.time()
local function finding(n, what)
  findings = findings + 1
  print(("FINDING %s n=%d site=%s: %s"):format(name, n, faults.site(), what))
end

faults.label(name .. " setup")
local env = sc.setup and sc.setup() or {}
faults.label(name .. " clean")
local ok, err = run(env)
if not ok then print("FINDING " .. name .. ": the clean run fails: " .. tostring(err and err.msg or err)); return 1 end
collectgarbage()
local clean, total
ok, err, clean, total = (function(a, b, c, _, e) return a, b, c, e end)(run(env, math.maxinteger))
if not ok then print("FINDING " .. name .. ": the clean run fails: " .. tostring(err and err.msg or err)); return 1 end
collectgarbage()
local stride = math.tointeger(tonumber(spacing)) or 1
if spacing:sub(1, 1) == "p" then
  stride = math.max(1, total // (math.tointeger(tonumber(spacing:sub(2))) or 20))
end

local counts = { absorbed = 0, failed = 0, memory = 0 }
local n, swept = math.tointeger(tonumber(os.getenv("FAULTS_FROM") or "1")) or 1, 0
local last = math.tointeger(tonumber(os.getenv("FAULTS_TO") or "")) or math.maxinteger
local function last_leak_check()
  if swept % LEAK_EVERY ~= 0 and faults.leaks() then
    finding(n, "LeakSanitizer: memory became unreachable in the last runs (report above)")
  end
end
while true do
  faults.label(("%s n=%d"):format(name, n))
  local rok, rerr, seen, fired = run(env, n)
  if not fired or n > last then break end
  swept = swept + 1
  if VERBOSE then
    print(n, faults.site(), rok and "absorbed" or tostring(is_failure(rerr) and rerr.msg or rerr))
  end
  local diff = differs(clean, seen)
  if diff then
    finding(n, "a call under injection returned a wrong value: " .. diff)
  elseif rok then
    counts.absorbed = counts.absorbed + 1
  elseif is_failure(rerr) then
    counts.failed = counts.failed + 1
  elseif is_memory(rerr) then
    counts.memory = counts.memory + 1
  else
    finding(n, "not a clean failure: " .. tostring(rerr))
  end
  collectgarbage()
  faults.label(("%s n=%d rerun"):format(name, n))
  local again, aerr = run(env)
  if not again then
    finding(n, "the same state fails afterwards: " .. tostring(is_failure(aerr) and aerr.msg or aerr))
  end
  collectgarbage()
  if swept % LEAK_EVERY == 0 and faults.leaks() then
    finding(n, ("LeakSanitizer: memory became unreachable at one of n=%d..%d (report above)")
               :format(math.max(1, n - (LEAK_EVERY - 1) * stride), n))
    break   -- every later check would report the same blocks again
  end
  if findings >= 100 then break end
  n = n + stride
end

last_leak_check()
print(("%-26s %6d allocations, %5d injected (stride %d): %d absorbed, %d failed with a message, " ..
       "%d memory errors; %d findings; %d s"):format(name, total, swept, stride, counts.absorbed,
       counts.failed, counts.memory, findings, os.time() - start))
return math.min(findings, 100)
