-- https_port_spec: a URL whose port is empty ("https://host:/") takes
-- https.PORT, as a URL without a port does; socket.http would otherwise
-- read the empty port as no port at all and go to its own default.
-- Observed with a LuaSocket listener in this process that never answers:
-- the request must reach it (and time out in the TLS handshake).
local https  = require "ssl.https"
local socket = require "socket"

describe("ssl.https and the default port", function()
  local listener, saved_port, saved_timeout

  before_each(function()
    listener = assert(socket.bind("127.0.0.1", 0))
    saved_port, saved_timeout = https.PORT, https.TIMEOUT
    local _, port = listener:getsockname()
    https.PORT, https.TIMEOUT = tonumber(port), 0.5
  end)

  after_each(function()
    https.PORT, https.TIMEOUT = saved_port, saved_timeout
    listener:close()
  end)

  local function pack(...) return { n = select("#", ...), ... } end

  -- The request's results, and whether it connected to the listener.
  local function request_reaches_listener(url)
    local r = pack(https.request(url))
    listener:settimeout(1)
    local conn = listener:accept()
    if conn then conn:close() end
    return r, conn ~= nil
  end

  for _, url in ipairs { "https://127.0.0.1/", "https://127.0.0.1:/" } do
    it(url .. " goes to https.PORT", function()
      local r, reached = request_reaches_listener(url)
      assert.is_true(reached, "no connection reached https.PORT")
      assert.same({ n = 2, nil, "timeout" }, r)
    end)
  end

  it("an explicit port wins over https.PORT", function()
    local other = assert(socket.bind("127.0.0.1", 0))
    finally(function() other:close() end)
    local _, port = other:getsockname()
    local r, reached = request_reaches_listener("https://127.0.0.1:" .. port .. "/")
    assert.is_false(reached)
    other:settimeout(1)
    local conn = other:accept()
    assert.is_truthy(conn, "no connection reached the URL's port")
    conn:close()
    assert.same({ n = 2, nil, "timeout" }, r)
  end)
end)
