-- spec/helpers/peer.lua - `require "spec.helpers.peer"`: all helpers in one
-- table, plus the idioms that make sure every process a test starts is
-- stopped by that test, even when an assertion fails half-way.
-- (`require "spec.helpers"` gives the same table where the path has
-- ./?/init.lua - Lua 5.3/5.4 defaults, not 5.1/LuaJIT: prefer this name.)
--
-- The idiom. busted's `finally` exists only inside `it`, runs right after
-- the test body (before after_each), and keeps only the LAST function given
-- to it - so never call it twice in one test; use helpers.cleanup:
--
--   local helpers = require "spec.helpers.peer"
--   local openssl, luapeer = helpers.openssl, helpers.luapeer
--
--   describe("something", function()
--     after_each(helpers.stop_all)           -- safety net, not the rule
--
--     it("talks to s_server", function()
--       local defer = helpers.cleanup(finally)
--       local srv = defer(openssl.s_server({ naccept = 1 }))
--       local cli = defer(luapeer.client(srv.port, params))
--       ...assertions...                     -- both stopped whatever happens
--     end)
--
--     it("without finally", function()
--       helpers.with(openssl.s_server({}), function(srv)
--         ...                                -- srv:stop() runs after, always
--       end)
--     end)
--   end)
--
-- Handles (process, openssl and luapeer ones) all have :stop(), which is
-- idempotent, so stopping the same handle twice is fine.

local M = {}

local modules = {
  process = "spec.helpers.process",
  ports = "spec.helpers.ports",
  certs = "spec.helpers.certs",
  openssl = "spec.helpers.openssl",
  luapeer = "spec.helpers.luapeer",
  serialize = "spec.helpers.serialize",
}

setmetatable(M, { __index = function(t, k)
  local name = modules[k]
  if not name then return nil end
  local mod = require(name)
  rawset(t, k, mod)
  return mod
end })

-- busted keeps ONE finally function per test: each `finally(fn)` call
-- replaces the previous one (busted 2.1 init.lua: `finally = fn`). So two
-- `finally(function() a:stop() end)` / `finally(function() b:stop() end)` in
-- one `it` stop only b. These helpers keep a list per test instead and hand
-- busted a single runner that works through it (last registered first).
local lists = setmetatable({}, { __mode = "k" })   -- finally fn -> cleanups

local function add_cleanup(finally, x)
  assert(type(finally) == "function", "pass busted's finally first")
  local entry = lists[finally]
  if not entry then
    entry = { items = {} }
    entry.runner = function()
      local items = entry.items
      entry.items = {}
      local first_err
      for i = #items, 1, -1 do
        local ok, err = pcall(items[i])
        if not ok and first_err == nil then first_err = err end
      end
      if first_err ~= nil then error(first_err, 0) end
    end
    lists[finally] = entry
  end
  local fn
  if type(x) == "function" then
    fn = x
  elseif type(x) == "table" or type(x) == "userdata" then
    local function method(name)
      local ok, m = pcall(function() return x[name] end)
      return ok and type(m) == "function"
    end
    if method("stop") then
      fn = function() x:stop() end
    elseif method("close") then
      fn = function() x:close() end
    end
  end
  if fn == nil then error("cleanup: need a function or something with :stop()/:close()", 3) end
  entry.items[#entry.items + 1] = fn
  finally(entry.runner)        -- (re-)register the one runner
  return x
end

-- cleanup(finally) -> add; add(x) registers x for the end of the test and
-- returns x. x: a process handle (x:stop()), a socket/TLS connection
-- (x:close()) or a function.
--   local defer = helpers.cleanup(finally)
--   local srv = defer(openssl.s_server({}))
--   local conn = defer(assert(ssl.wrap(tcp, params)))
--   defer(function() os.remove(tmp) end)
function M.cleanup(finally)
  assert(type(finally) == "function", "helpers.cleanup: pass busted's finally")
  return function(x) return add_cleanup(finally, x) end
end

-- autostop(finally, h1, h2, ...) -> h1, h2, ...
-- Registers h:stop() for each handle; accumulates across calls in one test.
function M.autostop(finally, ...)
  assert(type(finally) == "function", "helpers.autostop: pass busted's finally first")
  for i = 1, select("#", ...) do
    local h = select(i, ...)
    if h ~= nil then add_cleanup(finally, h) end
  end
  return ...
end

local unpack = table.unpack or unpack

-- with(handle | {handles...}, fn) -> fn's results. Runs fn(handle(s)...) and
-- stops the handle(s) afterwards, also when fn raises (the error, e.g. a
-- failed assertion, is re-raised unchanged).
function M.with(handles, fn)
  local list = handles
  if type(handles) == "table" and handles.stop then list = { handles } end
  local r = { n = 0 }
  local function keep(...) r = { n = select("#", ...), ... } end
  local ok, err = pcall(function() keep(fn(unpack(list))) end)
  for i = 1, #list do pcall(list[i].stop, list[i]) end
  if not ok then error(err, 0) end
  return unpack(r, 1, r.n)
end

-- Stops every process started (through spec.helpers.process) in this Lua
-- state that was not stopped yet; returns how many.
function M.stop_all()
  return require("spec.helpers.process").stop_all()
end

return M
