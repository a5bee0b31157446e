/*
 * x509_fuzz.c - libFuzzer harness for certificate loading (ssl.x509.load,
 * PEM and DER) and every method of the resulting object, through the Lua
 * API exactly as a program calls it.
 *
 * Input: byte 0 picks the format argument (none / "pem" / "der"), the rest
 * is the data. Invariants: load returns a certificate or nil + a string;
 * every method returns without raising; a certificate re-loaded from its
 * own pem() is == to it and has the same digest; a closed certificate
 * answers nil, "closed".
 */
#include <stdint.h>
#include "lua_state.h"

static const char *script =
  "local x509 = require 'ssl.x509'\n"
  "local formats = { false, 'pem', 'der' }\n"
  "return function(data, f)\n"
  "  local fmt = formats[f % 3 + 1] or nil\n"
  "  local c, err = x509.load(data, fmt)\n"
  "  if not c then assert(type(err) == 'string', 'no message'); return end\n"
  "  local pem = assert(c:pem())\n"
  "  c:pubkey(); c:digest(); c:digest('sha256'); c:digest('nosuch')\n"
  "  c:serial(); c:notbefore(); c:notafter(); c:validat(0); c:validat(2^40)\n"
  "  c:getsignaturename(); c:subject(); c:issuer(); c:extensions()\n"
  "  c:setencode('utf8'); c:subject(); c:issuer(); c:extensions()\n"
  "  c:checkhost('example.com'); c:checkhost('a.b', 'no_wildcards'); c:checkip('127.0.0.1')\n"
  "  c:checkip('::1'); c:issued(c); c:issued(c, c)\n"
  "  tostring(c)\n"
  "  local again = assert(x509.load(pem), 'pem() does not load again')\n"
  "  assert(again == c, 'reloaded certificate differs')\n"
  "  assert(again:digest('sha256') == c:digest('sha256'), 'digest differs')\n"
  "  getmetatable(c).__close(c)\n"
  "  local r, msg = c:pem()\n"
  "  assert(r == nil and msg == 'closed', 'closed certificate still answers')\n"
  "end\n";

static lua_State *L;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  if (L == NULL) L = fuzz_lua_state(script);
  lua_pushlstring(L, (const char *)data + 1, size - 1);
  lua_pushinteger(L, data[0]);
  fuzz_lua_run(L, 2);
  return 0;
}
