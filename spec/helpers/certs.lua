-- spec/helpers/certs.lua - where the test PKI lives, and LuaSec param tables.
--
--   local certs = require "spec.helpers.certs"
--   certs.ensure()                          -- runs certs/gen.sh once if needed
--   certs.path("ca.pem")                    -- absolute path, or a clear error
--   local sp = certs.server_params({ protocol = "tlsv1_3" })
--   local cp = certs.client_params({ verify = "none", key = certs.NIL })
--   local sp = certs.server_leaf("server-ecdsa", { alpn = { "h2" } })
--   certs.leaf_of(conn:getpeercertificate())  --> "server-ecdsa"
--
-- The directory is $SSLUA_CERTS, default build/certs (relative paths are taken
-- from the current directory, i.e. the repo root busted runs in) and is made
-- absolute, so child processes can use the paths whatever their cwd.

local M = {}

-- Put in an overrides table to drop a default key: { cafile = certs.NIL }.
M.NIL = setmetatable({}, { __tostring = function() return "certs.NIL" end })

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local cwd_cache
local function cwd()
  if not cwd_cache then
    local p = io.popen("pwd")
    cwd_cache = p and p:read("*l") or os.getenv("PWD") or "."
    if p then p:close() end
  end
  return cwd_cache
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  path = path:gsub("^%./", "")
  return cwd() .. "/" .. path
end

-- Repo root: this file is <root>/spec/helpers/certs.lua.
function M.root()
  local src = debug.getinfo(1, "S").source
  src = src:sub(1, 1) == "@" and src:sub(2) or ""
  local dir = src:match("^(.+)/spec/helpers/[^/]+$") or "."
  return (absolute(dir):gsub("/%.$", ""))
end

function M.dir()
  local d = os.getenv("SSLUA_CERTS")
  if not d or d == "" then d = "build/certs" end
  return (absolute(d):gsub("/+$", ""))
end

-- path(name) -> absolute path of the file; errors when it does not exist.
function M.path(name)
  local p = M.dir() .. "/" .. name
  if not exists(p) then
    error("test certificate '" .. name .. "' not found in " .. M.dir() ..
      ": run `make certs` (or certs/gen.sh DIR and set SSLUA_CERTS=DIR)", 2)
  end
  return p
end

function M.exists(name)
  return exists(M.dir() .. "/" .. name)
end

-- read(name) -> contents of the file (errors like path()).
function M.read(name)
  local f = assert(io.open(M.path(name), "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local ensured = false
-- ensure() -> dir. Runs `certs/gen.sh <dir>` (once per Lua state) when
-- ca.pem is missing; errors with gen.sh's output if that fails.
function M.ensure()
  if ensured or exists(M.dir() .. "/ca.pem") then
    ensured = true
    return M.dir()
  end
  local gen = M.root() .. "/certs/gen.sh"
  if not exists(gen) then
    error("no test PKI in " .. M.dir() .. " and no " .. gen .. ": run `make certs`", 2)
  end
  local log = os.tmpname()
  local a, _, c = os.execute("sh " .. quote(gen) .. " " .. quote(M.dir()) ..
    " >" .. quote(log) .. " 2>&1")
  local ok = (a == true or a == 0) and (c == nil or c == 0)
  local f = io.open(log, "rb")
  local out = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(log)
  if not ok or not exists(M.dir() .. "/ca.pem") then
    error("certs/gen.sh " .. M.dir() .. " failed:\n" .. out, 2)
  end
  ensured = true
  return M.dir()
end

local function merge(base, overrides)
  for k, v in pairs(overrides or {}) do
    if v == M.NIL then base[k] = nil else base[k] = v end
  end
  return base
end
M.merge = merge

-- Splits a PEM file's text into its certificate blocks.
function M.pem_blocks(text)
  local t = {}
  for block in text:gmatch("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-") do
    t[#t + 1] = block .. "\n"
  end
  return t
end

-- LuaSec ssl.newcontext/ssl.wrap params for a server with the RSA leaf.
function M.server_params(overrides)
  return merge({
    mode = "server",
    protocol = "any",
    key = M.path("server-rsa.key"),
    certificate = M.path("server-rsa-chain.pem"),
    cafile = M.path("ca.pem"),
    verify = "none",
    options = "all",
  }, overrides)
end

-- LuaSec params for a client with the RSA client leaf, verifying the peer.
function M.client_params(overrides)
  return merge({
    mode = "client",
    protocol = "any",
    key = M.path("client-rsa.key"),
    certificate = M.path("client-rsa-chain.pem"),
    cafile = M.path("ca.pem"),
    verify = "peer",
    options = "all",
  }, overrides)
end

-- Bare server params for the test PKI leaf `leaf` (e.g. "server-ecdsa"):
-- mode, protocol "any", its key and chain; no CA, no verify.
function M.server_leaf(leaf, overrides)
  return merge({
    mode = "server",
    protocol = "any",
    key = M.path(leaf .. ".key"),
    certificate = M.path(leaf .. "-chain.pem"),
  }, overrides)
end

-- The test PKI leaf a certificate is (its OU names the file it came from:
-- "server-rsa", ...), from an x509 object.
function M.leaf_of(cert)
  for _, e in ipairs(cert:subject()) do
    if e.name == "organizationalUnitName" then return e.value end
  end
end

return M
