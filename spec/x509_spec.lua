-- ssl.x509: the SSL:Certificate object (reference C4 plus our additions).
--
-- Every value a certificate yields is checked against what the openssl
-- command line reports for the same file; nothing about the test PKI is
-- hard-coded here. The only fixed tables map OpenSSL's display names to the
-- names the module uses (key usage bits, EKU purposes, key and signature
-- algorithm names).
local x509  = require "ssl.x509"
local certs = require "spec.helpers.certs"

local unpack = unpack or table.unpack

-- ------------------------------------------------------------------
-- The oracle: the openssl command line

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("*a")
  p:close()
  return out
end

local function cli(file, args)
  return sh("openssl x509 -in " .. q(file) .. " -noout " .. args)
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function nocolons(s) return (s:gsub(":", "")) end

-- "notAfter=Nov 24 05:38:07 2036 GMT" -> the text after "key="
local function cli_field(file, option, key)
  return cli(file, option):match(key .. "=([^\n]*)")
end

-- Seconds since the epoch of an OpenSSL date text, as GNU date reads it.
local function epoch(text)
  return tonumber(trim(sh("date -u -d " .. q(text) .. " +%s")))
end

-- { {name=long, oid=numeric, value=utf8}, ... } of -subject / -issuer.
local function cli_dn(file, which)
  local function lines(nameopt)
    local t = {}
    local out = cli(file, "-" .. which .. " -nameopt " .. nameopt)
    for k, v in out:gmatch("\n    ([^\n]-) = ([^\n]*)") do t[#t + 1] = { k, v } end
    return t
  end
  local names = lines("sep_multiline,space_eq,lname,utf8")
  local oids = lines("sep_multiline,space_eq,oid,utf8")
  local dn = {}
  for i = 1, #names do
    dn[i] = { name = names[i][1], oid = oids[i][1], value = names[i][2] }
  end
  return dn
end

-- Body lines of one extension from -ext, or nil when absent.
local function cli_ext(file, ext)
  local out = cli(file, "-ext " .. ext)
  if not out:match("^[^\n]-:") or out:match("No extensions") then return nil end
  return out:gsub("^[^\n]*\n", "")
end

-- Set of extension headings of -text ("X509v3 Key Usage", ...).
local function cli_extension_names(file)
  local text = cli(file, "-text")
  local block = text:match("X509v3 extensions:\n(.-)\n    Signature Algorithm") or ""
  local set = {}
  for line in (block .. "\n"):gmatch("([^\n]*)\n") do
    local name = line:match("^            ([^ ][^:]*):")
    if name then set[name] = true end
  end
  return set
end

-- OpenSSL's long name of an OID, as asn1parse prints an OBJECT.
local function cli_oid_name(oid)
  return sh("openssl asn1parse -genstr OID:" .. q(oid)):match("OBJECT%s+:([^\n]*)")
end

-- true, or the reason openssl verify gives, with `anchor` as the only
-- trust anchor (partial chains allowed) and `intermediates` as untrusted.
local function cli_verify(anchor, leaf, intermediates, tmpdir)
  local untrusted = ""
  if intermediates and #intermediates > 0 then
    local bundle = tmpdir .. "/untrusted.pem"
    local f = assert(io.open(bundle, "wb"))
    for _, path in ipairs(intermediates) do f:write(read(path)) end
    f:close()
    untrusted = " -untrusted " .. q(bundle)
  end
  local out = sh("openssl verify -no-CApath -no-CAstore -partial_chain -CAfile " ..
    q(anchor) .. untrusted .. " " .. q(leaf))
  if out:match(": OK\n") then return true end
  return out:match("lookup: ([^\n]*)") or out
end

-- Display names the CLI prints -> names the module returns.
local KEY_USAGE = {
  ["Digital Signature"] = "digitalSignature", ["Non Repudiation"] = "nonRepudiation",
  ["Key Encipherment"] = "keyEncipherment", ["Data Encipherment"] = "dataEncipherment",
  ["Key Agreement"] = "keyAgreement", ["Certificate Sign"] = "keyCertSign",
  ["CRL Sign"] = "cRLSign", ["Encipher Only"] = "encipherOnly",
  ["Decipher Only"] = "decipherOnly",
}
local EKU = {
  ["TLS Web Server Authentication"] = "serverAuth",
  ["TLS Web Client Authentication"] = "clientAuth",
  ["Code Signing"] = "codeSigning", ["E-mail Protection"] = "emailProtection",
  ["Time Stamping"] = "timeStamping", ["OCSP Signing"] = "OCSPSigning",
}
local KEY_TYPE = {
  rsaEncryption = "RSA", ["id-ecPublicKey"] = "EC", ED25519 = "ED25519",
  ED448 = "ED448", dsaEncryption = "DSA",
}
local SIGNATURE = {
  sha256WithRSAEncryption = "RSA-SHA256", sha384WithRSAEncryption = "RSA-SHA384",
  sha512WithRSAEncryption = "RSA-SHA512", sha1WithRSAEncryption = "RSA-SHA1",
  ["ecdsa-with-SHA256"] = "ecdsa-with-SHA256", ["ecdsa-with-SHA384"] = "ecdsa-with-SHA384",
  ED25519 = "ED25519", ED448 = "ED448",
}

-- "0:0:0:0:0:0:0:1" and "::1" -> one canonical form.
local function ip_canon(ip)
  if not ip:find(":") then return ip end
  local head, tail = ip:match("^(.-)::(.*)$")
  local groups = {}
  local function add(part)
    for g in part:gmatch("[^:]+") do groups[#groups + 1] = g end
  end
  if head then
    add(head)
    local rest = {}
    for g in tail:gmatch("[^:]+") do rest[#rest + 1] = g end
    for _ = 1, 8 - #groups - #rest do groups[#groups + 1] = "0" end
    for _, g in ipairs(rest) do groups[#groups + 1] = g end
  else
    add(ip)
  end
  for i, g in ipairs(groups) do groups[i] = string.format("%x", tonumber(g, 16)) end
  return table.concat(groups, ":")
end

-- Subject alternative names as the CLI prints them, in the module's shape
-- (otherName values collected under "otherName" by their CLI value only).
local SAN_KEYS = {
  DNS = "dNSName", email = "rfc822Name", URI = "uniformResourceIdentifier",
  ["IP Address"] = "iPAddress",
}
local function cli_altnames(file, ext)
  local body = cli_ext(file, ext or "subjectAltName")
  if not body then return nil end
  local t = {}
  for item in (trim(body) .. ", "):gmatch("(.-), ") do
    local kind, value = item:match("^([^:]+):(.*)$")
    local key = SAN_KEYS[kind]
    if kind == "othername" then
      -- "othername: UPN::upn@x" (OpenSSL 3.0) or "othername: UPN:upn@x"
      -- (3.2 and later): the type, one or two colons, the value
      key, value = "otherName", value:match("^%s*[^:]+::?(.*)$")
    end
    if key then
      if key == "iPAddress" then value = ip_canon(value) end
      t[key] = t[key] or {}
      table.insert(t[key], value)
    end
  end
  return t
end

-- ------------------------------------------------------------------
-- Test certificates

certs.ensure()

-- The PKI of certs/gen.sh (all must exist).
local PKI = {
  "ca.pem", "root-ca.pem", "int-ca.pem", "server-rsa.pem", "server-ecdsa.pem",
  "server-ed25519.pem", "client-rsa.pem", "expired.pem", "notyet.pem",
  "untrusted.pem", "rogue-ca.pem",
}

-- Extra certificates this spec makes itself, for what the PKI does not
-- exercise: every extension type, an Ed25519 signature, BMPString names,
-- wildcards and a subject-only name.
local EXTRA = {
  ["rich.pem"] = {
    key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
    dn = { "C = DE", "O = sslua rich", "CN = rich.sslua.test" },
    ext = {
      "basicConstraints = critical, CA:TRUE, pathlen:2",
      "keyUsage = critical, digitalSignature, nonRepudiation, keyCertSign, cRLSign, decipherOnly",
      "extendedKeyUsage = serverAuth, clientAuth, codeSigning, 1.2.3.4.5",
      "subjectAltName = DNS:rich.sslua.test, DNS:*.wild.sslua.test, IP:10.0.0.1, " ..
        "IP:2001:db8::42, email:rich@sslua.test, URI:https://rich.sslua.test/x, " ..
        "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@sslua.test, otherName:1.2.3.4;IA5:other",
      "issuerAltName = DNS:issuer.sslua.test, email:ca@sslua.test",
      "crlDistributionPoints = URI:http://crl.sslua.test/a.crl, URI:http://crl.sslua.test/b.crl",
      "authorityInfoAccess = OCSP;URI:http://ocsp.sslua.test/, caIssuers;URI:http://ca.sslua.test/ca.pem",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid:always, issuer:always",
    },
  },
  ["ed-self.pem"] = {
    key = "-newkey ed25519",
    dn = { "CN = ed25519.sslua.test" },
    ext = { "basicConstraints = CA:FALSE" },
  },
  ["bmp.pem"] = {
    key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
    mask = "MASK:0x800", -- BMPString only
    dn = { "CN = J\195\188rgen M\195\188ller", "O = \195\156n\195\175code" },
    ext = { "basicConstraints = CA:FALSE" },
  },
  ["cnonly.pem"] = {
    key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
    dn = { "CN = cn.sslua.test" },
    ext = { "basicConstraints = CA:FALSE" },
  },
}

local tmpdir

local function make_extra(name, spec)
  local cnf = tmpdir .. "/" .. name .. ".cnf"
  local f = assert(io.open(cnf, "wb"))
  f:write("[req]\nprompt = no\nutf8 = yes\ndistinguished_name = dn\n",
    "x509_extensions = ext\n", "string_mask = ", spec.mask or "utf8only", "\n",
    "[dn]\n", table.concat(spec.dn, "\n"), "\n[ext]\n", table.concat(spec.ext, "\n"), "\n")
  f:close()
  local out = sh("openssl req -x509 -nodes -days 30 " .. spec.key .. " -config " .. q(cnf) ..
    " -keyout " .. q(tmpdir .. "/" .. name .. ".key") .. " -out " .. q(tmpdir .. "/" .. name))
  assert(io.open(tmpdir .. "/" .. name), "cannot make " .. name .. ":\n" .. out):close()
end

local function path(name)
  if EXTRA[name] then return tmpdir .. "/" .. name end
  return certs.path(name)
end

local function load(name)
  return assert(x509.load(read(path(name))))
end

local ALL = {}
for _, name in ipairs(PKI) do ALL[#ALL + 1] = name end
for _, name in ipairs { "rich.pem", "ed-self.pem", "bmp.pem", "cnonly.pem" } do
  ALL[#ALL + 1] = name
end

-- ------------------------------------------------------------------

describe("ssl.x509", function()
  lazy_setup(function()
    tmpdir = trim(sh("mktemp -d"))
    assert(tmpdir:match("^/"), "mktemp failed: " .. tmpdir)
    for name, spec in pairs(EXTRA) do make_extra(name, spec) end
  end)

  lazy_teardown(function()
    if tmpdir and tmpdir:match("^/tmp/") then sh("rm -rf " .. q(tmpdir)) end
  end)

  for _, name in ipairs(ALL) do
    describe(name, function()
      it("pem() equals the PEM the CLI writes", function()
        assert.are.equal(sh("openssl x509 -in " .. q(path(name))), load(name):pem())
      end)

      it("loads the same certificate from DER, with and without a format", function()
        local der = sh("openssl x509 -in " .. q(path(name)) .. " -outform DER")
        local c = load(name)
        assert.is_true(x509.load(der) == c)
        assert.is_true(x509.load(der, "der") == c)
        assert.is_true(x509.load(c:pem(), "pem") == c)
      end)

      it("digest() matches -fingerprint for several algorithms", function()
        local c = load(name)
        for _, alg in ipairs { "sha1", "sha256", "sha512", "SHA384", "Sha256", "md5", "sha3-256" } do
          local fp = cli_field(path(name), "-fingerprint -" .. alg:lower(), "Fingerprint")
          assert.are.equal(nocolons(fp):lower(), c:digest(alg), alg)
        end
        assert.are.equal(c:digest("sha1"), c:digest())
      end)

      it("serial() matches -serial", function()
        assert.are.equal(cli_field(path(name), "-serial", "serial"), load(name):serial())
      end)

      it("subject() and issuer() match the CLI entry by entry", function()
        local c = load(name)
        c:setencode("utf8")
        assert.are.same(cli_dn(path(name), "subject"), c:subject())
        assert.are.same(cli_dn(path(name), "issuer"), c:issuer())
      end)

      it("notbefore() and notafter() match -startdate and -enddate", function()
        local c = load(name)
        assert.are.equal(cli_field(path(name), "-startdate", "notBefore"), c:notbefore())
        assert.are.equal(cli_field(path(name), "-enddate", "notAfter"), c:notafter())
      end)

      it("validat() is true from notBefore through notAfter inclusive", function()
        local c = load(name)
        local from = epoch(cli_field(path(name), "-startdate", "notBefore"))
        local to = epoch(cli_field(path(name), "-enddate", "notAfter"))
        assert.is_false(c:validat(from - 1))
        assert.is_false(c:validat(from - 0.5))
        assert.is_true(c:validat(from))
        assert.is_true(c:validat(from + 0.5))
        assert.is_true(c:validat(to))
        assert.is_false(c:validat(to + 0.5))
        assert.is_false(c:validat(to + 1))
        local now = os.time()
        assert.are.equal(from <= now and now <= to, c:validat(now))
      end)

      it("pubkey() gives the CLI's public key, type and bits", function()
        local pem, kind, bits = load(name):pubkey()
        local cli_pem = cli(path(name), "-pubkey")
        assert.are.equal(cli_pem, pem)
        local alg = cli(path(name), "-text"):match("Public Key Algorithm: ([^\n]*)")
        assert.are.equal(KEY_TYPE[alg], kind)
        local keytext = sh("printf '%s' " .. q(cli_pem) .. " | openssl pkey -pubin -noout -text")
        local cli_bits = tonumber(keytext:match("%((%d+) bit%)"))
        if not cli_bits then -- Ed25519/Ed448 print no size: count the key bytes
          local hex = keytext:match("pub:\n(.*)$"):gsub("[^%x]", "")
          cli_bits = #hex / 2 * 8
        end
        assert.are.equal(cli_bits, bits)
      end)

      it("getsignaturename() names the CLI's signature algorithm", function()
        local alg = cli(path(name), "-text"):match("Signature Algorithm: ([^\n]*)")
        assert.are.equal(SIGNATURE[alg], load(name):getsignaturename())
      end)

      it("extensions() has an entry named like each extension the CLI lists", function()
        local names = {}
        for oid, e in pairs(load(name):extensions()) do
          assert.is_string(oid)
          assert.truthy(oid:match("^%d[%d%.]+$"), oid)
          assert.are.equal(cli_oid_name(oid), e.name)
          names[e.name] = true
        end
        assert.are.same(cli_extension_names(path(name)), names)
      end)

      it("subjectAltName has LuaSec's shape and the CLI's names", function()
        local c = load(name)
        local san = c:extensions()["2.5.29.17"]
        local expected = cli_altnames(path(name))
        if not expected then
          assert.is_nil(san)
          return
        end
        local got = { }
        for k, v in pairs(san) do
          if k == "name" then
            assert.are.equal("X509v3 Subject Alternative Name", v)
          elseif k:match("^%d[%d%.]+$") then -- otherName type OID
            assert.are.equal(cli_oid_name(k), v.name)
            got.otherName = got.otherName or {}
            for _, value in ipairs(v) do table.insert(got.otherName, value) end
          else
            assert.truthy(SAN_KEYS.DNS == k or SAN_KEYS.email == k or
              SAN_KEYS.URI == k or SAN_KEYS["IP Address"] == k, k)
            got[k] = {}
            for i, value in ipairs(v) do
              got[k][i] = k == "iPAddress" and ip_canon(value) or value
            end
          end
        end
        if got.otherName then table.sort(got.otherName) end
        if expected.otherName then table.sort(expected.otherName) end
        assert.are.same(expected, got)
      end)

      it("basicConstraints, keyUsage and extendedKeyUsage match the CLI", function()
        local ext = load(name):extensions()
        local bc = cli_ext(path(name), "basicConstraints")
        if bc then
          assert.are.equal(bc:match("CA:TRUE") ~= nil, ext["2.5.29.19"].ca)
          assert.are.equal(tonumber(bc:match("pathlen:(%d+)")), ext["2.5.29.19"].pathlen)
        else
          assert.is_nil(ext["2.5.29.19"])
        end
        local ku = cli_ext(path(name), "keyUsage")
        local want = {}
        for item in ((ku and trim(ku) or "") .. ", "):gmatch("(.-), ") do
          if item ~= "" then want[#want + 1] = assert(KEY_USAGE[item], item) end
        end
        assert.are.same(ku and want or nil, ext["2.5.29.15"] and { unpack(ext["2.5.29.15"]) })
        local eku = cli_ext(path(name), "extendedKeyUsage")
        want = {}
        for item in ((eku and trim(eku) or "") .. ", "):gmatch("(.-), ") do
          if item ~= "" then want[#want + 1] = EKU[item] or item end
        end
        assert.are.same(eku and want or nil, ext["2.5.29.37"] and { unpack(ext["2.5.29.37"]) })
      end)

      it("key identifiers match the CLI", function()
        local ext = load(name):extensions()
        local skid = cli_ext(path(name), "subjectKeyIdentifier")
        assert.are.equal(skid and nocolons(trim(skid)), ext["2.5.29.14"] and ext["2.5.29.14"].keyid)
        local akid = cli_ext(path(name), "authorityKeyIdentifier")
        local got = ext["2.5.29.35"]
        if not akid then
          assert.is_nil(got)
          return
        end
        local keyid = akid:match("keyid:([%x:]+)") or akid:match("^%s*([%x:]+)%s*$")
        assert.are.equal(keyid and nocolons(keyid), got.keyid)
        local serial = akid:match("serial:([%x:]+)")
        assert.are.equal(serial and nocolons(serial), got.serial)
      end)

      it("checkhost() and checkip() agree with -checkhost and -checkip", function()
        local c = load(name)
        for _, host in ipairs { "localhost", "server.sslua.test", "client.sslua.test",
                                "rich.sslua.test", "x.wild.sslua.test", "cn.sslua.test",
                                "LOCALHOST", "nope.sslua.test" } do
          local out = cli(path(name), "-checkhost " .. q(host))
          assert.are.equal(out:match("does match") ~= nil, c:checkhost(host), host)
        end
        for _, ip in ipairs { "127.0.0.1", "::1", "0:0::1", "10.0.0.1", "2001:db8::42", "10.9.9.9" } do
          local out = cli(path(name), "-checkip " .. q(ip))
          assert.are.equal(out:match("does match") ~= nil, c:checkip(ip), ip)
        end
      end)
    end)
  end

  describe("extensions beyond LuaSec (rich.pem)", function()
    it("lists both otherNames under their OIDs with OpenSSL's names", function()
      local san = load("rich.pem"):extensions()["2.5.29.17"]
      assert.are.same({ name = cli_oid_name("1.3.6.1.4.1.311.20.2.3"), "upn@sslua.test" },
        san["1.3.6.1.4.1.311.20.2.3"])
      assert.are.same({ name = "1.2.3.4", "other" }, san["1.2.3.4"])
    end)

    it("issuerAltName has the subjectAltName shape", function()
      local ian = load("rich.pem"):extensions()["2.5.29.18"]
      local expected = cli_altnames(path("rich.pem"), "issuerAltName")
      expected.name = cli_oid_name("2.5.29.18")
      assert.are.same(expected, ian)
    end)

    it("CRL distribution points are the CLI's URIs", function()
      local dp = load("rich.pem"):extensions()["2.5.29.31"]
      local want = { name = cli_oid_name("2.5.29.31") }
      for uri in cli_ext(path("rich.pem"), "crlDistributionPoints"):gmatch("URI:([^\n]+)") do
        want[#want + 1] = uri
      end
      assert.are.equal(2, #want)
      assert.are.same(want, dp)
    end)

    it("authorityInfoAccess splits ocsp and caIssuers", function()
      local aia = load("rich.pem"):extensions()["1.3.6.1.5.5.7.1.1"]
      local body = cli_ext(path("rich.pem"), "authorityInfoAccess")
      assert.are.same({
        name = cli_oid_name("1.3.6.1.5.5.7.1.1"),
        ocsp = { body:match("OCSP %- URI:([^\n]+)") },
        caIssuers = { body:match("CA Issuers %- URI:([^\n]+)") },
      }, aia)
    end)

    it("authorityKeyIdentifier carries the issuer name", function()
      local akid = load("rich.pem"):extensions()["2.5.29.35"]
      assert.are.same({ cli_field(path("rich.pem"), "-issuer -nameopt RFC2253", "issuer") },
        akid.issuer)
    end)

    it("basicConstraints of a leaf has no pathlen", function()
      local bc = load("server-rsa.pem"):extensions()["2.5.29.19"]
      assert.are.same({ name = cli_oid_name("2.5.29.19"), ca = false }, bc)
    end)
  end)

  describe("setencode()", function()
    it("accepts ai5/utf8 by prefix and rejects anything else", function()
      local c = load("server-rsa.pem")
      for _, e in ipairs { "ai5", "utf8", "utf8xyz", "ai5-anything" } do
        assert.is_true(c:setencode(e), e)
      end
      for _, e in ipairs { "utf", "ai", "", "UTF8", "latin1" } do
        assert.is_false(c:setencode(e), e)
      end
    end)

    it("switches BMPString values between raw bytes and UTF-8", function()
      local c = load("bmp.pem")
      local utf8 = cli_dn(path("bmp.pem"), "subject")
      local function utf16be(s) -- the test names are in Latin-1's range
        local out = {}
        for ch in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
          local b1, b2 = ch:byte(1, 2)
          local cp = b2 and (b1 % 32) * 64 + b2 % 64 or b1
          out[#out + 1] = string.char(math.floor(cp / 256), cp % 256)
        end
        return table.concat(out)
      end
      local raw = c:subject()
      assert.are.equal(#utf8, #raw)
      for i = 1, #utf8 do assert.are.equal(utf16be(utf8[i].value), raw[i].value) end
      assert.is_true(c:setencode("utf8"))
      assert.are.same(utf8, c:subject())
      assert.is_true(c:setencode("ai5"))
      assert.are.same(raw, c:subject())
    end)
  end)

  describe("issued()", function()
    local cases = {
      { "root-ca.pem", "server-rsa.pem", {} },
      { "root-ca.pem", "server-rsa.pem", { "int-ca.pem" } },
      { "int-ca.pem", "server-rsa.pem", {} },
      { "root-ca.pem", "int-ca.pem", {} },
      { "root-ca.pem", "client-rsa.pem", { "int-ca.pem" } },
      { "root-ca.pem", "server-ed25519.pem", { "int-ca.pem" } },
      { "root-ca.pem", "expired.pem", { "int-ca.pem" } },
      { "root-ca.pem", "notyet.pem", { "int-ca.pem" } },
      { "root-ca.pem", "untrusted.pem", { "int-ca.pem" } },
      { "rogue-ca.pem", "untrusted.pem", {} },
      { "rogue-ca.pem", "server-rsa.pem", { "int-ca.pem" } },
      { "server-rsa.pem", "int-ca.pem", {} },
      { "root-ca.pem", "root-ca.pem", {} },
      { "ed-self.pem", "ed-self.pem", {} },
    }
    for _, case in ipairs(cases) do
      local anchor, leaf, inter = unpack(case)
      it(anchor .. " -> " .. leaf .. " via {" .. table.concat(inter, ",") .. "} agrees with openssl verify", function()
        local objs = {}
        local files = {}
        for i, f in ipairs(inter) do objs[i], files[i] = load(f), path(f) end
        local want = cli_verify(path(anchor), path(leaf), files, tmpdir)
        local ok, err = load(anchor):issued(load(leaf), unpack(objs))
        if want == true then
          assert.is_true(ok)
          assert.is_nil(err)
        else
          assert.is_nil(ok)
          assert.are.equal(want, err)
        end
      end)
    end

    it("raises for an argument that is not a certificate", function()
      local c = load("root-ca.pem")
      assert.has_error(function() c:issued("x") end)
      assert.has_error(function() c:issued(load("server-rsa.pem"), {}) end)
    end)
  end)

  describe("checkhost() flags", function()
    it("no_wildcards and no_partial_wildcards", function()
      local c = load("rich.pem")
      assert.is_true(c:checkhost("x.wild.sslua.test"))
      assert.is_false(c:checkhost("x.wild.sslua.test", "no_wildcards"))
      assert.is_true(c:checkhost("rich.sslua.test", "no_wildcards", "no_partial_wildcards"))
      assert.is_false(c:checkhost("a.b.wild.sslua.test"))
      assert.is_true(c:checkhost("a.b.wild.sslua.test", "multi_label_wildcards"))
    end)

    it("never_check_subject ignores the CN of a certificate without DNS names", function()
      local c = load("cnonly.pem")
      assert.is_true(c:checkhost("cn.sslua.test"))
      assert.is_false(c:checkhost("cn.sslua.test", "never_check_subject"))
    end)

    it("single_label_subdomains limits a leading-dot name to direct children", function()
      local c = load("server-rsa.pem")
      assert.is_true(c:checkhost(".sslua.test"))
      assert.is_true(c:checkhost(".sslua.test", "single_label_subdomains"))
      assert.is_true(c:checkhost(".test"))
      assert.is_false(c:checkhost(".test", "single_label_subdomains"))
    end)

    it("rejects unknown flags and malformed input with nil, message", function()
      local c = load("server-rsa.pem")
      assert.are.same({ nil, "invalid flag (bogus)" }, { c:checkhost("localhost", "bogus") })
      local ok, err = c:checkip("not an ip")
      assert.is_nil(ok)
      assert.are.equal("invalid IP address (not an ip)", err)
    end)
  end)

  describe("load()", function()
    local function fails(data, format)
      local c, err = x509.load(data, format)
      assert.is_nil(c)
      assert.is_string(err)
      assert.falsy(err:find("(null)", 1, true))
      return err
    end

    it("takes the first certificate of a PEM bundle", function()
      local c = assert(x509.load(certs.read("all-ca.pem")))
      assert.are.equal(cli_field(certs.path("all-ca.pem"), "-serial", "serial"), c:serial())
    end)

    it("reports garbage, empty, damaged PEM and truncated DER with OpenSSL's reason", function()
      for _, data in ipairs { "garbage", "", "\0\1\2\3",
          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" } do
        assert.truthy(fails(data):match("^error loading certificate %(.+%)$"))
      end
      local der = sh("openssl x509 -in " .. q(certs.path("server-rsa.pem")) .. " -outform DER")
      fails(der:sub(1, #der - 10))
    end)

    it("never reports an error left over from an earlier call", function()
      -- Whatever an earlier call left queued, a PEM-only load of DER data
      -- must say "no start line" and a DER-only load of text must not.
      local c = load("server-rsa.pem")
      c:digest("nope")
      c:checkip("not an ip")
      fails("garbage")
      local der = sh("openssl x509 -in " .. q(certs.path("server-rsa.pem")) .. " -outform DER")
      assert.are.equal("error loading certificate (no start line)", fails(der, "pem"))
      assert.are_not.equal("error loading certificate (no start line)", fails("garbage", "der"))
      assert.truthy(x509.load(der))
    end)

    it("honours an explicit format and rejects an unknown one", function()
      local pem = certs.read("server-rsa.pem")
      fails(pem, "der")
      assert.are.equal("invalid format (xml)", fails(pem, "xml"))
    end)

    it("coerces numbers and raises for other types", function()
      fails(12)
      assert.has_error(function() x509.load({}) end)
      assert.has_error(function() x509.load() end)
    end)
  end)

  describe("the object", function()
    it("has the SSL:Certificate metatable and LuaSec's tostring", function()
      local c = load("server-rsa.pem")
      assert.are.equal("SSL:Certificate", getmetatable(c).__name)
      assert.truthy(tostring(c):match("^X509 certificate: 0x%x+$"), tostring(c))
    end)

    it("compares equal to another load of the same certificate", function()
      local a, b = load("server-rsa.pem"), load("server-rsa.pem")
      assert.are_not.equal(tostring(a), tostring(b))
      assert.is_true(a == b)
      assert.is_false(a ~= b)
      assert.is_false(a == load("server-ecdsa.pem"))
      assert.is_true(load("ca.pem") == load("root-ca.pem"))
    end)

    it("digest() refuses unknown algorithms with LuaSec's message", function()
      local c = load("server-rsa.pem")
      assert.are.same({ nil, "digest algorithm not supported (nope)" }, { c:digest("nope") })
    end)

    it("is safe after __close and __gc: methods return nil, 'closed'", function()
      local c = load("server-rsa.pem")
      local other = load("root-ca.pem")
      local mt = getmetatable(c)
      mt.__close(c)
      for _, call in ipairs {
        { "pem" }, { "pubkey" }, { "digest" }, { "digest", "sha256" }, { "subject" },
        { "issuer" }, { "extensions" }, { "notbefore" }, { "notafter" },
        { "validat", os.time() }, { "serial" }, { "setencode", "utf8" },
        { "issued", other }, { "getsignaturename" }, { "checkhost", "localhost" },
        { "checkip", "127.0.0.1" },
      } do
        local method = table.remove(call, 1)
        assert.are.same({ nil, "closed" }, { c[method](c, unpack(call)) }, method)
      end
      assert.truthy(tostring(c):match("^X509 certificate: 0x%x+ %(closed%)$"))
      assert.is_false(c == load("server-rsa.pem"))
      mt.__close(c)
      mt.__gc(c)
      assert.has_error(function() other:issued(c) end)
      assert.is_true(other:issued(other))
    end)

    it("methods raise for a receiver of another type", function()
      local c = load("server-rsa.pem")
      assert.has_error(function() c.pem({}) end)
      assert.has_error(function() c.pem(nil) end)
    end)
  end)
end)

describe("ssl.x509 issued by itself", function()
  local function load_file(name) return assert(x509.load(certs.read(name))) end

  it("is true for a self-signed root", function()
    local root = load_file "root-ca.pem"
    assert.is_true(root:issued(root))
  end)

  it("is false for a leaf, though a partial chain would accept it as its own anchor", function()
    local leaf = load_file "server-rsa.pem"
    assert.same({ nil, "unable to get issuer certificate" }, { leaf:issued(leaf) })
    local int = load_file "int-ca.pem"
    assert.same({ nil, "unable to get issuer certificate" }, { int:issued(int) })
  end)
end)
