/*
 * config.c - builds ssl.config from the tables in options.c.
 *
 * `options` keeps LuaSec's shape (name -> true) so existing checks work;
 * `option_effects` says, per name, whether this OpenSSL acts on it;
 * `library` names the OpenSSL loaded at run time.
 */
#include <openssl/ec.h>
#include <openssl/err.h>
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

/* The groups `curve`/`curveslist` accept: every built-in curve name and
 * the aliases LuaSec lists, kept only if a scratch context takes it as a
 * TLS group (LuaSec listed curves such as secp112r1 that it then refused),
 * plus the finite-field groups. */
static void add_if_group(lua_State *L, SSL_CTX *scratch, const char *name)
{
  if (SSL_CTX_set1_groups_list(scratch, name) == 1) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, name);
  }
}

static void push_curves(lua_State *L)
{
  static const char *const extra[] = {
    "P-256", "P-384", "P-521", "X25519", "X448",
    "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192", NULL
  };
  SSL_CTX *scratch = SSL_CTX_new(TLS_method());
  size_t i, n = EC_get_builtin_curves(NULL, 0);
  EC_builtin_curve *curves = n ? OPENSSL_malloc(n * sizeof(*curves)) : NULL;

  lua_newtable(L);
  if (scratch != NULL && curves != NULL) {
    n = EC_get_builtin_curves(curves, n);
    for (i = 0; i < n; i++) {
      const char *sn = OBJ_nid2sn(curves[i].nid);
      if (sn != NULL)
        add_if_group(L, scratch, sn);
    }
  }
  for (i = 0; scratch != NULL && extra[i] != NULL; i++)
    add_if_group(L, scratch, extra[i]);
  OPENSSL_free(curves);
  SSL_CTX_free(scratch);
  ERR_clear_error();
  lua_setfield(L, -2, "curves");
}

/* LuaSec's capability flags, all present on OpenSSL 3. */
static void push_capabilities(lua_State *L)
{
  static const char *const flags[] = { "alpn", "curves_list", "ecdh_auto", "psk", NULL };
  int i;
  lua_newtable(L);
  for (i = 0; flags[i] != NULL; i++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, flags[i]);
  }
  lua_newtable(L);   /* dane: the flags setdane accepts */
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "no_ee_namechecks");
  lua_setfield(L, -2, "dane");
  lua_setfield(L, -2, "capabilities");
}

/* The OpenSSL actually loaded (which may be newer than the headers this
 * module was compiled with): library = {name, version, number, headers}. */
static void push_library(lua_State *L)
{
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "OpenSSL");
  lua_setfield(L, -2, "name");
  lua_pushstring(L, OpenSSL_version(OPENSSL_VERSION_STRING));
  lua_setfield(L, -2, "version");
  lua_pushinteger(L, (lua_Integer)OpenSSL_version_num());
  lua_setfield(L, -2, "number");
  lua_pushliteral(L, OPENSSL_VERSION_STR);
  lua_setfield(L, -2, "headers");
  lua_setfield(L, -2, "library");
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
  push_capabilities(L);
  push_library(L);
  lua_pushstring(L, OpenSSL_version(OPENSSL_VERSION));
  lua_setfield(L, -2, "openssl");
  return 1;
}
