-- The release's numbers and names agree wherever they are written: the C
-- core (src/version.h), the Lua front (src/ssl.lua), CHANGELOG.md, LICENSE
-- and the rockspecs; and the rockspecs build exactly src/*.c. Read from the
-- files themselves, so this holds whatever module is loaded.
local certs   = require "spec.helpers.certs"
local process = require "spec.helpers.process"

local function read(path)
  return assert(process.read_file(certs.root() .. "/" .. path), "cannot read " .. path)
end

-- The table a rockspec file defines (rockspecs are Lua assignments).
local function rockspec(path)
  local env = {}
  local chunk
  if setfenv then
    chunk = assert(loadstring(read(path), "@" .. path))
    setfenv(chunk, env)
  else
    chunk = assert(load(read(path), "@" .. path, "t", env))
  end
  chunk()
  return env
end

local function c_sources()
  local out = process.run({ "sh", "-c", "cd " .. process.quote(certs.root()) .. " && ls src/*.c" }, 10)
  local list = {}
  for file in out:gmatch("[^\n]+") do list[#list + 1] = file end
  return list
end

local VERSION = read("src/version.h"):match('#define SSLUA_VERSION%s+"([^"]+)"')
local SCM, RELEASE = "rockspecs/sslua-scm-1.rockspec", "rockspecs/sslua-" .. tostring(VERSION) .. "-1.rockspec"

describe("the release", function()
  it("has one version: src/version.h, ssl.lua, the newest CHANGELOG.md release, the rockspec", function()
    assert.matches("^%d+%.%d+%.%d+$", VERSION)
    assert.equal(VERSION, read("src/ssl.lua"):match('\nlocal VERSION = "([^"]+)"\n'))
    assert.equal(VERSION, read("CHANGELOG.md"):match("\n## %[(%d+%.%d+%.%d+)%] %- %d%d%d%d%-%d%d%-%d%d\n"))
    assert.equal(VERSION .. "-1", rockspec(RELEASE).version)
    assert.equal("scm-1", rockspec(SCM).version)
  end)

  it("carries LICENSE's copyright line in the C core", function()
    local line = read("LICENSE"):match("\n(Copyright %(c%) [^\n]+)\n")
    assert.is_string(line)
    assert.equal(line, read("src/version.h"):match('#define SSLUA_COPYRIGHT%s+"([^"]+)"'))
  end)

  for _, path in ipairs { SCM, RELEASE } do
    it(path .. " builds every C source, and installs ssl (C and Lua) and ssl.https", function()
      local spec = rockspec(path)
      assert.equal("sslua", spec.package)
      assert.equal("builtin", spec.build.type)
      local c = spec.build.modules.ssl
      local sources = {}
      for i, s in ipairs(c.sources) do sources[i] = s end
      table.sort(sources)
      assert.same(c_sources(), sources)
      assert.same({ "ssl", "crypto" }, c.libraries)
      assert.equal("openssl/ssl.h", spec.external_dependencies.OPENSSL.header)
      assert.equal("src/ssl/https.lua", spec.build.modules["ssl.https"])
      assert.same({ lua = { ssl = "src/ssl.lua" } }, spec.build.install)
      local names = {}
      for name in pairs(spec.build.modules) do names[#names + 1] = name end
      table.sort(names)
      assert.same({ "ssl", "ssl.https" }, names)
    end)
  end

  it("the two rockspecs differ only in version and source", function()
    local a, b = rockspec(SCM), rockspec(RELEASE)
    a.version, b.version, a.source, b.source = nil, nil, nil, nil
    assert.same(a, b)
    assert.equal("v" .. VERSION, rockspec(RELEASE).source.tag)
  end)
end)
