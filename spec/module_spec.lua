-- The module table and its submodules, as LuaSec programs reach them.
local ssl     = require "ssl"
local certs   = require "spec.helpers.certs"
local process = require "spec.helpers.process"
local luapeer = require "spec.helpers.luapeer"

-- The copyright line of LICENSE.
local function license_line()
  local text = assert(process.read_file(certs.root() .. "/LICENSE"))
  return assert(text:match("\n(Copyright %(c%) [^\n]+)\n"))
end

-- The file `require` finds for `name` through `path` (5.1 has no
-- package.searchpath).
local function search(name, path)
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", (name:gsub("%.", "/")))
    if process.read_file(file) then return file end
  end
end

-- Debian's lua-sec: the directory of its ssl.so for this Lua.
local function luasec_dir()
  local abi = type(jit) == "table" and "5.1" or _VERSION:match("%d+%.%d+")
  local out = process.run({ "dpkg", "-L", "lua-sec" }, 10)
  local so = out:match("(/[^\n]*/lua/" .. abi:gsub("%.", "%%.") .. "/ssl%.so)\n")
  assert(so, "this test needs Debian's lua-sec for Lua " .. abi .. " (apt-get install lua-sec)")
  return (so:gsub("/ssl%.so$", ""))
end

-- Runs `code` in a child Lua whose search paths are exactly lpath and
-- cpath; returns what it printed.
local function child(lpath, cpath, code)
  local argv = { "env", "-u", "LUA_INIT" }
  for _, name in ipairs { "LUA_PATH", "LUA_PATH_5_2", "LUA_PATH_5_3", "LUA_PATH_5_4" } do
    argv[#argv + 1] = name .. "=" .. lpath
  end
  for _, name in ipairs { "LUA_CPATH", "LUA_CPATH_5_2", "LUA_CPATH_5_3", "LUA_CPATH_5_4" } do
    argv[#argv + 1] = name .. "=" .. cpath
  end
  for _, a in ipairs { luapeer.interpreter(), "-e", code } do argv[#argv + 1] = a end
  return process.run(argv, 30)
end

-- require "ssl" in a child, protected: "ok" or the error, one per line.
local REQUIRE = [[
  local ok, err = pcall(require, "ssl")
  io.write(ok and "ok" or tostring(err), "\n")]]

describe("require 'ssl'", function()
  it("is sslua, with LuaSec's API level first in _VERSION", function()
    local core = require "ssl.core"
    assert.equal("sslua", ssl._IMPLEMENTATION)
    assert.matches("^%d+%.%d+%.%d+$", core.version)
    assert.equal("1.3.2-sslua-" .. core.version, ssl._VERSION)
    assert.equal(license_line(), ssl._COPYRIGHT)
    assert.equal(ssl._COPYRIGHT, core.copyright())
  end)

  it("refuses another module's C library first on package.cpath (LuaSec's ssl.so), in one line", function()
    local our_lua = assert(search("ssl", package.path)):gsub("/ssl%.lua$", "")
    local dir = luasec_dir()
    -- What LuaSec's own core says of itself (LuaSec's ssl.lua loads it).
    local says = child("", dir .. "/?.so", [[io.write(require("ssl.core").copyright(), "\n")]])
                 :match("^[^\n]+")
    assert.matches("LuaSec", says)
    local out = child(our_lua .. "/?.lua", dir .. "/?.so", REQUIRE)
    local line = out:match("^([^\n]*)\n$")
    assert.is_string(line, "not one line: " .. out)
    assert.matches("^sslua %d+%.%d+%.%d+: ssl%.lua needs the C library of the same release", line)
    assert.is_truthy(line:find("(" .. dir .. "/ssl.so)", 1, true), line)
    assert.is_truthy(line:find("not sslua's (its copyright() says: " .. says .. ")", 1, true), line)
  end)

  it("refuses sslua's C library of another release, in one line", function()
    local our_lua = assert(search("ssl", package.path)):gsub("/ssl%.lua$", "")
    local our_so = assert(search("ssl", package.cpath))
    local core = require "ssl.core"
    local out = child(our_lua .. "/?.lua", our_so:gsub("ssl%.so$", "?.so"), [[
      package.loaded["ssl.core"] = { version = "0.0.1", copyright = function() return "x" end }
    ]] .. REQUIRE)
    assert.equal(("sslua %s: ssl.lua needs the C library of the same release, but the one found for "
      .. "'ssl.core' (%s) is sslua 0.0.1's: put sslua %s's ssl.so first on package.cpath (LUA_CPATH) "
      .. "or reinstall sslua\n"):format(core.version, our_so, core.version), out)
  end)

  it("exposes LuaSec's submodules under their names", function()
    assert.equal(ssl.config, require "ssl.config")
    assert.equal(ssl.x509, require "ssl.x509")
    assert.is_function((require "ssl.core").create)
    assert.is_function((require "ssl.context").create)
    assert.equal(-1, (require "ssl.core").SOCKET_INVALID)
  end)

  it("sets no global", function()
    assert.is_nil(rawget(_G, "ssl"))
  end)

  it("loadcertificate is ssl.x509.load: PEM in, certificate out; garbage gives a message", function()
    local pem = certs.read "server-rsa.pem"
    local cert = assert(ssl.loadcertificate(pem))
    assert.equal(pem, cert:pem())
    assert.equal(cert, ssl.x509.load(pem))
    local none, err = ssl.loadcertificate("not a certificate")
    assert.is_nil(none)
    assert.matches("^error loading certificate %(.+%)$", err)
  end)

  it("ssl.config reports the OpenSSL it runs on", function()
    assert.matches("^OpenSSL 3%.", ssl.config.openssl)
    assert.is_true(ssl.config.algorithms.ec)
    assert.is_true(ssl.config.curves["P-256"])
    assert.is_true(ssl.config.curves.X25519)
  end)

  it("ssl.config.curves lists exactly names the curve parameter accepts", function()
    local n = 0
    for name, v in pairs(ssl.config.curves) do
      assert.is_true(v)
      local ctx, err = ssl.newcontext { mode = "client", curve = name }
      assert.is_nil(err, name)
      assert.is_userdata(ctx)
      n = n + 1
    end
    assert.is_true(n >= 10)
    assert.is_nil(ssl.config.curves.secp112r1)   -- built in, but no TLS group
  end)

  it("ssl.config.capabilities has LuaSec's shape", function()
    assert.same({ alpn = true, curves_list = true, ecdh_auto = true, psk = true,
                  dane = { no_ee_namechecks = true } }, ssl.config.capabilities)
  end)
end)
