-- spec/helpers/alerts.lua - how this OpenSSL words a TLS alert received
-- from the peer, asked of OpenSSL itself.
--
--   local alerts = require "spec.helpers.alerts"
--   alerts.received("unknown ca")   --> "tlsv1 alert unknown ca"
--   alerts.received(40)             --> "sslv3 alert handshake failure" (3.0)
--                                   --  "ssl/tls alert handshake failure" (3.2+)
--
-- A received alert becomes an error in the SSL library (ERR_LIB_SSL) whose
-- reason is SSL_AD_REASON_OFFSET (1000) plus the alert's number, so its
-- error code is 0x0A000000 + 1000 + n; `openssl errstr CODE...` prints the
-- reason text of each code for that version (the texts changed in OpenSSL
-- 3.2: "sslv3 alert X" became "ssl/tls alert X"). The module reports the
-- same reason strings of the library it loads, so the CLI must be of that
-- library's version: received() refuses to answer otherwise.
--
-- One errstr run asks for all 256 numbers, once per process. A name is the
-- alert's description as it ends the text ("unknown ca", "certificate
-- required"); it must match exactly one number.

local process = require "spec.helpers.process"
local openssl = require "spec.helpers.openssl"

local M = {}

M.TIMEOUT = 10                 -- seconds; errstr reads nothing but its arguments
local SSL_ERROR_BASE = 0x0A000000   -- ERR_PACK(ERR_LIB_SSL, 0, 0)
local SSL_AD_REASON_OFFSET = 1000

local texts                    -- [alert number] = reason text

local function load()
  if texts then return texts end
  openssl.require_same_library()
  local argv = { openssl.bin, "errstr" }
  for n = 0, 255 do
    argv[#argv + 1] = ("%X"):format(SSL_ERROR_BASE + SSL_AD_REASON_OFFSET + n)
  end
  local out = process.run(argv, M.TIMEOUT)
  local t = {}
  for code, text in out:gmatch("error:(%x+):[^:\n]*:[^:\n]*:([^\n]*)") do
    local n = tonumber(code, 16) - SSL_ERROR_BASE - SSL_AD_REASON_OFFSET
    -- a number without a text of its own reads "reason(N)"
    if not text:match("^reason%(%d+%)$") then t[n] = text end
  end
  if next(t) == nil then error("alerts: openssl errstr gave no alert texts:\n" .. out, 2) end
  texts = t
  return texts
end

-- number(name) -> the alert number whose text ends with `name`.
function M.number(name)
  local found
  for n, text in pairs(load()) do
    if text:sub(-#name - 1) == " " .. name then
      if found then error(("alerts: '%s' names alerts %d and %d"):format(name, found, n), 2) end
      found = n
    end
  end
  if not found then error(("alerts: no alert text of this OpenSSL ends in '%s'"):format(name), 2) end
  return found
end

-- received(alert) -> the reason text for a received alert, by number or name.
function M.received(alert)
  local n = type(alert) == "number" and alert or M.number(alert)
  local text = load()[n]
  if not text then error(("alerts: OpenSSL has no text for alert %s"):format(tostring(alert)), 2) end
  return text
end

return M
