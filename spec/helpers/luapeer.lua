-- spec/helpers/luapeer.lua - a one-connection TLS peer written in Lua, run in
-- a child process (spec/helpers/luapeer_main.lua) with the same interpreter
-- ($SSLUA_LUA, else the one running now) and this process's module paths
-- (M.env), so `require "ssl"` there finds what the suite tests.
--
--   local luapeer = require "spec.helpers.luapeer"
--   local defer = require("spec.helpers.peer").cleanup(finally)  -- in an `it`
--   local srv = defer(luapeer.server(certs.server_params(), {
--     actions = { {"receive", "*l"}, {"send", "hello\n"}, {"close"} } }))
--   -- ... connect a client to srv.port ...
--   assert(srv:wait(10))
--   local r = srv:results()
--   assert.is_true(r.handshake[1])          -- first "handshake" step
--   assert.equal("ping", r.receive[1])
--
-- Each step of the child prints "RESULT <step> <values as Lua literals>";
-- handle:results() parses them (see results below). The child has its own
-- per-operation timeout (opts.timeout, default 5 s) and an overall deadline
-- (opts.deadline, default 30 s); the process watchdog kills it for good at
-- deadline + 10 s.

local process = require "spec.helpers.process"
local ser = require "spec.helpers.serialize"
local certs = require "spec.helpers.certs"
local socket = require "socket"

local M = {}

-- The interpreter for child Lua processes.
function M.interpreter()
  local e = os.getenv("SSLUA_LUA")
  if e and e ~= "" then return e end
  if type(jit) == "table" then return "luajit" end
  return "lua" .. (_VERSION:match("%d+%.%d+") or "5.3")
end

-- "a;b" with every relative entry made absolute (from the repository root,
-- where busted runs), for a child that may run elsewhere.
local function absolute(paths)
  return (paths:gsub("[^;]+", function(p)
    if p:sub(1, 1) == "/" then return p end
    return certs.root() .. "/" .. p:gsub("^%./", "")
  end))
end

-- env([extra]) -> the environment for process.spawn that makes a child Lua
-- load what this process loads: LUA_PATH/LUA_CPATH (and their versioned
-- names, which a 5.2+ child reads first) from package.path/package.cpath -
-- where .busted put the build first - plus `extra`.
function M.env(extra)
  local env = {}
  local suffix = _VERSION:match("^Lua 5%.([2-9])$")
  for name, paths in pairs { LUA_PATH = package.path, LUA_CPATH = package.cpath } do
    env[name] = absolute(paths)
    if suffix then env[name .. "_5_" .. suffix] = env[name] end
  end
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

function M.main_path()
  return certs.root() .. "/spec/helpers/luapeer_main.lua"
end

-- Parses RESULT lines of `output`. Returns a list of entries in order, each
-- { name = step, n = count, v1, v2, ... }; the list also has, for every step
-- name, list[name] = the FIRST entry of that name (list.all[name] = all of
-- them). Unparsable RESULT lines become { name = "unparsed", line }.
function M.parse_results(output)
  local list = { all = {} }
  for line in (output or ""):gmatch("[^\n]+") do
    local name, rest = line:match("^RESULT (%S+) ?(.*)$")
    if name then
      local vals = ser.decode_list(rest)
      local e
      if vals then
        e = vals
        e.name = name
      else
        e = { name = "unparsed", n = 1, line }
      end
      list[#list + 1] = e
      if list[e.name] == nil and e.name ~= "all" then list[e.name] = e end
      list.all[e.name] = list.all[e.name] or {}
      table.insert(list.all[e.name], e)
    end
  end
  return list
end

local function results(self)
  return M.parse_results(self:output())
end

-- result(name[, k]) -> the k-th (default 1st) entry of step `name`, or nil.
local function result(self, name, k)
  local all = self:results().all[name]
  return all and all[k or 1]
end

local function start(role, params, opts)
  opts = opts or {}
  local dir = process.mktempdir("sslua-luapeer")
  local cfg = {
    role = role,
    host = opts.host or "127.0.0.1",
    port = opts.port or 0,
    params = params or {},
    servername = opts.servername,
    handshake = opts.handshake,
    timeout = opts.timeout or 5,
    deadline = opts.deadline or 30,
    accept_timeout = opts.accept_timeout,
    actions = opts.actions or {},
  }
  local ok, encoded = pcall(ser.encode, cfg)
  if not ok then
    process.rmtree(dir)
    error("luapeer: cannot pass the params to the child: " .. tostring(encoded), 3)
  end
  process.write_file(dir .. "/config.lua", encoded)
  local argv = { opts.lua or M.interpreter(), M.main_path(), dir .. "/config.lua" }
  local h = process.spawn(argv, {
    dir = dir, name = "luapeer " .. role, env = M.env(opts.env),
    max_life = opts.max_life or (cfg.deadline + 10),
  })
  h.results = results
  h.result = result
  h.host = cfg.host
  return h
end

-- server(params, opts) -> handle with .port, once the child listens.
--   opts.actions   script after the handshake (see luapeer_main.lua)
--   opts.host      "127.0.0.1" (or "::1"); opts.port (default: any free one)
--   opts.handshake false: do not call dohandshake() before the actions
--   opts.timeout   per operation (5 s); opts.deadline overall (30 s)
--   opts.accept_timeout  how long to wait for the connection (2 * timeout)
--   opts.ready_timeout   how long to wait for "listening" (10 s)
function M.server(params, opts)
  opts = opts or {}
  local h = start("server", params, opts)
  local deadline = socket.gettime() + (opts.ready_timeout or 10)
  while true do
    local out = h:output()
    local port = out:match("RESULT listening (%d+)")
    if port then
      h.port = tonumber(port)
      return h
    end
    if not h:alive() or socket.gettime() > deadline then
      h:wait(1)
      out = h:output()
      h:stop()
      error("luapeer.server did not start listening: " .. out, 2)
    end
    socket.sleep(0.02)
  end
end

-- client(port, params, opts) -> handle (connects right away; wait() on it).
--   opts.servername SNI; other opts as for server (host is where to connect).
function M.client(port, params, opts)
  opts = opts or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.port = assert(tonumber(port), "luapeer.client: port expected")
  return start("client", params, o)
end

return M
