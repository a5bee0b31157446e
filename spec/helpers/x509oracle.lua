-- spec/helpers/x509oracle.lua - what OpenSSL itself says about a chain:
-- `openssl verify` run on the same certificates a handshake sees, its
-- first error parsed into code, depth, reason text and the subject of the
-- certificate it failed on.
--
--   local oracle = require "spec.helpers.x509oracle"
--   local r = oracle.verify({ leaf = path, untrusted = chain_path,
--     cafile = path, purpose = "sslserver", hostname = "localhost" })
--   -- r = { code = 62, depth = 0, reason = "hostname mismatch",
--   --       subject = "CN=...,OU=...,O=...", output = "..." }, or
--   -- r = { ok = true, output = "..." } when the chain verifies
--   oracle.subject(pem_text)   -- "CN=...": `openssl x509 -subject` of it
--   oracle.handshake_message(opts) -- what a handshake that fails on this
--       chain says: "certificate verify failed (REASON[ at depth N: SUBJECT])"
--
-- Why the first error: openssl verify's own callback lets verification go
-- on after some errors (an expired or self-signed leaf, extension errors)
-- and prints each one; a handshake's verification stops at the first
-- rejection, so only the first is what a TLS peer reports.
--
-- The subject: verify prints the failing certificate's subject on the line
-- before the error, with X509_NAME_print_ex and the -nameopt given; with
-- RFC2253 that is the text `openssl x509 -noout -subject -nameopt RFC2253`
-- prints after "subject=".

local process = require "spec.helpers.process"

local M = {}

M.bin = os.getenv("SSLUA_OPENSSL") or "openssl"
M.TIMEOUT = 10   -- seconds; openssl verify reads local files only

local function run(argv, stdin_file)
  return process.run(argv, M.TIMEOUT, stdin_file)
end

-- parse(output) -> the first error as { code, depth, reason, subject,
-- crl_path }, { ok = true } when verify said "OK", or nil when the text
-- holds neither.
function M.parse(output)
  local previous, ok
  for line in (output or ""):gmatch("[^\n]+") do
    local crl, code, depth, reason =
      line:match("^(%[?[%w ]-%]? ?)error (%d+) at (%d+) depth lookup: (.+)$")
    if code then
      return {
        code = tonumber(code), depth = tonumber(depth), reason = reason,
        subject = previous, crl_path = crl:find("CRL path", 1, true) ~= nil,
      }
    end
    ok = ok or line:match(": OK$") ~= nil
    previous = line
  end
  return ok and { ok = true } or nil
end

-- verify(opts) -> parsed result (see parse) with .output and .argv.
--   opts.leaf       the certificate to verify (path)
--   opts.cafile     trust anchors (path; false: none, not even the system's);
--                   opts.untrusted the chain a peer sent
--   opts.purpose    "sslserver" | "sslclient" | nil
--   opts.hostname   -verify_hostname; opts.ip -verify_ip
--   opts.depth      -verify_depth; opts.crl_check true: -crl_check;
--                   opts.crl_check_all true: -crl_check_all
function M.verify(opts)
  local argv = { M.bin, "verify", "-nameopt", "RFC2253" }
  local function add(flag, value)
    if value ~= nil and value ~= false then
      argv[#argv + 1] = flag
      if value ~= true then argv[#argv + 1] = tostring(value) end
    end
  end
  if opts.cafile == false then   -- no trust at all, not even the system's
    argv[#argv + 1] = "-no-CAfile"; argv[#argv + 1] = "-no-CApath"; argv[#argv + 1] = "-no-CAstore"
  end
  add("-CAfile", opts.cafile)
  add("-untrusted", opts.untrusted)
  add("-purpose", opts.purpose)
  add("-verify_hostname", opts.hostname)
  add("-verify_ip", opts.ip)
  add("-verify_depth", opts.depth)
  add("-crl_check", opts.crl_check)
  add("-crl_check_all", opts.crl_check_all)
  argv[#argv + 1] = assert(opts.leaf, "x509oracle.verify: opts.leaf required")
  local out = run(argv)
  local r = M.parse(out)
  if r == nil then
    error("x509oracle: cannot read openssl verify's answer:\n" .. out, 2)
  end
  r.output, r.argv = out, argv
  return r
end

-- handshake_message(opts) -> the message of a handshake whose verification
-- fails as `openssl verify` (opts as for verify) fails on the same chain:
-- OpenSSL's reason, and past the leaf the depth and subject.
function M.handshake_message(opts)
  local r = M.verify(opts)
  if r.ok then error("x509oracle: this chain verifies:\n" .. r.output, 2) end
  if r.depth > 0 then
    return ("certificate verify failed (%s at depth %d: %s)"):format(r.reason, r.depth, r.subject)
  end
  return ("certificate verify failed (%s)"):format(r.reason)
end

-- subject(pem) -> the RFC 2253 subject of the first certificate in `pem`
-- (text), as `openssl x509 -noout -subject -nameopt RFC2253` prints it.
function M.subject(pem)
  local dir = process.mktempdir("sslua-oracle")
  local file = dir .. "/cert.pem"
  process.write_file(file, pem)
  local out = run({ M.bin, "x509", "-noout", "-subject", "-nameopt", "RFC2253" }, file)
  process.rmtree(dir)
  local subject = out:match("^subject=([^\n]*)")
  if not subject then error("x509oracle: openssl x509 -subject said:\n" .. out, 2) end
  return subject
end

return M
