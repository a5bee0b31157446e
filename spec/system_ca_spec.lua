-- cafile = "system": OpenSSL's default certificate store (SSL_CERT_FILE
-- and friends), unless a file of that name exists. Against our own server
-- (pair) and, from a child Lua whose environment and directory it sets,
-- `openssl s_server`.
local certs   = require "spec.helpers.certs"
local identity = require "spec.helpers.identity"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local oracle  = require "spec.helpers.x509oracle"
local process = require "spec.helpers.process"
local luapeer = require "spec.helpers.luapeer"

local C = certs.path
local client, run = identity.client, identity.run

describe("cafile = 'system'", function()
  after_each(helpers.stop_all)

  it("loads the system store, which does not hold the test root", function()
    local defer = helpers.cleanup(finally)
    local cres = run(defer, nil, client { cafile = "system" })
    assert.same({ ok = false, err = oracle.handshake_message {
      leaf = C "server-rsa.pem", untrusted = C "int-ca.pem", cafile = false } }, cres)
  end)

  -- A child process: OpenSSL's default paths honour SSL_CERT_FILE, and a
  -- file named "system" in the current directory wins over the store.
  local CHILD = [[
local socket, ssl = require "socket", require "ssl"
local port = tonumber(arg[1])
local tcp = socket.tcp(); tcp:settimeout(5); assert(tcp:connect("127.0.0.1", port))
local conn = assert(ssl.wrap(tcp, { mode = "client", verify = "peer", cafile = "system",
                                    verifyhost = "localhost" }))
conn:settimeout(5)
print("RESULT", conn:dohandshake())
conn:close()
]]

  local function child(defer, env, system_file)
    local srv = defer(openssl.s_server { naccept = 1 })
    local dir = process.mktempdir("sslua-system")
    defer(function() process.rmtree(dir) end)
    process.write_file(dir .. "/child.lua", CHILD)
    if system_file then process.write_file(dir .. "/system", certs.read(system_file)) end
    local h = defer(process.spawn({ luapeer.interpreter(), dir .. "/child.lua", srv.port },
                                  { dir = dir, cwd = dir, env = luapeer.env(env), name = "system-ca child" }))
    local _, out = h:wait_output("RESULT[^\n]*\n", 10)
    return out:match("RESULT\t([^\n]*)")
  end

  it("is OpenSSL's default store: SSL_CERT_FILE points it elsewhere", function()
    local defer = helpers.cleanup(finally)
    assert.equal("true", child(defer, { SSL_CERT_FILE = C "ca.pem" }))
  end)

  it("is a path when a file of that name exists", function()
    local defer = helpers.cleanup(finally)
    assert.equal("true", child(defer, {}, "ca.pem"))
    assert.equal("false\t" .. oracle.handshake_message {
      leaf = C "server-rsa.pem", untrusted = C "int-ca.pem", cafile = C "rogue-ca.pem" },
      child(defer, { SSL_CERT_FILE = C "ca.pem" }, "rogue-ca.pem"))
  end)
end)
