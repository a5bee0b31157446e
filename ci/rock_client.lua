-- ci/rock_client.lua - run by ci/rock with the paths of `luarocks path`:
-- does `require "ssl"` load sslua from the rocks tree, and does it work?
--
--   lua ci/rock_client.lua origin TREE
--       ssl (Lua), ssl.core (through the all-in-one ssl.so) and ssl.https
--       come from TREE, and they are sslua of one release
--   lua ci/rock_client.lua handshake PORT CAFILE
--       a verified TLS handshake with the server on 127.0.0.1:PORT (openssl
--       s_server -rev), then one line there and back (reversed)
-- Prints what it found; exits non-zero on the first thing that is wrong.
local mode = ...

local function fail(fmt, ...)
  io.stderr:write(("rock_client: " .. fmt .. "\n"):format(...))
  os.exit(1)
end

-- The file require would load for `name` through `path` (5.1 has no
-- package.searchpath); with `root`, the all-in-one library as well.
local function search(name, path, root)
  local names = { (name:gsub("%.", "/")) }
  if root then names[2] = name:match("^[^.]+") end
  for _, n in ipairs(names) do
    for template in path:gmatch("[^;]+") do
      local file = template:gsub("%?", n)
      local f = io.open(file, "rb")
      if f then f:close() return file end
    end
  end
end

if mode == "origin" then
  local tree = select(2, ...)
  local abi = type(jit) == "table" and "5.1" or _VERSION:match("%d+%.%d+")
  local want = {
    { "ssl",       search("ssl", package.path),             tree .. "/share/lua/" .. abi .. "/ssl.lua" },
    { "ssl.core",  search("ssl.core", package.cpath, true), tree .. "/lib/lua/" .. abi .. "/ssl.so" },
    { "ssl.https", search("ssl.https", package.path),       tree .. "/share/lua/" .. abi .. "/ssl/https.lua" },
  }
  for _, w in ipairs(want) do
    if w[2] ~= w[3] then fail("%s is found at %s, not in the tree (%s)", w[1], tostring(w[2]), w[3]) end
    print(w[1] .. " from " .. w[2])
  end
  local ssl = require "ssl"
  local core = require "ssl.core"
  if ssl._IMPLEMENTATION ~= "sslua" then fail("ssl._IMPLEMENTATION is %s", tostring(ssl._IMPLEMENTATION)) end
  if ssl._VERSION ~= "1.3.2-sslua-" .. tostring(core.version) then
    fail("ssl._VERSION %s does not match the C core's version %s", ssl._VERSION, tostring(core.version))
  end
  local https = require "ssl.https"
  if type(https.request) ~= "function" then fail("ssl.https has no request function") end
  print(("%s %s (%s)"):format(ssl._IMPLEMENTATION, ssl._VERSION, ssl._COPYRIGHT))
elseif mode == "handshake" then
  local port, cafile = select(2, ...)
  local socket = require "socket"
  local ssl = require "ssl"
  local tcp = socket.tcp()
  tcp:settimeout(20)
  local ok, err = tcp:connect("127.0.0.1", tonumber(port))
  if not ok then fail("connect to 127.0.0.1:%s: %s", port, err) end
  local conn
  conn, err = ssl.wrap(tcp, { mode = "client", protocol = "any", verify = "peer",
                              cafile = cafile, verifyhost = "localhost" })
  if not conn then fail("wrap: %s", err) end
  conn:settimeout(20)
  ok, err = conn:dohandshake()
  if not ok then fail("handshake: %s", err) end
  local verified, why = conn:getpeerverification()
  if verified ~= true then fail("peer not verified: %s", tostring(why)) end
  ok, err = conn:send("sslua rock\n")
  if not ok then fail("send: %s", err) end
  local line
  line, err = conn:receive("*l")
  if line ~= "kcor aulss" then fail("received %s (%s), expected the line reversed", tostring(line), tostring(err)) end
  print(("verified %s handshake, line echoed reversed: %s"):format(conn:info("protocol"), line))
  conn:close()
else
  fail("unknown mode %s", tostring(mode))
end
