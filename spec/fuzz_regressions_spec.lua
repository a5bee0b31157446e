-- Regressions found by the fuzzers (fuzz/api.lua, fuzz/*_fuzz.c). Each case
-- is the minimal reproduction of one finding, through the public Lua API,
-- and states the contract the README gives for it. A case fails until the
-- fix lands in src/; keep it afterwards.
local ssl  = require "ssl"
local pair = require "spec.helpers.pair"

-- A value whose tostring() is not a string: luaL_tolstring raises
-- "'__tostring' must return a string" on it.
local function bad_tostring()
  return setmetatable({}, { __tostring = function() return {} end })
end

describe("fuzz regressions", function()
  -- fuzz/api.lua seed 7, call 790:
  --   ssl.wrap({getfd = function() return true end, setfd = ...}, ctx)
  -- README: bad wrap arguments give nil, "invalid socket (...)"; the bad
  -- descriptor reaches core.setfd, whose luaL_checknumber raises
  -- "bad argument #2 to 'setfd' (number expected, got boolean)".
  it("wrap with a socket whose getfd() is not a number returns nil, message", function()
    local ctx = assert(ssl.newcontext { mode = "client", protocol = "any" })
    for _, fd in ipairs { true, "3", {}, false } do
      local sock = { getfd = function() return fd end, setfd = function() end }
      local ok, conn, msg = pcall(ssl.wrap, sock, ctx)
      assert.is_true(ok, "ssl.wrap raised: " .. tostring(conn))
      assert.is_nil(conn)
      assert.is_string(msg)
    end
  end)

  -- fuzz/api.lua seed 5, call 5622 (core.create) and seed 8, call 173
  -- (context.setcurve); the same message texts come from every
  -- luaL_tolstring used to format "invalid ... (%s)". Through the public
  -- API: an option list entry whose __tostring is not a string.
  -- README: newcontext returns nil, message for any bad value.
  it("newcontext with an option whose tostring fails returns nil, message", function()
    local ok, ctx, msg = pcall(ssl.newcontext,
      { mode = "client", protocol = "any", options = { "all", bad_tostring() } })
    assert.is_true(ok, "ssl.newcontext raised: " .. tostring(ctx))
    assert.is_nil(ctx)
    assert.is_string(msg)
  end)

  -- fuzz/api.lua seed 11: ssl.lua formats "invalid mode (%s)" with
  -- tostring(mode), which raises on the same kind of value.
  it("newcontext with a mode whose tostring fails returns nil, message", function()
    local ok, ctx, msg = pcall(ssl.newcontext, { mode = bad_tostring(), protocol = "any" })
    assert.is_true(ok, "ssl.newcontext raised: " .. tostring(ctx))
    assert.is_nil(ctx)
    assert.is_string(msg)
  end)

  it("core.create with a value whose tostring fails returns nil, message", function()
    local s, c = pair.tcp()
    local ok, conn, msg = pcall(ssl.wrap, c, io.stdout)   -- sanity: a plain bad value
    assert.is_true(ok)
    assert.is_nil(conn)
    assert.is_string(msg)
    local ud = setmetatable({}, { __tostring = function() return {} end })
    ok, conn, msg = pcall(require("ssl.core").create, ud)
    assert.is_true(ok, "core.create raised: " .. tostring(conn))
    assert.is_nil(conn)
    assert.is_string(msg)
    s:close(); c:close()
  end)
end)
