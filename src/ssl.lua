------------------------------------------------------------------------------
-- sslua: a LuaSec-compatible TLS module over OpenSSL 3.
--
-- This file is the Lua front: newcontext turns a parameter table into calls
-- to ssl.context (one per parameter, in LuaSec's order, so the same error
-- wins), and wrap moves a LuaSocket descriptor into a TLS connection.
-- Every bad value comes back as `nil, message`; nothing here raises once
-- loaded (loading refuses a C library of another module or release).
------------------------------------------------------------------------------

local type, ipairs, tostring = type, ipairs, tostring
local unpack = table.unpack or unpack

-- sslua's release; the C core exports the same (src/version.h).
local VERSION = "0.2.0"

-- Where require would find C module `name`: its own file, else the
-- all-in-one library of its root (package.searchpath is missing in 5.1).
local function c_module_file(name)
  for _, root in ipairs { (name:gsub("%.", "/")), (name:match("^[^.]+")) } do
    for template in package.cpath:gmatch("[^;]+") do
      local file = template:gsub("%?", root)
      local f = io.open(file, "rb")
      if f then f:close() return file end
    end
  end
  return "an unknown file"
end

-- What the C module behind ssl.core is, in a few words.
local function describe_core(core)
  if type(core) ~= "table" then return "not sslua's (it returned a " .. type(core) .. ")" end
  if type(core.version) == "string" then return "sslua " .. core.version .. "'s" end
  local ok, says = pcall(core.copyright)
  says = ok and tostring(says):gsub("%s+", " ") or "nothing"
  return "not sslua's (its copyright() says: " .. says .. ")"
end

-- ssl.lua and the C library must come from the same sslua release: with
-- another module's ssl.so (LuaSec's) first on package.cpath, this file
-- would half-work and fail later on a missing function. Refuse at once,
-- in one line.
local core = require "ssl.core"
if type(core) ~= "table" or core.version ~= VERSION then
  error(("sslua %s: ssl.lua needs the C library of the same release, but the one found "
         .. "for 'ssl.core' (%s) is %s: put sslua %s's ssl.so first on package.cpath "
         .. "(LUA_CPATH) or reinstall sslua")
        :format(VERSION, c_module_file("ssl.core"), describe_core(core), VERSION), 0)
end

local context = require "ssl.context"
local x509    = require "ssl.x509"
local config  = require "ssl.config"

local ssl = {
  _VERSION        = "1.3.2-sslua-" .. VERSION,
  _IMPLEMENTATION = "sslua",
  _COPYRIGHT      = core.copyright(),
  config          = config,
  loadcertificate = x509.load,
  x509            = x509,
}

-- A value as shown in messages, without calling a __tostring metamethod
-- (which could raise or return a non-string): plain values as themselves,
-- anything else as its type.
local function describe(v)
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  return t
end

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

-- Runs one ssl.context setter; its `false, msg [, file]` becomes
-- `nil, msg [, file]` (loaders name the file they failed on).
local function apply(ok, msg, file)
  if ok then return true end
  return nil, msg, file
end

local function optional_string(params, key)
  local v = params[key]
  if v ~= nil and type(v) ~= "string" then return bad_type(key, "string", v) end
  return true
end

-- Credentials may be data instead of a file name: PEM or DER strings, or
-- x509 objects (certificate, cafile). A string is data only when it cannot
-- sensibly be a path (PEM armour, or control bytes, which DER always has)
-- and names no existing file: an existing path always wins, and a missing
-- file keeps LuaSec's file error.
local function is_data(value)
  if type(value) ~= "string" then return true end
  if not (value:find("-----BEGIN", 1, true) or value:find("[%z\1-\31]")) then return false end
  if value:find("%z") then return true end   -- no path holds a zero byte
  local f = io.open(value, "rb")
  if f then f:close() return false end
  return true
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A path or data string, or an x509 object (checked by the loader); other
-- types get the message they always had.
local function optional_credential(params, key)
  local v = params[key]
  if v ~= nil and type(v) ~= "string" and type(v) ~= "userdata" then
    return bad_type(key, "string", v)
  end
  return true
end

-- The loader of a credential: from its file (LuaSec's) or from memory.
local function loader(value, file_fn, data_fn)
  return context[is_data(value) and data_fn or file_fn]
end

-- One identity: key, certificate and password, checked as a pair.
local function load_identity(ctx, entry)
  local pw = entry.password
  if pw ~= nil and type(pw) ~= "string" and type(pw) ~= "function" then
    return nil, "invalid password type"
  end
  local valid, why = optional_string(entry, "key")
  if valid then valid, why = optional_credential(entry, "certificate") end
  if not valid then return nil, why end
  if entry.key then
    local ok, msg, file = apply(loader(entry.key, "loadkey", "loadkeydata")(ctx, entry.key, pw))
    if not ok then return nil, msg, file end
  end
  if entry.certificate then
    local load = loader(entry.certificate, "loadcert", "loadcertdata")
    local ok, msg, file = apply(load(ctx, entry.certificate))
    if not ok then return nil, msg, file end
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
    local ok, msg, file = load_identity(ctx, entry)
    if not ok then return nil, msg, file end
  end
  return true
end

-- A PKCS#12 bundle (path or bytes): key, certificate and chain at once.
local function load_pkcs12(ctx, params)
  local p12 = params.pkcs12
  if p12 == nil then return true end
  if type(p12) ~= "string" then return bad_type("pkcs12", "string", p12) end
  return apply(context.loadpkcs12(ctx, p12, params.password, is_data(p12)))
end

-- cafile = "system" (unless a file of that name exists) is OpenSSL's
-- default store; cafile data goes to the store directly.
local function set_locations(ctx, params)
  local ok, msg = optional_credential(params, "cafile")
  if ok then ok, msg = optional_string(params, "capath") end
  if not ok then return nil, msg end
  local cafile = params.cafile
  if cafile == "system" and not file_exists(cafile) then
    ok, msg = apply(context.loadsystemca(ctx))
    cafile = nil
  elseif cafile ~= nil and is_data(cafile) then
    ok, msg = apply(context.loadcadata(ctx, cafile))
    cafile = nil
  end
  if not ok then return nil, msg end
  if cafile or params.capath then
    return apply(context.locations(ctx, cafile, params.capath))
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

local function set_alpnstrict(ctx, params)
  if params.alpnstrict == nil then return true end
  return apply(context.setalpnstrict(ctx, params.alpnstrict))
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

-- verifyhost: the name (or IP address) the peer's certificate must carry.
local function set_verifyhost(ctx, params)
  local host = params.verifyhost
  if host == nil or host == false then return true end
  if type(host) ~= "string" then return bad_type("verifyhost", "string", host) end
  return apply(context.setverifyhost(ctx, host))
end

local function set_verifycallback(ctx, params)
  local fn = params.verifycallback
  if fn == nil then return true end
  if type(fn) ~= "function" then return bad_type("verifycallback", "function", fn) end
  return apply(context.setverifycallback(ctx, fn))
end

-- The steps of newcontext, in LuaSec's order (then sslua's own keys).
-- Issue 7 parameters, each off unless given: the server session cache,
-- the key log, error objects and OCSP stapling (session.c, keylog.c,
-- errobj.c, ocsp.c). Values are checked in C as well; messages are
-- "invalid <key> parameter (...)".
local function set_sessioncache(ctx, params)
  local v = params.sessioncache
  if v == nil then return true end
  if type(v) == "boolean" then return apply(context.setsessioncache(ctx, v)) end
  if type(v) ~= "table" then return bad_type("sessioncache", "boolean or table", v) end
  return apply(context.setsessioncache(ctx, true, v.size, v.timeout))
end

local function set_keylog(ctx, params)
  if params.keylog == nil then return true end
  return apply(context.setkeylog(ctx, params.keylog))
end

local function set_errorobjects(ctx, params)
  if params.errorobjects == nil then return true end
  return apply(context.seterrorobjects(ctx, params.errorobjects))
end

local function set_ocsp(ctx, params)
  if params.ocsp == nil then return true end
  return apply(context.setocsp(ctx, params.ocsp))
end

local steps = {
  load_identities, set_locations, set_strings, set_lists, set_depth,
  set_dhparam, set_curves, set_verifyext, set_alpn, set_alpnstrict, set_psk, set_dane,
  load_pkcs12, set_verifyhost, set_verifycallback,
  set_sessioncache, set_keylog, set_errorobjects, set_ocsp,
}

-- protocol: one of LuaSec's names, or a range {min =, max =} of them
-- (either bound optional).
local function create(protocol)
  if type(protocol) == "string" then return context.create(protocol) end
  if type(protocol) ~= "table" then
    return nil, ("invalid protocol (%s)"):format(describe(protocol))
  end
  for k in pairs(protocol) do
    if k ~= "min" and k ~= "max" then
      return nil, ("invalid protocol range (unknown key %s)"):format(describe(k))
    end
  end
  local ctx, msg = context.create("any")
  if not ctx then return nil, msg end
  local ok, err = apply(context.setprotocolrange(ctx, protocol.min, protocol.max))
  if not ok then return nil, err end
  return ctx
end

-- newcontext's failure: the message, or with `errorobjects = true` an
-- error object whose tostring() is that message: kind "load" (reason =
-- the text in the parentheses, what, file = the file it came from) or
-- "param" for any other bad parameter.
local function newcontext_failure(params, msg, file)
  if params.errorobjects ~= true then return nil, msg end
  local what, reason = msg:match("^error loading (.-) %((.*)%)$")
  return nil, context.errorobject {
    kind = what and "load" or "param", message = msg, reason = reason or msg,
    what = what, file = file,
  }
end

local function build(params)
  local protocol = params.protocol
  if protocol == nil then protocol = "any" end
  local ctx, msg = create(protocol)
  if not ctx then return nil, msg end
  local mode = params.mode
  if type(mode) ~= "string" then return nil, ("invalid mode (%s)"):format(describe(mode)) end
  local ok, err = apply(context.setmode(ctx, mode))
  if not ok then return nil, err end
  for _, step in ipairs(steps) do
    local file
    ok, err, file = step(ctx, params)
    if not ok then return nil, err, file end
  end
  return ctx
end

function ssl.newcontext(params)
  if type(params) ~= "table" then return bad_type("context", "table", params) end
  local ctx, msg, file = build(params)
  if not ctx then return newcontext_failure(params, msg, file) end
  return ctx
end

-- A client profile that checks its peer: TLS 1.2 or later, verify =
-- "peer" against the system CA store, OpenSSL's bug workarounds ("all")
-- and no compression. The caller adds verifyhost (the name to check) and
-- may override any key. Each call returns fresh tables.
local SECURE_CLIENT = {
  mode = "client", protocol = { min = "tlsv1_2" }, verify = "peer",
  cafile = "system", options = { "all", "no_compression" },
}

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

function ssl.secureclient(overrides)
  if overrides ~= nil and type(overrides) ~= "table" then
    return bad_type("overrides", "table", overrides)
  end
  local params = {}
  for k, v in pairs(SECURE_CLIENT) do
    params[k] = type(v) == "table" and copy(v) or v
  end
  for k, v in pairs(overrides or {}) do params[k] = v end
  return params
end

-- A session exported with session:export() (DER) -> session | nil, message.
function ssl.importsession(der)
  return context.importsession(der)
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
    return nil, ("invalid socket (%s)"):format(describe(sock))
  end
  local fd = sock:getfd()
  if type(fd) ~= "number" then
    return nil, ("invalid socket (getfd returned %s)"):format(describe(fd))
  end
  local conn, err = core.create(ctx)
  if not conn then return nil, err end
  local ok
  ok, err = core.setfd(conn, fd)
  if not ok then
    conn:close()
    return nil, err
  end
  sock:setfd(core.SOCKET_INVALID)
  return conn
end

return ssl
