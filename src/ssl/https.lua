------------------------------------------------------------------------------
-- ssl.https: HTTPS for LuaSocket's socket.http, over sslua.
--
--   local https = require "ssl.https"
--   local body, code, headers, status = https.request("https://host/path")
--   local body, code = https.request("https://host/form", "a=1&b=2")  -- POST
--   local ok, code, headers, status = https.request{
--     url = "https://host/", sink = ltn12.sink.table(t),
--     verify = "peer", cafile = "/etc/ssl/certs/ca-certificates.crt" }
--
-- Two entry points, both part of the contract:
--
-- * request(url [, body]) and request{...}: LuaSec's function. The table
--   form is socket.http's table form plus any ssl.newcontext keys. The
--   caller's table is not modified (LuaSec wrote into it, which made a second
--   request with the same table fail with "create function not permitted").
--   Rejected, with LuaSec's messages: a proxy (`proxy` or socket.http.PROXY),
--   a truthy `redirect` and a `create` function. With `redirect` left nil,
--   socket.http follows https -> https redirects (it never downgrades to
--   http), and every hop uses the caller's TLS parameters and timeout; with
--   LuaSec the hops after the first fell back to the defaults.
--
-- * tcp(params) -> create: LuaSocket 3.1's socket.http calls this for every
--   https:// URL (with its own request table as params). The objects create()
--   returns act as a LuaSocket TCP object: connect(host, port) connects,
--   wraps with ssl.wrap, sends SNI (only for host names: never for IPv4 or
--   IPv6 literals, RFC 6066) and completes the handshake; then every method
--   of the TLS connection is available on the object.
--
-- Timeouts. settimeout calls made before connect are remembered and apply to
-- the TCP connect, the handshake and all later I/O (LuaSec ignored them).
-- Objects from tcp() use the caller's block timeout, or TIMEOUT when
-- settimeout was never called. Objects made by request() use TIMEOUT, or
-- socket.http.TIMEOUT (which socket.http hands to settimeout) when that one
-- is shorter. A timeout is reported as "timeout", like a LuaSocket object
-- (the TLS layer's own "wantread"/"wantwrite" are translated).
--
-- Defaults filled into the TLS parameters when absent: see DEFAULTS below.
-- `mode` is always "client".
--
-- Resumption. Requests with the same TLS parameters share one context (so
-- the system CA store is read once, not per request), and a connection's
-- session (a TLS 1.3 ticket or a TLS 1.2 session id) is offered again on
-- the next connection to the same host and port with the same parameters:
-- never across different verification settings, since the parameters are
-- part of the key. Parameters holding functions or userdata (a
-- verifycallback, certificate objects) are never cached. At most
-- M.SESSIONS sessions and contexts are kept (oldest dropped first);
-- M.SESSIONS = 0 turns this off, and so does `resume = false` in a request
-- table or in tcp()'s parameters.
------------------------------------------------------------------------------

local socket = require "socket"
local ltn12  = require "ltn12"
local http   = require "socket.http"
local url    = require "socket.url"
local ssl    = require "ssl"

local type, pairs, tostring, tonumber, select, setmetatable, error =
      type, pairs, tostring, tonumber, select, setmetatable, error

local M = {
  PORT       = 443,
  TIMEOUT    = 60,
  SESSIONS   = 64,
  _VERSION   = ssl._VERSION,
  _COPYRIGHT = "sslua ssl.https - HTTPS for LuaSocket's socket.http over sslua " ..
               "and OpenSSL 3",
}

-- The TLS parameters every request gets unless it sets them itself. Table
-- values are copied before use. Unlike LuaSec (verify = "none": anyone
-- could pose as any server), requests are verified by default: the
-- server's chain against the system CA store (only when the caller names
-- no cafile/capath of their own) and its name against the URL's host (an
-- IP address against the certificate's IP addresses), with TLS 1.2 or
-- later. `verify = "none"` turns both checks off, `verifyhost = false` the
-- name check alone. Also ignore_unexpected_eof: socket.http reads a body
-- without Content-Length with receive(2048) until "closed", and OpenSSL 3
-- reports a server that closes without close_notify as an error instead
-- (with LuaSec on OpenSSL 3 this breaks LuaRocks downloads). Such a body is
-- close-delimited by HTTP's own rules, so nothing is lost by accepting it.
local DEFAULTS = {
  protocol = { min = "tlsv1_2" },
  options  = { "all", "no_sslv2", "no_sslv3", "no_tlsv1", "ignore_unexpected_eof" },
  verify   = "peer",
  cafile   = "system",
}

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

------------------------------------------------------------------------------
-- Contexts and sessions kept for resumption.
------------------------------------------------------------------------------

-- Fields of a request table that socket.http reads, not TLS parameters.
local HTTP_FIELDS = {
  url = true, sink = true, source = true, method = true, headers = true,
  step = true, proxy = true, redirect = true, create = true, scheme = true,
  host = true, port = true, path = true, params = true, query = true,
  fragment = true, authority = true, userinfo = true, user = true,
  resume = true,
}

-- A bounded map: the oldest key goes when a new one would exceed M.SESSIONS.
local function new_cache()
  return { values = {}, order = {} }
end

local function cache_get(cache, key)
  return cache.values[key]
end

local function cache_put(cache, key, value)
  if cache.values[key] == nil then
    cache.order[#cache.order + 1] = key
  end
  cache.values[key] = value
  while #cache.order > (tonumber(M.SESSIONS) or 0) do
    cache.values[table.remove(cache.order, 1)] = nil
  end
end

local contexts, sessions = new_cache(), new_cache()

-- A text that is equal for equal TLS parameters, or nil when they cannot
-- be compared (a function, userdata) or resumption is off.
local function serialize(v, out)
  local t = type(v)
  if t == "string" then out[#out + 1] = ("%q"):format(v)
  elseif t == "number" or t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then return false end
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      out[#out + 1] = type(k) == "string" and ("%q="):format(k) or ("[%s]="):format(k)
      if not serialize(v[k], out) then return false end
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    return false
  end
  return true
end

local function resumption_key(params)
  if params.resume == false or (tonumber(M.SESSIONS) or 0) <= 0 then return nil end
  local tls = {}
  for k, v in pairs(params) do
    if not HTTP_FIELDS[k] then tls[k] = v end
  end
  local out = {}
  if not serialize(tls, out) then return nil end
  return table.concat(out)
end

-- Does `verify` (a name or a list) ask to check the peer?
local function verifies(verify)
  if type(verify) == "table" then
    for _, v in pairs(verify) do if v ~= "none" then return true end end
    return false
  end
  return verify ~= "none"
end

-- The system CA store is read only for a request that verifies: with
-- verify = "none" nothing would consult it, and reading it costs more than
-- a handshake (a context is built per request when resumption is off).
local function fill_defaults(params)
  local own_trust = params.cafile ~= nil or params.capath ~= nil
                    or not verifies(params.verify == nil and DEFAULTS.verify or params.verify)
  for k, v in pairs(DEFAULTS) do
    if params[k] == nil and not (k == "cafile" and own_trust) then
      params[k] = type(v) == "table" and shallow_copy(v) or v
    end
  end
  params.mode = "client"
  return params
end

-- The name to send as SNI for `host`, or nil. RFC 6066 allows host names
-- only: no IP literals (IPv6 always has a ':', IPv4 is digits and dots, and
-- no DNS top-level label is all digits), and no trailing dot.
local function sni_name(host)
  if type(host) ~= "string" then return nil end
  host = host:gsub("^%[(.*)%]$", "%1")
  if host:find(":", 1, true) or host:find("^[%d%.]+$") then return nil end
  host = host:gsub("%.$", "")
  if host == "" then return nil end
  return host
end


-- The name the server's certificate must carry: the URL's host, without
-- the brackets of an IPv6 literal; nil when nothing is verified or the
-- caller chose a name (or false) with verifyhost.
local function host_to_verify(params, host)
  if params.verifyhost ~= nil or not verifies(params.verify) then return nil end
  if type(host) ~= "string" then return nil end
  return (host:gsub("^%[(.*)%]$", "%1"))
end

-- LuaSocket objects say "timeout"; sslua connections say "wantread" or
-- "wantwrite" (LuaSec's strings) when a timeout runs out.
local function socket_error(err)
  if err == "wantread" or err == "wantwrite" then return "timeout" end
  return err
end

-- Passes results through, translating the message of a `nil, err, ...`.
local function translate(first, ...)
  if first == nil and select("#", ...) > 0 then
    return nil, socket_error((...)), select(2, ...)
  end
  return first, ...
end

------------------------------------------------------------------------------
-- The connection object that create() returns.
------------------------------------------------------------------------------

-- Private state of each object, so that the object itself has no fields
-- that could hide a method of the connection:
--   target   the LuaSocket TCP object before the handshake, then the TLS
--            connection (kept after close: its methods answer "closed")
--   tls      the TLS connection, once the handshake succeeded
--   params   TLS parameters (defaults filled in); capped: request() object
--   block, total, block_set, total_set: timeouts given to settimeout
--   closed   close() was called or connect() failed
local state = setmetatable({}, { __mode = "k" })

local methods = {}

local function timeout_kind(mode)
  if mode == nil then return "block" end
  local c = type(mode) == "string" and mode:sub(1, 1) or ""
  if c == "b" then return "block" end
  if c == "t" or c == "r" then return "total" end
  error("bad argument #2 to 'settimeout' (invalid timeout mode)", 3)
end

local function timeout_value(t)
  if t == nil then return nil end
  local n = tonumber(t)
  if n == nil then
    error("bad argument #1 to 'settimeout' (number expected, got " .. type(t) .. ")", 3)
  end
  if n < 0 then return nil end
  return n
end

-- The block and total timeouts connect() applies (nil = no limit).
local function effective_timeouts(s)
  local block
  if s.block_set then block = s.block else block = M.TIMEOUT end
  if s.capped then
    local cap = M.TIMEOUT
    if block == nil or (cap ~= nil and cap >= 0 and cap < block) then block = cap end
  end
  if block ~= nil and block < 0 then block = nil end
  return block, s.total
end

local function apply_timeouts(obj, block, total)
  obj:settimeout(block)
  if total ~= nil then obj:settimeout(total, "t") end
end

function methods:settimeout(t, mode)
  local s = state[self]
  local kind = timeout_kind(mode)
  t = timeout_value(t)
  s[kind], s[kind .. "_set"] = t, true
  if s.tls then return s.tls:settimeout(t, kind == "total" and "t" or "b") end
  return 1
end

function methods:gettimeout()
  local s = state[self]
  if s.tls then return s.tls:gettimeout() end
  return effective_timeouts(s)
end

-- The context for these parameters: a cached one when they can be
-- compared, else a new one.
local function context_for(s)
  local key = s.key
  local ctx = key and cache_get(contexts, key)
  if ctx then return ctx end
  local err
  ctx, err = ssl.newcontext(s.params)
  if ctx and key then cache_put(contexts, key, ctx) end
  return ctx, err
end

function methods:connect(host, port)
  local s = state[self]
  if s.closed then return nil, "closed" end
  if s.tls then return nil, "already connected" end
  local ctx, err = context_for(s)
  if not ctx then self:close() return nil, err end
  local block, total = effective_timeouts(s)
  local tcp = s.target
  apply_timeouts(tcp, block, total)
  local ok
  ok, err = tcp:connect(host, port)
  if not ok then self:close() return nil, err end
  local conn
  conn, err = ssl.wrap(tcp, ctx)
  if not conn then self:close() return nil, err end
  s.target = conn
  local name = sni_name(host)
  if name and conn.sni then conn:sni(name) end
  local check = host_to_verify(s.params, host)
  if check then
    ok, err = conn:setverifyhost(check)
    if not ok then self:close() return nil, err end
  end
  if s.key then
    s.session_key = s.key .. "@" .. tostring(host) .. ":" .. tostring(port)
    local session = cache_get(sessions, s.session_key)
    if session then conn:setsession(session) end
  end
  apply_timeouts(conn, block, total)
  ok, err = conn:dohandshake()
  if not ok then self:close() return nil, socket_error(err) end
  s.tls = conn
  return 1
end

-- Before a successful handshake there is nothing to talk to (the TCP object
-- would raise on these).
function methods:send(...)
  local tls = state[self].tls
  if not tls then return nil, "closed", 0 end
  return translate(tls:send(...))
end

function methods:receive(...)
  local tls = state[self].tls
  if not tls then return nil, "closed", "" end
  return translate(tls:receive(...))
end

-- Closing keeps the connection's session for the next one: TLS 1.3
-- tickets arrive after the handshake, so by now it has them.
function methods:close()
  local s = state[self]
  if s.tls and s.session_key and not s.closed then
    local session = s.tls:getsession()
    if session then cache_put(sessions, s.session_key, session) end
  end
  s.closed = true
  s.target:close()
  return 1
end

-- Methods of the TCP object / TLS connection, called on the current one.
local forwarders = {}

local function forwarder(name)
  local f = forwarders[name]
  if not f then
    f = function(self, ...)
      local target = state[self].target
      local m = target[name]
      if type(m) ~= "function" then return nil, "closed" end
      return m(target, ...)
    end
    forwarders[name] = f
  end
  return f
end

local object_mt = {
  __index = function(self, key)
    local m = methods[key]
    if m then return m end
    local s = state[self]
    if s and type(key) == "string" then
      local target = s.target
      if type(target[key]) == "function" then return forwarder(key) end
    end
    return nil
  end,
  __tostring = function(self)
    local s = state[self]
    local what = s.closed and "closed" or (s.tls and "client" or "master")
    return "https{" .. what .. "}: " .. s.address
  end,
}
object_mt.__close = function(self) self:close() end

local function new_object(params, capped)
  local tcp, err = socket.tcp()
  if not tcp then return nil, err end
  local obj = {}
  local address = tostring(obj):match("0x%x+") or tostring(obj):match(":%s*(.*)$") or "?"
  state[obj] = { target = tcp, params = params, capped = capped, address = address,
                 key = resumption_key(params) }
  return setmetatable(obj, object_mt)
end

local function make_create(params, capped)
  return function() return new_object(params, capped) end
end

-- request() registers its create function under the sink it hands to
-- socket.http: for the hops after the first, socket.http calls tcp() with a
-- fresh table that carries only that sink, and tcp() finds the request's
-- create (TLS parameters and timeout) through it.
local by_sink = setmetatable({}, { __mode = "k" })

function M.tcp(params)
  if params ~= nil and type(params) ~= "table" then
    error("bad argument #1 to 'tcp' (table expected, got " .. type(params) .. ")", 2)
  end
  if params and params.sink ~= nil then
    local create = by_sink[params.sink]
    if create then return create end
  end
  return make_create(fill_defaults(params or {}), false)
end

------------------------------------------------------------------------------
-- request
------------------------------------------------------------------------------

local function has_port(u)
  if type(u) ~= "string" then return false end
  local parsed = url.parse(u)
  return parsed ~= nil and parsed.port ~= nil and parsed.port ~= ""
end

local function run(reqt, tls_params)
  if http.PROXY or reqt.proxy then return nil, "proxy not supported" end
  if reqt.redirect then return nil, "redirect not supported" end
  if reqt.create then return nil, "create function not permitted" end

  local create = make_create(fill_defaults(tls_params), true)
  reqt.create = create
  reqt.scheme = "https"
  if reqt.port == nil and not has_port(reqt.url) then reqt.port = M.PORT end
  local user_sink = reqt.sink or ltn12.sink.null()
  local sink = function(chunk, err) return user_sink(chunk, err) end
  reqt.sink = sink
  by_sink[sink] = create
  local ok, code, headers, status = http.request(reqt)
  by_sink[sink] = nil
  return ok, code, headers, status
end

local function string_request(u, body)
  local parts = {}
  local reqt = { url = u, sink = ltn12.sink.table(parts) }
  if body ~= nil then
    if type(body) == "number" then body = tostring(body) end
    if type(body) ~= "string" then
      return nil, "invalid body (string expected, got " .. type(body) .. ")"
    end
    reqt.method = "POST"
    reqt.source = ltn12.source.string(body)
    reqt.headers = {
      ["content-length"] = tostring(#body),
      ["content-type"] = "application/x-www-form-urlencoded",
    }
  end
  local ok, code, headers, status = run(reqt, {})
  if not ok then return nil, code end
  return table.concat(parts), code, headers, status
end

function M.request(u, body)
  if type(u) == "string" then return string_request(u, body) end
  if type(u) ~= "table" then
    return nil, "invalid request (string or table expected, got " .. type(u) .. ")"
  end
  return run(shallow_copy(u), shallow_copy(u))
end

return M
