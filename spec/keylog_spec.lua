-- The `keylog` parameter: NSS key log lines to a file or a Lua
-- function, checked against what `openssl s_client -keylogfile` writes
-- for the very same connection (same labels, same client random).
local ssl     = require "ssl"
local socket  = require "socket"
local certs   = require "spec.helpers.certs"
local helpers = require "spec.helpers.peer"
local openssl = require "spec.helpers.openssl"
local pair    = require "spec.helpers.pair"

local function server(overrides) return certs.server_params(overrides) end
local function client(overrides) return certs.client_params(overrides) end

local LABELS = {
  tlsv1_2 = { "CLIENT_RANDOM" },
  tlsv1_3 = { "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
              "EXPORTER_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
              "SERVER_TRAFFIC_SECRET_0" },
}

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

-- { label = { client_random = secret } } from NSS key log lines, checking
-- each line's shape on the way: LABEL <64 hex> <hex secret>.
local function parse(lines)
  local t = {}
  for _, line in ipairs(lines) do
    if line ~= "" and not line:find("^#") then
      local label, random, secret = line:match("^([%u_%d]+) (%x+) (%x+)$")
      assert(label, "not an NSS key log line: " .. line)
      assert.equal(64, #random)
      assert.is_true(#secret >= 64, line)
      t[label] = t[label] or {}
      t[label][random] = secret
    end
  end
  return t
end

local function labels_of(t)
  local list = {}
  for label in pairs(t) do list[#list + 1] = label end
  table.sort(list)
  return list
end

local function tmpfile(defer)
  local path = os.tmpname()
  defer(function() os.remove(path) end)
  return path
end

describe("keylog", function()
  after_each(helpers.stop_all)

  for _, proto in ipairs { "tlsv1_2", "tlsv1_3" } do
    it(proto .. ": a path gets the NSS lines of both ends, the same secrets", function()
      local defer = helpers.cleanup(finally)
      local spath, cpath = tmpfile(defer), tmpfile(defer)
      local s, c, sres, cres = pair.connect(server { protocol = proto, keylog = spath },
                                            client { protocol = proto, keylog = cpath })
      defer(s); defer(c)
      assert.is_true(sres.ok and cres.ok)
      local st, ct = parse(read_lines(spath)), parse(read_lines(cpath))
      assert.same(LABELS[proto], labels_of(ct))
      assert.same(ct, st)
    end)

    it(proto .. ": a function is called with each line (no newline)", function()
      local defer = helpers.cleanup(finally)
      local got = {}
      local s, c, sres, cres = pair.connect(server { protocol = proto },
        client { protocol = proto, keylog = function(line) got[#got + 1] = line end })
      defer(s); defer(c)
      assert.is_true(sres.ok and cres.ok)
      assert.same(LABELS[proto], labels_of(parse(got)))
      for _, line in ipairs(got) do assert.is_nil(line:find("\n", 1, true)) end
    end)

    it(proto .. ": our server's lines match s_client -keylogfile's", function()
      local defer = helpers.cleanup(finally)
      local ours, theirs = tmpfile(defer), tmpfile(defer)
      local listener = defer(assert(socket.bind("127.0.0.1", 0)))
      local _, port = listener:getsockname()
      listener:settimeout(10)
      local cl = defer(openssl.s_client { port = tonumber(port), stdin = "",
        args = { proto == "tlsv1_2" and "-tls1_2" or "-tls1_3", "-keylogfile", theirs } })
      local conn = defer(assert(ssl.wrap(assert(listener:accept()),
                                         server { protocol = proto, keylog = ours })))
      conn:settimeout(10)
      assert.is_true(conn:dohandshake())
      assert.is_true(cl:wait(10))
      local ot, tt = parse(read_lines(ours)), parse(read_lines(theirs))
      assert.same(LABELS[proto], labels_of(ot))
      assert.same(labels_of(tt), labels_of(ot))
      -- Same connection: the same client random and secrets in both logs.
      assert.same(tt, ot)
    end)
  end

  it("lines are appended, never truncated", function()
    local defer = helpers.cleanup(finally)
    local path = tmpfile(defer)
    local f = assert(io.open(path, "w"))
    f:write("# kept\n")
    f:close()
    local ctx = assert(ssl.newcontext(client { protocol = "tlsv1_2", keylog = path }))
    for _ = 1, 2 do
      local s, c, sres, cres = pair.connect(server(), ctx)
      assert.is_true(sres.ok and cres.ok)
      s:close(); c:close()
    end
    local lines = read_lines(path)
    assert.equal("# kept", lines[1])
    assert.equal(3, #lines)
    local randoms = parse(lines).CLIENT_RANDOM
    local n = 0
    for _ in pairs(randoms) do n = n + 1 end
    assert.equal(2, n)
  end)

  it("a function that errors or closes its connection cannot break anything", function()
    local defer = helpers.cleanup(finally)
    local s, c, sres, cres = pair.connect(server(),
      client { keylog = function() error("boom") end })
    defer(s); defer(c)
    assert.is_true(sres.ok and cres.ok)
    assert.equal(3, s:send("hi\n"))
    assert.equal("hi", c:receive())
    local victim
    local s2, c2 = pair.wrap(server(), client { keylog = function() victim:close(); return {} end })
    victim = c2
    defer(s2); defer(c2)
    local _, cres2 = pair.handshake(s2, c2)
    assert.same({ ok = false, err = "closed" }, cres2)
    assert.matches("%(closed%)$", tostring(c2))
  end)

  it("bad values are refused at newcontext", function()
    assert.same({ nil, "invalid keylog parameter (string or function expected, got number)" },
                { ssl.newcontext(client { keylog = 1 }) })
    assert.same({ nil, "invalid keylog parameter (bad path)" }, { ssl.newcontext(client { keylog = "" }) })
    assert.same({ nil, "error opening keylog file (/nonexistent/dir/keys.log: No such file or directory)" },
                { ssl.newcontext(client { keylog = "/nonexistent/dir/keys.log" }) })
  end)
end)
