-- spec/helpers/identity.lua - the fixture of the specs that check a
-- server's identity (hostname, verifycallback, system_ca, secureclient):
-- our server with the RSA leaf of the test PKI, a client that verifies it
-- against the test CA, and a handshake that yields the client's result.
--
--   local identity = require "spec.helpers.identity"
--   local cres, c, s = identity.run(defer, nil, identity.client { verifyhost = "localhost" })
--   -- cres = { ok = true } or { ok = false, err = "..." }
local certs = require "spec.helpers.certs"
local pair  = require "spec.helpers.pair"

local M = {}

certs.ensure()

M.SERVER = { mode = "server", key = certs.path "server-rsa.key",
             certificate = certs.path "server-rsa-chain.pem" }

-- A client that verifies the peer against ca.pem, plus `extra`.
function M.client(extra)
  return certs.merge({ mode = "client", verify = "peer", cafile = certs.path "ca.pem" }, extra)
end

-- run(defer, server, client[, setup]) -> client's result, client, server.
-- Handshakes a fresh pair (server nil: M.SERVER); both ends are closed by
-- the test's cleanup (defer = helpers.cleanup(finally)).
function M.run(defer, server, client, setup)
  return pair.client_result(defer, server or M.SERVER, client, setup)
end

M.MISMATCH = 'certificate verify failed (hostname mismatch: "%s")'

return M
