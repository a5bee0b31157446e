/*
 * context.c - ssl.context: the context object and the settings every
 * context has (mode, ciphers, verify mode and depth, options). Features
 * add the other functions newcontext (ssl.lua) drives, one per parameter,
 * each returning true or false plus LuaSec's message.
 *
 * Bad values never raise: they come back as `false, message`. Only a
 * first argument that is not a context raises, as in lauxlib.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>

#include "context.h"
#include "errors.h"
#include "feature.h"
#include "objects.h"
#include "options.h"

#define REASON_LEN 256

static int context_index = -1;   /* SSL_CTX ex_data slot -> sslua_context */
static const sslua_feature *const *features;   /* set once by sslua_context_open */

/* ------------------------------------------------------------------ */
/* object                                                              */

sslua_context *sslua_context_test(lua_State *L, int idx)
{
  return (sslua_context *)luaL_testudata(L, idx, SSLUA_CONTEXT_META);
}

sslua_context *sslua_context_check(lua_State *L, int idx)
{
  sslua_context *c = sslua_context_test(L, idx);
  luaL_argcheck(L, c != NULL, idx, "invalid context");
  return c;
}

sslua_context *sslua_context_from_ssl_ctx(const SSL_CTX *ctx)
{
  return (sslua_context *)SSL_CTX_get_ex_data(ctx, context_index);
}

/* Lua values of features live in the context's user value (objects.h),
 * not in the registry: a callback that refers back to its context (a
 * closure over the object holding it, say) then forms a cycle the
 * collector can take. */
void sslua_context_set(lua_State *L, const sslua_context *c, const char *key, int idx)
{
  sslua_object_set(L, c, key, idx);
}

int sslua_context_get(lua_State *L, const sslua_context *c, const char *key)
{
  return sslua_object_get(L, c, key);
}

/* context.create(protocol) -> context | nil, "invalid protocol (X)" */
static int ctx_create(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  const sslua_protocol *proto = sslua_protocol_find(name);
  sslua_context *c;
  int i;

  if (proto == NULL)
    return sslua_fail(L, "invalid protocol (%s)", name);
  c = (sslua_context *)lua_newuserdata(L, sizeof(*c));
  memset(c, 0, sizeof(*c));
  luaL_setmetatable(L, SSLUA_CONTEXT_META);
  sslua_object_register(L, c, -1);      /* features' Lua values */
  sslua_err_clear();
  c->ctx = SSL_CTX_new(TLS_method());
  if (c->ctx == NULL) {
    char reason[REASON_LEN];
    return sslua_fail(L, "error creating context (%s)",
                      sslua_err_reason(reason, sizeof(reason), "out of memory"));
  }
  /* Without the back pointer every callback would find no context. */
  if (!SSL_CTX_set_ex_data(c->ctx, context_index, c)) {
    SSL_CTX_free(c->ctx);
    c->ctx = NULL;
    return sslua_fail(L, "error creating context (out of memory)");
  }
  for (i = 0; features[i] != NULL; i++) {
    if (features[i]->attach_context != NULL && !features[i]->attach_context(c->ctx)) {
      SSL_CTX_free(c->ctx);
      c->ctx = NULL;
      return sslua_fail(L, "error creating context (out of memory)");
    }
  }
  SSL_CTX_set_min_proto_version(c->ctx, proto->min_version);
  SSL_CTX_set_max_proto_version(c->ctx, proto->max_version);
  /* Partial writes let send() report exactly what went out on a timeout.
   * OpenSSL's record buffers are released by connection.c when a
   * connection goes idle, not after every record (RELEASE_BUFFERS). */
  SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                           SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* LuaSec keeps the session cache off; sessions are opt-in. */
  SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
  return 1;
}

static int ctx_gc(lua_State *L)
{
  sslua_context *c = (sslua_context *)luaL_checkudata(L, 1, SSLUA_CONTEXT_META);
  if (c->ctx != NULL) {
    /* Connections hold their own SSL_CTX reference; their callbacks find
     * no context from now on and fail cleanly instead of using freed data. */
    SSL_CTX_set_ex_data(c->ctx, context_index, NULL);
    SSL_CTX_free(c->ctx);
    c->ctx = NULL;
  }
  lua_newtable(L);                      /* drops the features' Lua values */
  lua_setuservalue(L, 1);
  return 0;
}

static int ctx_tostring(lua_State *L)
{
  sslua_context *c = (sslua_context *)luaL_checkudata(L, 1, SSLUA_CONTEXT_META);
  lua_pushfstring(L, "SSL context: %p%s", (void *)c, c->ctx ? "" : " (closed)");
  return 1;
}

/* ------------------------------------------------------------------ */
/* mode                                                                */

static int ctx_setmode(lua_State *L)
{
  static const char *const names[] = { "client", "server", NULL };
  sslua_context *c = sslua_context_check(L, 1);
  const char *mode = luaL_optstring(L, 2, "");
  int i;

  SSLUA_CHECK_OPEN(L, c);
  for (i = 0; names[i] != NULL; i++) {
    if (strcmp(names[i], mode) == 0) {
      c->mode = (i == 0) ? SSLUA_MODE_CLIENT : SSLUA_MODE_SERVER;
      return sslua_ok(L);
    }
  }
  return sslua_fail_false(L, "invalid mode (%s)", mode);
}

/* ------------------------------------------------------------------ */
/* ciphers, verification, options                                      */

typedef int (*cipher_setter)(SSL_CTX *, const char *);

static int set_cipher_string(lua_State *L, cipher_setter set)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *list = luaL_checkstring(L, 2);

  SSLUA_CHECK_OPEN(L, c);
  sslua_err_clear();
  if (set(c->ctx, list) != 1) {
    char why[REASON_LEN];
    return sslua_fail_false(L, "error setting cipher list (%s)",
                      sslua_err_reason(why, sizeof(why), "no cipher match"));
  }
  return sslua_ok(L);
}

static int ctx_setcipher(lua_State *L)
{
  return set_cipher_string(L, SSL_CTX_set_cipher_list);
}

static int ctx_setciphersuites(lua_State *L)
{
  return set_cipher_string(L, SSL_CTX_set_ciphersuites);
}

static int ctx_setdepth(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  lua_Integer depth;

  SSLUA_CHECK_OPEN(L, c);
  if (!lua_isinteger(L, 2) || (depth = lua_tointeger(L, 2)) < 0 || depth > 0x7fffffff)
    return sslua_fail_false(L, "invalid depth (%s)", sslua_describe(L, 2));
  SSL_CTX_set_verify_depth(c->ctx, (int)depth);
  return sslua_ok(L);
}

/* Folds the string arguments from `first` on through a flag table;
 * returns the name that is unknown (or not a string), else NULL. */
static const char *fold_names(lua_State *L, int first, int *bits,
                              const sslua_flag *table)
{
  int i, top = lua_gettop(L);
  for (i = first; i <= top; i++) {
    const char *name = lua_type(L, i) == LUA_TSTRING ? lua_tostring(L, i) : NULL;
    const sslua_flag *f = name ? sslua_flag_find(table, name) : NULL;
    if (f == NULL)
      return name ? name : sslua_describe(L, i);
    *bits |= f->flag;
  }
  return NULL;
}

/* context.setverify(ctx, flag...) */
static int ctx_setverify(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int bits = 0;
  const char *bad;

  SSLUA_CHECK_OPEN(L, c);
  if ((bad = fold_names(L, 2, &bits, sslua_verify_flags)) != NULL)
    return sslua_fail_false(L, "invalid verify option (%s)", bad);
  SSL_CTX_set_verify(c->ctx, bits, SSL_CTX_get_verify_callback(c->ctx));
  /* Without an id context a verifying server fails a client that offers a
   * TLS 1.3 ticket ("session id context uninitialized") instead of doing a
   * full handshake. Only there: external TLS 1.3 PSKs need it empty. */
  if (c->mode == SSLUA_MODE_SERVER && (bits & SSL_VERIFY_PEER))
    SSL_CTX_set_session_id_context(c->ctx, (const unsigned char *)"sslua", 5);
  return sslua_ok(L);
}

/* context.setoptions(ctx, name...): options are only ever added. */
static int ctx_setoptions(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  uint64_t bits = 0;
  int i, top = lua_gettop(L);

  SSLUA_CHECK_OPEN(L, c);
  for (i = 2; i <= top; i++) {
    const char *name = lua_type(L, i) == LUA_TSTRING ? lua_tostring(L, i) : NULL;
    const sslua_option *o = name ? sslua_option_find(name) : NULL;
    if (o == NULL)
      return sslua_fail_false(L, "invalid option (%s)", name ? name : sslua_describe(L, i));
    if (o->effect == SSLUA_EFFECT_YES)
      bits |= o->bits;
  }
  SSL_CTX_set_options(c->ctx, bits);
  return sslua_ok(L);
}

/* context.getoptions(ctx) -> { name, ... }: the option names whose bits
 * are all set on the context now (OpenSSL's defaults included), in
 * ssl.config.options order; names that set no bits here never appear. */
static int ctx_getoptions(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const sslua_option *o;
  uint64_t bits;
  int n = 0;

  SSLUA_CHECK_OPEN(L, c);
  bits = SSL_CTX_get_options(c->ctx);
  lua_newtable(L);
  for (o = sslua_options; o->name != NULL; o++) {
    if (o->effect == SSLUA_EFFECT_YES && o->bits != 0 && (bits & o->bits) == o->bits) {
      lua_pushstring(L, o->name);
      lua_rawseti(L, -2, ++n);
    }
  }
  return 1;
}

/* ------------------------------------------------------------------ */

static const luaL_Reg ctx_meta[] = {
  { "__gc",       ctx_gc },
  { "__close",    ctx_gc },
  { "__tostring", ctx_tostring },
  { NULL, NULL }
};

static const luaL_Reg ctx_functions[] = {
  { "create",          ctx_create },
  { "setmode",         ctx_setmode },
  { "setcipher",       ctx_setcipher },
  { "setciphersuites", ctx_setciphersuites },
  { "setdepth",        ctx_setdepth },
  { "setverify",       ctx_setverify },
  { "setoptions",      ctx_setoptions },
  { "getoptions",      ctx_getoptions },
  { NULL, NULL }
};

/* LuaSec's context objects have one method (setverifyext, verify.c); the
 * rest are functions of ssl.context taking the context first. */
int sslua_context_open(lua_State *L, sslua_feature_list list)
{
  int i;
  features = list;
  if (context_index < 0 &&
      (context_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
    return luaL_error(L, "ssl.context: out of memory");
  sslua_newclass(L, SSLUA_CONTEXT_META, NULL, ctx_meta);
  lua_newtable(L);
  luaL_setfuncs(L, ctx_functions, 0);
  for (i = 0; features[i] != NULL; i++) {
    sslua_class_extend(L, SSLUA_CONTEXT_META, features[i]->context_methods, 0);
    if (features[i]->context_functions != NULL)
      luaL_setfuncs(L, features[i]->context_functions, 0);
  }
  return 1;
}
