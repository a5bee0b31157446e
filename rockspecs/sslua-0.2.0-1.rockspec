-- sslua 0.2.0, the release of CHANGELOG.md's 0.2.0.
--
-- `luarocks make` with this file, in the checkout, builds and installs the rock
-- (nothing is downloaded). It provides three modules under their usual
-- names: ssl (C: lib/lua/5.x/ssl.so, which also holds ssl.core,
-- ssl.context, ssl.x509 and ssl.config for require's all-in-one loader),
-- ssl (Lua: share/lua/5.x/ssl.lua, the front `require "ssl"` loads) and
-- ssl.https. The rock is named sslua, not luasec: a program that depends on
-- luasec still gets LuaSec, and both in one tree shadow each other (README,
-- "LuaRocks"). Keep the sources in step with src/*.c and the version with
-- src/version.h (spec/release_spec.lua checks both).
rockspec_format = "3.0"
package = "sslua"
version = "0.2.0-1"
-- Where a release is published; `luarocks make` builds from the checkout
-- and never fetches it.
source = {
  url = "git+https://github.com/sslua/sslua.git",
  tag = "v0.2.0",
}
description = {
  summary = "LuaSec-compatible TLS for Lua, over OpenSSL 3",
  detailed = [[
    A TLS module with LuaSec 1.x's API (require "ssl": newcontext, wrap,
    dohandshake, LuaSocket's send/receive and timeouts, ssl.https), written
    in C over OpenSSL 3. Bad values come back as nil, message instead of
    crashing or raising; hostname checks, system CAs, sessions, OCSP
    stapling and more are opt-in.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "luasocket >= 3.0",
}
external_dependencies = {
  OPENSSL = { header = "openssl/ssl.h" },
}
build = {
  type = "builtin",
  modules = {
    ssl = {
      sources = {
        "src/alert.c", "src/alpn.c", "src/buffer.c", "src/compat.c", "src/config.c",
        "src/connection.c", "src/context.c", "src/credentials.c", "src/dane.c",
        "src/errobj.c", "src/errors.c", "src/exdata.c", "src/groups.c",
        "src/hostname.c", "src/inspect.c", "src/keylog.c", "src/module.c",
        "src/objects.c", "src/ocsp.c", "src/options.c", "src/psk.c", "src/range.c",
        "src/session.c", "src/sni.c", "src/socket.c", "src/timeout.c", "src/verify.c",
        "src/x509.c", "src/x509_asn1.c", "src/x509_ext.c"
      },
      defines = { "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED" },
      incdirs = { "$(OPENSSL_INCDIR)" },
      libdirs = { "$(OPENSSL_LIBDIR)" },
      libraries = { "ssl", "crypto" },
    },
    ["ssl.https"] = "src/ssl/https.lua",
  },
  -- The Lua front has the C library's module name, so it cannot be a key
  -- of `modules` as well: installed as a Lua file named for module ssl.
  install = {
    lua = { ssl = "src/ssl.lua" },
  },
}
