/*
 * range.c - protocol = {min = "tlsv1_2", max = "tlsv1_3"}, either bound
 * optional, beside LuaSec's single names.
 *
 * Bounds are names from the one protocol table (options.c): a lower bound
 * takes the name's lowest version, an upper bound its highest, so "any"
 * leaves that side open and "tlsv1_2" means exactly what it does alone.
 */
#include <openssl/ssl.h>

#include "context.h"
#include "options.h"
#include "range.h"

/* The bound at idx: 1 and its version (0 = open), or 0 after pushing
 * `false, "invalid protocol (X)"`. */
static int bound(lua_State *L, int idx, int upper, int *version)
{
  const sslua_protocol *p = NULL;
  if (lua_isnoneornil(L, idx)) {
    *version = 0;
    return 1;
  }
  if (lua_type(L, idx) == LUA_TSTRING)
    p = sslua_protocol_find(lua_tostring(L, idx));
  if (p == NULL) {
    sslua_fail_false(L, "invalid protocol (%s)", sslua_describe(L, idx));
    return 0;
  }
  *version = upper ? p->max_version : p->min_version;
  return 1;
}

/* context.setprotocolrange(ctx, min, max): replaces both bounds. */
static int ctx_setprotocolrange(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int min, max;

  SSLUA_CHECK_OPEN(L, c);
  if (!bound(L, 2, 0, &min) || !bound(L, 3, 1, &max))
    return 2;
  if (min != 0 && max != 0 && min > max)
    return sslua_fail_false(L, "invalid protocol range (min > max)");
  if (SSL_CTX_set_min_proto_version(c->ctx, min) != 1 ||
      SSL_CTX_set_max_proto_version(c->ctx, max) != 1)
    return sslua_fail_false(L, "invalid protocol range (not supported)");
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "setprotocolrange", ctx_setprotocolrange },
  { NULL, NULL }
};

const sslua_feature sslua_range_feature = {
  .name = "range",
  .context_functions = context_functions,
};
