-- Load errors in LuaSec's shape: newcontext fails with
-- "error loading <what> (<reason>)", the reason alone in the parentheses,
-- for keys, certificates, trust (cafile, capath), PKCS#12 bundles, from
-- files and from data in memory. With errorobjects = true the failure is an
-- object { kind = "load", what, reason, file (absent for data), message }.
--
-- Programs parse these messages: Prosody's certificate manager takes the
-- what and the reason apart with two patterns and turns known reasons into
-- advice. The last part applies its patterns and table to every error here.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local process = require "spec.helpers.process"

local C, NIL = certs.path, certs.NIL
local MISSING = "/nonexistent/sslua-spec/missing.pem"

-- Files the cases need beyond the test PKI, made once in a private
-- directory: a text file without PEM content, an unreadable copy of a
-- certificate, a PKCS#12 bundle with a password and a DER certificate.
local fixture

local function openssl(args)
  local argv = { "timeout", "10", "openssl" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  assert(process.execute(process.shell_join(argv) .. " >/dev/null 2>&1"),
         "openssl " .. args[1] .. " failed")
end

local function files()
  if fixture then return fixture end
  local dir = process.mktempdir("sslua-load")
  local f = { dir = dir, text = dir .. "/text.txt", unreadable = dir .. "/unreadable.pem",
              bundle = dir .. "/bundle.p12", password = certs.read("password.txt") }
  process.write_file(f.text, "hello\n")
  process.write_file(f.unreadable, certs.read("server-rsa.pem"))
  -- The directory open to all, so only the file's own mode refuses.
  assert(process.execute("chmod 000 " .. process.quote(f.unreadable) ..
                         " && chmod 755 " .. process.quote(dir)))
  openssl({ "pkcs12", "-export", "-in", C("server-rsa.pem"), "-inkey", C("server-rsa.key"),
            "-certfile", C("int-ca.pem"), "-passout", "pass:" .. f.password, "-out", f.bundle })
  openssl({ "x509", "-in", C("server-rsa.pem"), "-outform", "DER", "-out", dir .. "/cert.der" })
  f.bundle_bytes = process.read_file(f.bundle)
  f.der = process.read_file(dir .. "/cert.der")
  fixture = f
  return f
end

-- PKCS#12 overrides: the bundle brings its own key and certificate.
local function pkcs12(extra)
  local t = { key = NIL, certificate = NIL }
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- Each case: the newcontext overrides of certs.server_params (a function of
-- the fixture), what and reason as LuaSec words them, and `file`, the path
-- the error object names (nil for data in memory).
local CASES = {
  -- certificate
  { name = "certificate: a file without PEM content", what = "certificate", reason = "no start line",
    params = function(f) return { certificate = f.text } end, file = function(f) return f.text end },
  { name = "certificate: no such file", what = "certificate", reason = "No such file or directory",
    params = function() return { certificate = MISSING } end, file = function() return MISSING end },
  { name = "certificate: a file we may not read", what = "certificate", reason = "Permission denied",
    params = function(f) return { certificate = f.unreadable } end,
    file = function(f) return f.unreadable end, unreadable = true },
  { name = "certificate data: a private key's PEM", what = "certificate", reason = "no start line",
    params = function() return { certificate = certs.read("server-rsa.key") } end },
  { name = "certificate data: DER that is not a certificate", what = "certificate", reason = "wrong tag",
    params = function() return { certificate = "\1\2\3\4" } end },
  -- private key
  { name = "private key: no such file", what = "private key", reason = "No such file or directory",
    params = function() return { key = MISSING } end, file = function() return MISSING end },
  -- OpenSSL 3 decodes keys through its decoders, whose reason for text
  -- that holds no key is "unsupported" (PEM_read_bio_PrivateKey queues
  -- only that).
  { name = "private key: a file without PEM content", what = "private key", reason = "unsupported",
    params = function(f) return { key = f.text } end, file = function(f) return f.text end },
  { name = "private key: encrypted, a wrong password", what = "private key", reason = "bad decrypt",
    params = function() return { key = C("server-rsa-enc.key"), password = "wrong" } end,
    file = function() return C("server-rsa-enc.key") end },
  { name = "private key: encrypted, a password function giving a wrong one", what = "private key",
    reason = "bad decrypt",
    params = function() return { key = C("server-rsa-enc.key"), password = function() return "wrong" end } end,
    file = function() return C("server-rsa-enc.key") end },
  { name = "private key: encrypted, no password", what = "private key", reason = "password required",
    params = function() return { key = C("server-rsa-enc.key") } end,
    file = function() return C("server-rsa-enc.key") end },
  { name = "private key data: encrypted, a wrong password", what = "private key", reason = "bad decrypt",
    params = function() return { key = certs.read("server-rsa-enc.key"), password = "wrong" } end },
  { name = "private key data: encrypted, no password", what = "private key", reason = "password required",
    params = function() return { key = certs.read("server-rsa-enc.key") } end },
  { name = "private key data: a certificate's PEM", what = "private key", reason = "unsupported",
    params = function() return { key = certs.read("server-rsa.pem") } end },
  -- trust
  { name = "cafile: no such file", what = "CA locations", reason = "No such file or directory",
    params = function() return { cafile = MISSING } end, file = function() return MISSING end },
  { name = "cafile: a file without certificates", what = "CA locations", reason = "no certificate or crl found",
    params = function(f) return { cafile = f.text } end, file = function(f) return f.text end },
  { name = "capath: no such directory", what = "CA locations", reason = "No such file or directory",
    params = function() return { cafile = NIL, capath = MISSING } end, file = function() return MISSING end },
  { name = "capath: a file, not a directory", what = "CA locations", reason = "Not a directory",
    params = function(f) return { cafile = NIL, capath = f.text } end, file = function(f) return f.text end },
  -- The data form also takes CRLs but says "no certificate found" (its own
  -- words: OpenSSL queues no error when a PEM bundle holds nothing usable).
  { name = "cafile data: PEM without a certificate", what = "CA locations", reason = "no certificate found",
    params = function() return { cafile = certs.read("server-rsa.key") } end },
  -- PKCS#12
  { name = "pkcs12: no such file", what = "PKCS#12", reason = "No such file or directory",
    params = function() return pkcs12({ pkcs12 = MISSING }) end, file = function() return MISSING end },
  { name = "pkcs12: a PEM certificate, not a bundle", what = "PKCS#12", reason = "wrong tag",
    params = function() return pkcs12({ pkcs12 = C("server-rsa.pem") }) end,
    file = function() return C("server-rsa.pem") end },
  { name = "pkcs12: a wrong password", what = "PKCS#12", reason = "mac verify failure",
    params = function(f) return pkcs12({ pkcs12 = f.bundle, password = "wrong" }) end,
    file = function(f) return f.bundle end },
  { name = "pkcs12: no password", what = "PKCS#12", reason = "password required",
    params = function(f) return pkcs12({ pkcs12 = f.bundle }) end, file = function(f) return f.bundle end },
  { name = "pkcs12 data: a wrong password", what = "PKCS#12", reason = "mac verify failure",
    params = function(f) return pkcs12({ pkcs12 = f.bundle_bytes, password = "wrong" }) end },
  { name = "pkcs12 data: no password", what = "PKCS#12", reason = "password required",
    params = function(f) return pkcs12({ pkcs12 = f.bundle_bytes }) end },
  { name = "pkcs12 data: a DER certificate, not a bundle", what = "PKCS#12", reason = "wrong tag",
    params = function(f) return pkcs12({ pkcs12 = f.der }) end },
}

-- The unreadable file's case, for a process that mode 000 does not stop
-- (root): newcontext runs in a child process as the user nobody
-- (setpriv), which prints what it got; the result comes back as the
-- message, or as a table shaped like the error object. The child loads
-- this module (LUA_PATH/LUA_CPATH as this process has them) on this
-- OpenSSL, and says which OpenSSL that is on its first line.
local CHILD = [[
local ssl = require "ssl"
local lib = require("ssl.config").library
print("LIB", lib and lib.version or "?")
local ctx, err = ssl.newcontext({ mode = "server", protocol = "any", certificate = %q,
                                  errorobjects = %s })
if ctx then print("OK") os.exit(0) end
if type(err) ~= "table" then print("MSG", err) os.exit(0) end
print("OBJ", err.kind, err.what, err.reason, tostring(err.file), err.message, tostring(err))
]]

local NOBODY = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups" }

-- The directory nobody can load this process's libssl and libcrypto from:
-- none needed when it can read them where they are; a private copy when
-- they sit where it may not look (a build of ci/openssl-build under
-- root's home), found by LD_LIBRARY_PATH before ssl.so's runpath.
local libdir
local function nobody_libdir()
  if libdir ~= nil then return libdir or nil end
  libdir = false
  local maps = process.read_file("/proc/self/maps") or ""
  local libs = {}
  for path in maps:gmatch("(/[^\n]-/lib%a+%.so[%.%d]*)\n") do
    local name = path:match("/(lib%a+)%.so")
    if name == "libssl" or name == "libcrypto" then libs[name] = path end
  end
  if not libs.libssl then return nil end
  local argv = { "timeout", "10" }
  for _, a in ipairs(NOBODY) do argv[#argv + 1] = a end
  argv[#argv + 1] = "test"; argv[#argv + 1] = "-r"; argv[#argv + 1] = libs.libssl
  if process.execute(process.shell_join(argv) .. " >/dev/null 2>&1") then return nil end
  local dir = process.mktempdir("sslua-libs")
  for _, path in pairs(libs) do
    assert(process.execute("cp " .. process.quote(path) .. " " .. process.quote(dir) .. "/"))
  end
  assert(process.execute("chmod -R a+rX " .. process.quote(dir)))
  libdir = dir
  return dir
end

local function load_as_nobody(path, objects)
  local code = CHILD:format(path, objects and "true" or "nil")
  local luapeer = require "spec.helpers.luapeer"
  local argv = { "timeout", "10" }
  for _, a in ipairs(NOBODY) do argv[#argv + 1] = a end
  argv[#argv + 1] = "env"
  local env = luapeer.env({ LD_LIBRARY_PATH = nobody_libdir() })
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do argv[#argv + 1] = k .. "=" .. env[k] end
  argv[#argv + 1] = luapeer.interpreter(); argv[#argv + 1] = "-e"; argv[#argv + 1] = code
  local p = assert(io.popen("cd / && " .. process.shell_join(argv) .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  local lib = require("ssl.config").library
  local child_lib = out:match("^LIB\t([^\n]*)\n")
  if not child_lib or (lib and child_lib ~= lib.version) then
    error(("the child as nobody did not load this module on OpenSSL %s: %s"):format(
      lib and lib.version or "?", out))
  end
  out = out:gsub("^[^\n]*\n", "")
  local fields = {}
  for field in (out:gsub("\n$", "") .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
  if fields[1] == "MSG" then return nil, fields[2] end
  if fields[1] ~= "OBJ" then error("the child as nobody said: " .. out) end
  return nil, setmetatable({ kind = fields[2], what = fields[3], reason = fields[4],
    file = fields[5] ~= "nil" and fields[5] or nil, message = fields[6] },
    { __tostring = function() return fields[7] end })
end

local function readable(path)
  local h = io.open(path, "rb")
  if h then h:close() end
  return h ~= nil
end

-- newcontext for a case: nil, message-or-object (and the fixture).
local function load(case, objects)
  local f = files()
  if case.unreadable and readable(f.unreadable) then
    if not process.execute("command -v setpriv >/dev/null 2>&1") then
      pending("mode 000 does not stop this user and setpriv is missing: no Permission denied to see")
    end
    local ctx, err = load_as_nobody(f.unreadable, objects)
    return ctx, err, f
  end
  local params = certs.server_params(case.params(f))
  params.errorobjects = objects or nil
  local ctx, err = ssl.newcontext(params)
  return ctx, err, f
end

local function case_named(name)
  for _, case in ipairs(CASES) do
    if case.name == name then return case end
  end
  error("no case " .. name)
end

local function message(case)
  return ("error loading %s (%s)"):format(case.what, case.reason)
end

---------------------------------------------------------------------------
-- Prosody's reading of these messages, as data. From Prosody's
-- core/certmanager.lua (create_context): the two patterns it matches on
-- LuaSec's newcontext error, and the advice it logs for each reason. Its
-- "no start line" advice names the what-part ("a certificate", "a private
-- key"); any other reason is logged as "Reason: " .. reason:lower().
---------------------------------------------------------------------------
local PROSODY = {
  what_pattern = "^error loading (.-) %(",
  reason_pattern = "%((.+)%)$",
  advice = {
    ["Permission denied"] = "Check that the permissions allow Prosody to read this file.",
    ["No such file or directory"] = "Check that the path is correct, and the file exists.",
    ["system lib"] = "Previous error (see logs), or other system error.",
    ["no start line"] = "Check that the file contains a %s",
    ["(null)"] = "Check that the file exists and the permissions are correct",
  },
  other = "Reason: %s",
}

-- What Prosody reads from a message: the what-part and the reason.
local function prosody_reads(msg)
  return msg:match(PROSODY.what_pattern), msg:match(PROSODY.reason_pattern)
end

-- The advice Prosody logs for a reason.
local function prosody_advice(what, reason)
  local advice = PROSODY.advice[reason]
  if advice then return (advice:format(what)) end
  return PROSODY.other:format(reason:lower())
end

describe("load errors", function()
  teardown(function()
    if fixture then process.rmtree(fixture.dir) end
    if libdir then process.rmtree(libdir) end
  end)

  describe("newcontext's message", function()
    for _, case in ipairs(CASES) do
      it(case.name .. ": 'error loading " .. case.what .. " (" .. case.reason .. ")'", function()
        local ctx, err = load(case, false)
        assert.is_nil(ctx)
        assert.equal("string", type(err))
        assert.equal(message(case), err)
      end)
    end
  end)

  describe("newcontext's error object", function()
    for _, case in ipairs(CASES) do
      it(case.name .. ": kind, what, reason, " .. (case.file and "file" or "no file (data)"), function()
        local ctx, err, f = load(case, true)
        assert.is_nil(ctx)
        assert.equal("table", type(err))
        assert.equal("load", err.kind)
        assert.equal(case.what, err.what)
        assert.equal(case.reason, err.reason)
        assert.equal(case.file and case.file(f) or nil, err.file)
        assert.equal(message(case), err.message)
        assert.equal(message(case), tostring(err))
      end)
    end
  end)

  describe("read the way Prosody reads LuaSec's", function()
    it("a certificate file without PEM content: 'Check that the file contains a certificate'", function()
      local ctx, err = load(case_named("certificate: a file without PEM content"), false)
      assert.is_nil(ctx)
      local what, reason = prosody_reads(err)
      assert.equal("Check that the file contains a certificate", prosody_advice(what, reason))
    end)

    it("a missing file: 'Check that the path is correct, and the file exists.'", function()
      local ctx, err = load(case_named("certificate: no such file"), false)
      assert.is_nil(ctx)
      local what, reason = prosody_reads(err)
      assert.equal("Check that the path is correct, and the file exists.", prosody_advice(what, reason))
    end)

    for _, case in ipairs(CASES) do
      it(case.name .. ": the what-part parses and the advice is LuaSec's for '" .. case.reason .. "'", function()
        local ctx, err = load(case, false)
        assert.is_nil(ctx)
        assert.is_string(err)
        local what, reason = prosody_reads(err)
        assert.equal(case.what, what)
        assert.equal(case.reason, reason)
        -- The advice Prosody gives LuaSec's message for the same reason.
        assert.equal(prosody_advice(case.what, case.reason), prosody_advice(what, reason))
        if PROSODY.advice[case.reason] then
          assert.not_equal(PROSODY.other:format(reason:lower()), prosody_advice(what, reason))
        end
        -- Never the texts of a stale or empty error queue.
        assert.is_nil(({ ["system lib"] = true, ["(null)"] = true })[reason])
      end)
    end
  end)
end)
