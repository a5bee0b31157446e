-- The docs gate: every public name of the module has an entry in
-- doc/reference.md, and every entry there names something that exists.
--
-- The names come from the module itself: the tables it exports (ssl,
-- ssl.context, ssl.x509, ssl.core, ssl.config, ssl.https), the method and
-- metamethod tables of its registry metatables (a session and an error
-- object are made first, since those classes are registered on first use),
-- the option, protocol and verify names in ssl.config, and the fields of
-- the error objects a failed handshake and a timeout return. Only the
-- newcontext keys and the verifyext flags exist nowhere as data: they are
-- read from the lists in spec/z_coverage_gate_spec.lua, and every
-- `params.key` the Lua front reads is added to them.
--
-- The convention (also stated at the top of doc/reference.md): the
-- reference is cut into sections by its level-2 headings (`## ...`); each
-- kind of name belongs to one section (SECTIONS below). Inside its
-- section, a name is documented by
--   * a deeper heading (`###`, `####`) holding it in a code span, or
--   * a table row whose first cell is that code span.
-- The code span gives the name as a program writes it: `ssl.wrap(...)`,
-- `ssl.context.setmode(...)`, `https.request(...)`, `ssl.core.SOCKET_INVALID`,
-- `ssl.config.options`, methods as `conn:receive(...)`, `ctx:...`,
-- `cert:...`, `session:...`; newcontext keys, flags, option and protocol
-- names, error object fields and metamethods (`__gc`) bare. A span naming
-- a function must show its parentheses. An option's row also gives, in its
-- second cell, the effect ssl.config.option_effects reports for it.
local ssl   = require "ssl"
local pair  = require "spec.helpers.pair"
local certs = require "spec.helpers.certs"

local DOC = "doc/reference.md"

-- Section headings, exactly as in the reference.
local SECTIONS = {
  ssl         = "The `ssl` module",
  params      = "Parameters of `ssl.newcontext`",
  protocols   = "Protocol names",
  verify      = "Verify flags",
  verifyext   = "verifyext flags",
  options     = "Option names",
  config      = "`ssl.config`",
  context     = "Contexts: `ssl.context`",
  connection  = "Connections",
  certificate = "Certificates: `ssl.x509`",
  session     = "Sessions",
  errors      = "Error objects",
  core        = "`ssl.core`",
  https       = "`ssl.https`",
}

-- Sections listing plain names: every row or heading there must be one.
local LIST_SECTIONS = { "params", "protocols", "verify", "verifyext", "options" }

-- Prefixes of names that must exist in the module wherever they appear.
local API_PREFIXES = { "ssl%.", "https%.", "conn:", "ctx:", "cert:", "session:" }

------------------------------------------------------------------------
-- The reference, parsed

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- The name a code span documents: up to "(" or the first blank.
local function span_name(span)
  local name = span:match("^([^%(%s]+)")
  return name, span:find("(", 1, true) ~= nil
end

local function cells(line)
  local out = {}
  for cell in line:gsub("^%s*|", ""):gmatch("([^|]*)|") do
    out[#out + 1] = cell:match("^%s*(.-)%s*$")
  end
  return out
end

-- sections[heading] = { entries = {name = {callable=, row=}}, count = n }
local function parse(text)
  local sections, current, fenced = {}, nil, false
  local function add(span, row)
    if not current then return end
    local name, callable = span_name(span)
    if not name then return end
    local e = current.entries[name] or { callable = false }
    e.callable = e.callable or callable
    e.row = e.row or row
    current.entries[name] = e
  end
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^%s*```") then
      fenced = not fenced
    elseif not fenced then
      local h2 = line:match("^##%s+(.-)%s*$")
      if h2 and not line:match("^###") then
        current = sections[h2] or { entries = {}, count = 0 }
        current.count = current.count + 1
        sections[h2] = current
      elseif line:match("^###+%s") then
        for span in line:gmatch("`([^`]+)`") do add(span) end
      elseif line:match("^%s*|%s*`") then
        local row = cells(line)
        add(row[1]:match("^`([^`]+)`"), row)
      end
    end
  end
  return sections
end

local doc_text = read_file(DOC)
local doc = parse(doc_text)

------------------------------------------------------------------------
-- The module's public names

local registry = debug.getregistry()

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do
    if type(k) == "string" then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

-- expected[section] = { {name=, callable=}, ... }
local expected = {}
local function expect(section, name, callable)
  local list = expected[section] or {}
  expected[section] = list
  list[#list + 1] = { name = name, callable = callable }
end

local function expect_table(section, prefix, t)
  for _, k in ipairs(sorted_keys(t)) do
    expect(section, prefix .. k, type(t[k]) == "function")
  end
end

-- Methods (the metatable's __index) and metamethods of a class.
local function expect_class(section, prefix, tname)
  local meta = registry[tname]
  assert(type(meta) == "table", "no metatable " .. tname .. " in the registry")
  local methods = meta.__index
  if type(methods) == "table" then expect_table(section, prefix, methods) end
  for _, k in ipairs(sorted_keys(meta)) do
    if k:sub(1, 2) == "__" and type(meta[k]) == "function" then expect(section, k, false) end
  end
end

local function expect_names(section, names)
  for _, k in ipairs(names) do expect(section, k, false) end
end

-- The quoted strings of `local NAME = { ... }` in the coverage gate.
local function gate_list(var)
  local body = read_file("spec/z_coverage_gate_spec.lua"):match("\nlocal " .. var .. " = (%b{})")
  assert(body, "no list " .. var .. " in spec/z_coverage_gate_spec.lua")
  local names = {}
  for name in body:gmatch('"([^"]+)"') do names[#names + 1] = name end
  return names
end

-- newcontext keys: the gate's list plus every key the Lua front reads.
local function param_names()
  local set, out = {}, {}
  for _, k in ipairs(gate_list("PARAMS")) do set[k] = true end
  local path = package.searchpath and package.searchpath("ssl", package.path)
  if path then
    local src = read_file(path)
    for _, pattern in ipairs { "params%.([%a_][%w_]*)", "entry%.([%a_][%w_]*)" } do
      for k in src:gmatch(pattern) do set[k] = true end
    end
  end
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- pair.handshake compares plain messages; this view of a connection hands
-- it tostring(err) and keeps each error object in `seen`.
local function as_strings(conn, seen)
  local view = {}
  function view.dohandshake()
    local ok, err = conn:dohandshake()
    if err ~= nil then seen[#seen + 1] = err end
    return ok, err ~= nil and tostring(err) or nil
  end
  return setmetatable(view, { __index = function(_, name)
    return function(_, ...) return conn[name](conn, ...) end
  end })
end

-- TLS 1.2 pairs: a session, and the error objects of handshake steps that
-- would block, of a receive that times out and of a failed verification
-- (the classes and fields that exist only once made).
local function made_objects()
  local C = certs.path
  local server = { mode = "server", protocol = "tlsv1_2",
                   key = C "server-rsa.key", certificate = C "server-rsa-chain.pem" }
  local errors = {}
  local s, c = pair.wrap(server, { mode = "client", protocol = "tlsv1_2", errorobjects = true })
  local sres, cres = pair.handshake(s, as_strings(c, errors))
  assert(sres.ok and cres.ok, "handshake failed: " .. tostring(sres.err or cres.err))
  local session = assert(c:getsession())
  c:settimeout(0)
  errors[#errors + 1] = select(2, c:receive())
  s:close(); c:close()
  s, c = pair.wrap(server, { mode = "client", protocol = "tlsv1_2", verify = "peer",
                             cafile = C "rogue-ca.pem", errorobjects = true })
  pair.handshake(s, as_strings(c, errors))
  s:close(); c:close()
  return session, errors
end

local function inventory()
  local session, errors = made_objects()
  assert(getmetatable(session), "the session has no metatable")
  local config = ssl.config

  expect_table("ssl", "ssl.", ssl)
  expect_table("https", "https.", require "ssl.https")
  expect_table("core", "ssl.core.", require "ssl.core")
  expect_table("context", "ssl.context.", require "ssl.context")
  expect_class("context", "ctx:", "SSL:Context")
  expect_class("connection", "conn:", "SSL:Connection")
  expect_table("certificate", "ssl.x509.", require "ssl.x509")
  expect_class("certificate", "cert:", "SSL:Certificate")
  expect_class("session", "session:", getmetatable(session).__name or "SSL:Session")
  expect_table("config", "ssl.config.", config)
  expect_names("config", sorted_keys(config.capabilities))
  expect_names("config", sorted_keys(type(config.capabilities.dane) == "table"
                                     and config.capabilities.dane or {}))
  expect_names("protocols", sorted_keys(config.protocols))
  expect_names("verify", sorted_keys(config.verify))
  expect_names("verifyext", gate_list("VERIFYEXT"))
  expect_names("options", sorted_keys(config.options))
  expect_names("params", param_names())

  local fields, meta = {}, nil
  for _, err in ipairs(errors) do
    assert(type(err) == "table", "no error object: " .. tostring(err))
    for _, k in ipairs(sorted_keys(err)) do fields[k] = true end
    meta = getmetatable(err)
  end
  expect_names("errors", sorted_keys(fields))
  for _, k in ipairs(sorted_keys(meta)) do
    if k:sub(1, 2) == "__" and type(meta[k]) == "function" then expect("errors", k, false) end
  end
end

------------------------------------------------------------------------

local KINDS = {
  { "ssl",         "every function and field of ssl" },
  { "params",      "every newcontext parameter" },
  { "protocols",   "every protocol name" },
  { "verify",      "every verify flag" },
  { "verifyext",   "every verifyext flag" },
  { "options",     "every option name" },
  { "config",      "every ssl.config field and capability" },
  { "context",     "every ssl.context function and context method" },
  { "connection",  "every connection method and metamethod" },
  { "certificate", "every ssl.x509 function and certificate method" },
  { "session",     "every session method and metamethod" },
  { "errors",      "every error object field and metamethod" },
  { "core",        "every ssl.core function and field" },
  { "https",       "every ssl.https function and field" },
}

describe("docs gate (" .. DOC .. ")", function()
  local built, why = pcall(inventory)

  it("finds each of its sections exactly once", function()
    for key, heading in pairs(SECTIONS) do
      local s = doc[heading]
      assert.is_table(s, "no section '## " .. heading .. "' (" .. key .. ")")
      assert.equal(1, s.count, "section '## " .. heading .. "' appears " .. s.count .. " times")
    end
  end)

  it("reads the module's public names", function()
    assert.is_true(built, tostring(why))
  end)

  for _, kind in ipairs(KINDS) do
    local key, what = kind[1], kind[2]
    it(what .. " is documented", function()
      assert.is_true(built, tostring(why))
      local names = expected[key] or {}
      assert.is_true(#names > 0, "empty inventory for " .. key)
      local section = doc[SECTIONS[key]] or { entries = {} }
      local missing, no_parens = {}, {}
      for _, n in ipairs(names) do
        local e = section.entries[n.name]
        if not e then
          missing[#missing + 1] = n.name
        elseif n.callable and not e.callable then
          no_parens[#no_parens + 1] = n.name
        end
      end
      assert.same({}, missing, ("undocumented in %s, section '## %s': %s")
        :format(DOC, SECTIONS[key], table.concat(missing, ", ")))
      assert.same({}, no_parens, ("functions documented without their arguments in %s: %s")
        :format(DOC, table.concat(no_parens, ", ")))
    end)
  end

  it("gives each option the effect ssl.config.option_effects reports", function()
    local section = doc[SECTIONS.options] or { entries = {} }
    local wrong = {}
    for name, effect in pairs(ssl.config.option_effects) do
      local e = section.entries[name]
      local shown = e and e.row and e.row[2] and e.row[2]:gsub("`", "")
      if shown ~= effect then
        wrong[#wrong + 1] = ("%s (reference: %s, module: %s)"):format(name, tostring(shown), effect)
      end
    end
    table.sort(wrong)
    assert.same({}, wrong, "option effects that differ: " .. table.concat(wrong, "; "))
  end)

  it("documents nothing the module does not have", function()
    assert.is_true(built, tostring(why))
    local known, by_section = {}, {}
    for key, names in pairs(expected) do
      by_section[key] = {}
      for _, n in ipairs(names) do
        known[n.name] = true
        by_section[key][n.name] = true
      end
    end
    local stale = {}
    for heading, section in pairs(doc) do
      for name in pairs(section.entries) do
        for _, prefix in ipairs(API_PREFIXES) do
          if name:match("^" .. prefix) and not known[name] then
            stale[#stale + 1] = name .. " (## " .. heading .. ")"
          end
        end
      end
    end
    -- A name a newer OpenSSL adds says so in its row ("OpenSSL 3.N and
    -- later"); with an older library loaded it is rightly missing.
    local lib = ssl.config.library
    local function newer_than_loaded(entry)
      local text = entry.row and table.concat(entry.row, " ") or ""
      local minor = text:match("OpenSSL 3%.(%d+) and later")
      return minor ~= nil and lib ~= nil and lib.number < 0x30000000 + tonumber(minor) * 0x100000
    end
    for _, key in ipairs(LIST_SECTIONS) do
      local section = doc[SECTIONS[key]] or { entries = {} }
      for name, entry in pairs(section.entries) do
        if not by_section[key][name] and not newer_than_loaded(entry) then
          stale[#stale + 1] = name .. " (## " .. SECTIONS[key] .. ")"
        end
      end
    end
    table.sort(stale)
    assert.same({}, stale, "documented but not in the module: " .. table.concat(stale, ", "))
  end)
end)
