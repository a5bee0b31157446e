-- The coverage gate. Named to sort last: busted runs spec files in name
-- order, so by now spec/helpers/coverage.lua has recorded every part of
-- the API the other specs exercised. The inventory is read from the module
-- itself (config tables, module tables, metatables); only the newcontext
-- keys and verifyext flags, which LuaSec exposes nowhere, are listed here.
-- Anything in the inventory that no spec touched fails its own test here.
-- (Run alone, this file fails: coverage is a property of the whole suite.)
local ssl      = require "ssl"
local coverage = require "spec.helpers.coverage"

local PARAMS = {
  "mode", "protocol", "key", "password", "certificate", "certificates",
  "cafile", "capath", "ciphers", "ciphersuites", "verify", "verifyext",
  "options", "depth", "dhparam", "curve", "curveslist", "alpn", "alpnstrict", "psk", "dane",
  "verifyhost", "verifycallback", "pkcs12",
  "sessioncache", "keylog", "errorobjects", "ocsp",
}
local VERIFYEXT = { "lsec_continue", "lsec_ignore_purpose", "crl_check", "crl_check_chain" }

local function keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function functions_of(t)
  local out = {}
  for k, v in pairs(t or {}) do
    if type(v) == "function" then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

local registry = debug.getregistry()
local function methods_of(tname)
  local meta = registry[tname]
  return functions_of(meta and meta.__index)
end

local inventory = {
  { "param",        PARAMS },
  { "protocol",     keys(ssl.config.protocols) },
  { "verify",       keys(ssl.config.verify) },
  { "verifyext",    VERIFYEXT },
  { "option",       keys(ssl.config.options) },
  { "function",     functions_of(ssl) },
  { "ssl.context",  functions_of(require "ssl.context") },
  { "ssl.x509",     functions_of(require "ssl.x509") },
  { "context",      methods_of(coverage.CLASSES.context) },
  { "connection",   methods_of(coverage.CLASSES.connection) },
  { "certificate",  methods_of(coverage.CLASSES.certificate) },
}

describe("coverage gate", function()
  for _, entry in ipairs(inventory) do
    local kind, names = entry[1], entry[2]
    it("every " .. kind .. " is exercised by some spec", function()
      assert.is_true(#names > 0, "empty inventory for " .. kind)
      local seen, missing = coverage.seen[kind] or {}, {}
      for _, name in ipairs(names) do
        if not seen[name] then missing[#missing + 1] = name end
      end
      assert.same({}, missing, kind .. " without a spec: " .. table.concat(missing, ", "))
    end)
  end
end)
