/*
 * config.c - builds ssl.config from the tables in options.c.
 *
 * `options` keeps LuaSec's shape (name -> true) so existing checks work;
 * `option_effects` says, per name, whether this OpenSSL acts on it.
 */
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "config.h"
#include "options.h"

static void push_options(lua_State *L)
{
  const sslua_option *o;
  lua_newtable(L);
  for (o = sslua_options; o->name != NULL; o++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, o->name);
  }
  lua_setfield(L, -2, "options");
  lua_newtable(L);
  for (o = sslua_options; o->name != NULL; o++) {
    lua_pushstring(L, sslua_effect_name(o->effect));
    lua_setfield(L, -2, o->name);
  }
  lua_setfield(L, -2, "option_effects");
}

static void push_protocols(lua_State *L)
{
  const sslua_protocol *p;
  lua_newtable(L);
  for (p = sslua_protocols; p->name != NULL; p++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, p->name);
  }
  lua_setfield(L, -2, "protocols");
}

static void push_verify(lua_State *L)
{
  const sslua_flag *f;
  lua_newtable(L);
  for (f = sslua_verify_flags; f->name != NULL; f++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, f->name);
  }
  lua_setfield(L, -2, "verify");
}

/* Every named curve OpenSSL has built in, plus the aliases LuaSec lists. */
static void push_curves(lua_State *L)
{
  static const char *const aliases[] = { "P-256", "P-384", "P-521", "X25519", "X448", NULL };
  size_t i, n = EC_get_builtin_curves(NULL, 0);
  EC_builtin_curve *curves = n ? OPENSSL_malloc(n * sizeof(*curves)) : NULL;

  lua_newtable(L);
  if (curves != NULL) {
    n = EC_get_builtin_curves(curves, n);
    for (i = 0; i < n; i++) {
      const char *sn = OBJ_nid2sn(curves[i].nid);
      if (sn != NULL) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, sn);
      }
    }
    OPENSSL_free(curves);
  }
  for (i = 0; aliases[i] != NULL; i++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, aliases[i]);
  }
  lua_setfield(L, -2, "curves");
}

int luaopen_ssl_config(lua_State *L)
{
  lua_newtable(L);
  push_options(L);
  push_protocols(L);
  push_verify(L);
  push_curves(L);
  lua_newtable(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "ec");
  lua_setfield(L, -2, "algorithms");
  lua_newtable(L);
  lua_setfield(L, -2, "capabilities");
  lua_pushstring(L, OpenSSL_version(OPENSSL_VERSION));
  lua_setfield(L, -2, "openssl");
  return 1;
}
