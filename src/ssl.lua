------------------------------------------------------------------------------
-- sslua: a LuaSec-compatible TLS module over OpenSSL 3.
--
-- This file is the Lua front: newcontext turns a parameter table into calls
-- to ssl.context (one per parameter, in LuaSec's order, so the same error
-- wins), and wrap moves a LuaSocket descriptor into a TLS connection.
-- Every bad value comes back as `nil, message`; nothing here raises.
------------------------------------------------------------------------------

local core    = require "ssl.core"
local context = require "ssl.context"
local x509    = require "ssl.x509"
local config  = require "ssl.config"

local type, ipairs, tostring = type, ipairs, tostring
local unpack = table.unpack or unpack

local ssl = {
  _VERSION        = "1.3.2-sslua-0.1.0",
  _IMPLEMENTATION = "sslua",
  _COPYRIGHT      = core.copyright(),
  config          = config,
  loadcertificate = x509.load,
  x509            = x509,
}

-- "string expected, got number" in the style of luaL_typeerror.
local function bad_type(key, expected, value)
  return nil, ("invalid %s parameter (%s expected, got %s)")
              :format(key, expected, type(value))
end

-- A parameter that may be one name or a list of names -> list, or nil, err.
local function name_list(key, value)
  if type(value) == "string" then return { value } end
  if type(value) ~= "table" then return bad_type(key, "string or table", value) end
  local list = {}
  for i, name in ipairs(value) do list[i] = name end
  return list
end

-- Runs one ssl.context setter; its `false, msg` becomes `nil, msg`.
local function apply(ok, msg)
  if ok then return true end
  return nil, msg
end

local function optional_string(params, key)
  local v = params[key]
  if v ~= nil and type(v) ~= "string" then return bad_type(key, "string", v) end
  return true
end

-- One identity: key, certificate and password, checked as a pair.
local function load_identity(ctx, entry)
  local pw = entry.password
  if pw ~= nil and type(pw) ~= "string" and type(pw) ~= "function" then
    return nil, "invalid password type"
  end
  for _, key in ipairs { "key", "certificate" } do
    local ok, msg = optional_string(entry, key)
    if not ok then return nil, msg end
  end
  if entry.key then
    local ok, msg = apply(context.loadkey(ctx, entry.key, pw))
    if not ok then return nil, msg end
  end
  if entry.certificate then
    local ok, msg = apply(context.loadcert(ctx, entry.certificate))
    if not ok then return nil, msg end
    if entry.key and not context.checkkey(ctx) then
      return nil, "private key does not match public key"
    end
  end
  return true
end

local function load_identities(ctx, params)
  local list = params.certificates
  if list == nil then return load_identity(ctx, params) end
  if type(list) ~= "table" then return bad_type("certificates", "table", list) end
  for i, entry in ipairs(list) do
    if type(entry) ~= "table" then
      return nil, ("invalid certificates parameter (entry %d: table expected, got %s)")
                  :format(i, type(entry))
    end
    local ok, msg = load_identity(ctx, entry)
    if not ok then return nil, msg end
  end
  return true
end

local function set_locations(ctx, params)
  for _, key in ipairs { "cafile", "capath" } do
    local ok, msg = optional_string(params, key)
    if not ok then return nil, msg end
  end
  if params.cafile or params.capath then
    return apply(context.locations(ctx, params.cafile, params.capath))
  end
  return true
end

-- String parameters handed to one ssl.context setter each, in processing
-- order. Setters are looked up by name at call time, so a wrapped or
-- replaced ssl.context function is the one that runs.
local string_setters = {
  { "ciphers",      "setcipher" },
  { "ciphersuites", "setciphersuites" },
}

local function set_strings(ctx, params)
  for _, entry in ipairs(string_setters) do
    local key, setter = entry[1], context[entry[2]]
    local ok, msg = optional_string(params, key)
    if not ok then return nil, msg end
    if params[key] ~= nil then
      ok, msg = apply(setter(ctx, params[key]))
      if not ok then return nil, msg end
    end
  end
  return true
end

-- Name-list parameters: verify flags, then options.
local list_setters = {
  { "verify",  "setverify" },
  { "options", "setoptions" },
}

local function set_lists(ctx, params)
  for _, entry in ipairs(list_setters) do
    local key, setter = entry[1], context[entry[2]]
    if params[key] ~= nil then
      local list, msg = name_list(key, params[key])
      if not list then return nil, msg end
      local ok, err = apply(setter(ctx, unpack(list)))
      if not ok then return nil, err end
    end
  end
  return true
end

local function set_depth(ctx, params)
  if params.depth == nil then return true end
  if type(params.depth) ~= "number" then return bad_type("depth", "number", params.depth) end
  return apply(context.setdepth(ctx, params.depth))
end

local function set_dhparam(ctx, params)
  local fn = params.dhparam
  if fn == nil then return true end
  if type(fn) ~= "function" then return nil, "invalid DH parameter type" end
  return apply(context.setdhparam(ctx, fn))
end

-- curveslist wins over curve when both are given, as in LuaSec; curve also
-- takes a colon list (LuaSec's own curve-negotiation sample needs it).
local function set_curves(ctx, params)
  local key = params.curveslist ~= nil and "curveslist" or "curve"
  local value = params[key]
  if value == nil then return true end
  if type(value) ~= "string" then return bad_type(key, "string", value) end
  local setter = key == "curveslist" and context.setcurveslist or context.setcurve
  return apply(setter(ctx, value))
end

local function set_verifyext(ctx, params)
  if params.verifyext == nil then return true end
  local list, msg = name_list("verifyext", params.verifyext)
  if not list then return nil, msg end
  return apply(context.setverifyext(ctx, unpack(list)))
end

local function set_alpn(ctx, params)
  local alpn = params.alpn
  if alpn == nil then return true end
  if type(alpn) == "function" then return apply(context.setalpncb(ctx, alpn)) end
  if type(alpn) ~= "string" and type(alpn) ~= "table" then
    return nil, "invalid ALPN parameter"
  end
  return apply(context.setalpn(ctx, alpn))
end

local function set_psk(ctx, params)
  local psk = params.psk
  if psk == nil then return true end
  if params.mode == "client" then
    if type(psk) ~= "function" then return nil, "invalid PSK configuration" end
    return apply(context.setclientpskcb(ctx, psk))
  end
  if type(psk) == "table" then
    if type(psk.callback) ~= "function" or (psk.hint ~= nil and type(psk.hint) ~= "string") then
      return nil, "invalid PSK configuration"
    end
    if psk.hint then
      local ok, msg = apply(context.setpskhint(ctx, psk.hint))
      if not ok then return nil, msg end
    end
    psk = psk.callback
  end
  if type(psk) ~= "function" then return nil, "invalid PSK configuration" end
  return apply(context.setserverpskcb(ctx, psk))
end

local function set_dane(ctx, params)
  local dane = params.dane
  if dane == nil or dane == false then return true end
  if dane == true then return apply(context.setdane(ctx)) end
  if type(dane) ~= "table" then return bad_type("dane", "boolean or table", dane) end
  return apply(context.setdane(ctx, unpack(dane)))
end

-- The steps of newcontext, in LuaSec's order.
local steps = {
  load_identities, set_locations, set_strings, set_lists, set_depth,
  set_dhparam, set_curves, set_verifyext, set_alpn, set_psk, set_dane,
}

function ssl.newcontext(params)
  if type(params) ~= "table" then return bad_type("context", "table", params) end
  local protocol = params.protocol
  if protocol == nil then protocol = "any" end
  if type(protocol) ~= "string" then
    return nil, ("invalid protocol (%s)"):format(tostring(protocol))
  end
  local ctx, msg = context.create(protocol)
  if not ctx then return nil, msg end
  local mode = params.mode
  if type(mode) ~= "string" then return nil, ("invalid mode (%s)"):format(tostring(mode)) end
  local ok, err = apply(context.setmode(ctx, mode))
  if not ok then return nil, err end
  for _, step in ipairs(steps) do
    ok, err = step(ctx, params)
    if not ok then return nil, err end
  end
  return ctx
end

-- Takes over the socket's descriptor; the LuaSocket object is left closed.
function ssl.wrap(sock, cfg)
  local ctx = cfg
  if type(cfg) == "table" then
    local msg
    ctx, msg = ssl.newcontext(cfg)
    if not ctx then return nil, msg end
  end
  local kind = type(sock)
  if (kind ~= "userdata" and kind ~= "table") or type(sock.getfd) ~= "function"
     or type(sock.setfd) ~= "function" then
    return nil, ("invalid socket (%s)"):format(tostring(sock))
  end
  local conn, err = core.create(ctx)
  if not conn then return nil, err end
  local ok
  ok, err = core.setfd(conn, sock:getfd())
  if not ok then
    conn:close()
    return nil, err
  end
  sock:setfd(core.SOCKET_INVALID)
  return conn
end

return ssl
