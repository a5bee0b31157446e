/*
 * key_fuzz.c - libFuzzer harness for private key loading
 * (ssl.context.loadkey) and the passphrase callback.
 *
 * The module only loads keys from files, so the input goes into a memfd
 * and loadkey reads it as /proc/self/fd/N: the same code path as a file.
 * Byte 0 picks the password argument: none, a string, a function
 * returning a string, a function returning junk, or a function raising.
 * Invariants: loadkey returns true or false + a string, never raises;
 * checkkey returns a boolean.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lua_state.h"

static const char *script =
  "local context = require 'ssl.context'\n"
  "local passwords = {\n"
  "  false, 'secret', 'sslua-test-password', function() return 'secret' end,\n"
  "  function() return {} end, function() error('no') end,\n"
  "  function() return string.rep('p', 5000) end }\n"
  "return function(path, p)\n"
  "  local ctx = assert(context.create('any'))\n"
  "  assert(context.setmode(ctx, 'server'))\n"
  "  local pw = passwords[p % #passwords + 1] or nil\n"
  "  local ok, msg = context.loadkey(ctx, path, pw)\n"
  "  assert(ok == true or (ok == false and type(msg) == 'string'), 'bad loadkey result')\n"
  "  assert(type(context.checkkey(ctx)) == 'boolean')\n"
  "  getmetatable(ctx).__close(ctx)\n"
  "end\n";

static lua_State *L;
static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  if (L == NULL) {
    L = fuzz_lua_state(script);
    fd = memfd_create("key", 0);
    if (fd < 0) { perror("memfd_create"); abort(); }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
    abort();
  lua_pushstring(L, path);
  lua_pushinteger(L, data[0]);
  fuzz_lua_run(L, 2);
  return 0;
}
