/*
 * context.c - ssl.context: the functions newcontext (ssl.lua) drives, one
 * per parameter, each returning true or false plus LuaSec's message.
 *
 * Bad values never raise: they come back as `false, message`. Only a
 * first argument that is not a context raises, as in lauxlib.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "alpn.h"
#include "context.h"
#include "credentials.h"
#include "dane.h"
#include "errobj.h"
#include "error.h"
#include "groups.h"
#include "hostname.h"
#include "keylog.h"
#include "ocsp.h"
#include "options.h"
#include "psk.h"
#include "range.h"
#include "session.h"
#include "verify.h"

#define REASON_LEN 256

static int context_index = -1;   /* SSL_CTX ex_data slot -> sslua_context */

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

/* Callback values live in the context's user value (a table, slot + 1 ->
 * value), not in the registry: a callback that refers back to its context
 * (a closure over the object holding it, say) then forms a cycle the
 * collector can take. OpenSSL callbacks only know the C pointer; a weak
 * registry table leads from it to the context. refs[slot] only says
 * whether a value is set. */
static char owners_key;   /* registry[&owners_key]: {[c] = context}, weak values */

static void push_owners(lua_State *L)
{
  lua_pushlightuserdata(L, &owners_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_istable(L, -1))
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushlightuserdata(L, &owners_key);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

/* Pushes c's callback table; returns 0 after pushing nil when c is gone. */
static int push_callbacks(lua_State *L, const sslua_context *c)
{
  push_owners(L);
  lua_pushlightuserdata(L, (void *)c);
  lua_rawget(L, -2);
  lua_remove(L, -2);
  if (lua_type(L, -1) != LUA_TUSERDATA)
    return 0;
  lua_getuservalue(L, -1);
  lua_remove(L, -2);
  return lua_istable(L, -1);
}

void sslua_context_setref(lua_State *L, sslua_context *c, int slot, int idx)
{
  if (idx < 0)
    idx = lua_gettop(L) + idx + 1;
  if (push_callbacks(L, c)) {
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, slot + 1);
    c->refs[slot] = lua_isnil(L, idx) ? LUA_REFNIL : slot + 1;
  }
  lua_pop(L, 1);
}

int sslua_context_pushref(lua_State *L, const sslua_context *c, int slot)
{
  if (c->refs[slot] == LUA_NOREF || c->refs[slot] == LUA_REFNIL) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  if (push_callbacks(L, c)) {
    lua_rawgeti(L, -1, slot + 1);
    lua_remove(L, -2);
  }
  return lua_type(L, -1);
}

/* Context functions after close answer `false, "closed"` rather than crash. */
#define CHECK_OPEN(L, c) \
  do { if ((c)->ctx == NULL) return sslua_fail_false((L), "closed"); } while (0)

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
  for (i = 0; i < SSLUA_CTX_NREFS; i++)
    c->refs[i] = LUA_NOREF;
  luaL_setmetatable(L, SSLUA_CONTEXT_META);
  lua_newtable(L);                      /* callback values (setref) */
  lua_setuservalue(L, -2);
  push_owners(L);
  lua_pushlightuserdata(L, c);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  sslua_err_clear();
  c->ctx = SSL_CTX_new(TLS_method());
  if (c->ctx == NULL) {
    char reason[REASON_LEN];
    return sslua_fail(L, "error creating context (%s)",
                      sslua_err_reason(reason, sizeof(reason), "out of memory"));
  }
  SSL_CTX_set_ex_data(c->ctx, context_index, c);
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
  int i;
  if (c->ctx != NULL) {
    /* Connections hold their own SSL_CTX reference; their callbacks find
     * no context from now on and fail cleanly instead of using freed data. */
    SSL_CTX_set_ex_data(c->ctx, context_index, NULL);
    SSL_CTX_free(c->ctx);
    c->ctx = NULL;
  }
  for (i = 0; i < SSLUA_CTX_NREFS; i++)
    c->refs[i] = LUA_NOREF;
  lua_newtable(L);                      /* drops the callback values */
  lua_setuservalue(L, 1);
  OPENSSL_free(c->alpn);
  c->alpn = NULL;
  c->alpn_len = 0;
  return 0;
}

static int ctx_tostring(lua_State *L)
{
  sslua_context *c = (sslua_context *)luaL_checkudata(L, 1, SSLUA_CONTEXT_META);
  lua_pushfstring(L, "SSL context: %p%s", (void *)c, c->ctx ? "" : " (closed)");
  return 1;
}

/* ------------------------------------------------------------------ */
/* mode, identities                                                    */

static int ctx_setmode(lua_State *L)
{
  static const char *const names[] = { "client", "server", NULL };
  sslua_context *c = sslua_context_check(L, 1);
  const char *mode = luaL_optstring(L, 2, "");
  int i;

  CHECK_OPEN(L, c);
  for (i = 0; names[i] != NULL; i++) {
    if (strcmp(names[i], mode) == 0) {
      c->mode = (i == 0) ? SSLUA_MODE_CLIENT : SSLUA_MODE_SERVER;
      return sslua_ok(L);
    }
  }
  return sslua_fail_false(L, "invalid mode (%s)", mode);
}

typedef sslua_password password_source;

/* OpenSSL's passphrase callback: never prompts on a terminal. */
static int password_cb(char *buf, int size, int rwflag, void *u)
{
  password_source *src = (password_source *)u;
  lua_State *L = src->L;
  size_t len = 0;
  const char *pw;

  (void)rwflag;
  if (src->index == 0) {
    snprintf(src->error, sizeof(src->error), "password required");
    return -1;
  }
  lua_pushvalue(L, src->index);
  if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) != 0) {
    snprintf(src->error, sizeof(src->error), "password callback failed: %s",
             lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error object)");
    lua_pop(L, 1);
    return -1;
  }
  /* A non-string result is an empty passphrase, as in LuaSec. */
  pw = (lua_type(L, -1) == LUA_TSTRING) ? lua_tolstring(L, -1, &len) : "";
  if (len > (size_t)size)
    len = (size_t)size;
  memcpy(buf, pw, len);
  lua_pop(L, 1);
  return (int)len;
}

/* The same callback for keys loaded from memory (credentials.c). */
int sslua_password_cb(char *buf, int size, int rwflag, void *u)
{
  return password_cb(buf, size, rwflag, u);
}

/* Opens a file for reading, or leaves strerror text in `why`. */
static BIO *open_file(const char *path, char *why, size_t len)
{
  BIO *bio;
  errno = 0;
  bio = BIO_new_file(path, "r");
  if (bio == NULL) {
    snprintf(why, len, "%s", strerror(errno ? errno : ENOENT));
    ERR_clear_error();
  }
  return bio;
}

/* context.loadkey(ctx, file [, password]) */
static int ctx_loadkey(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  password_source src;
  char why[REASON_LEN];
  EVP_PKEY *key;
  BIO *bio;

  CHECK_OPEN(L, c);
  memset(&src, 0, sizeof(src));
  src.L = L;
  if (lua_type(L, 3) == LUA_TSTRING || lua_type(L, 3) == LUA_TFUNCTION)
    src.index = 3;
  else if (!lua_isnoneornil(L, 3))
    return sslua_fail_false(L, "invalid password type");
  sslua_err_clear();
  if ((bio = open_file(path, why, sizeof(why))) == NULL)
    return sslua_fail_false(L, "error loading private key (%s: %s)", path, why);
  key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, &src);
  BIO_free(bio);
  if (c->ctx == NULL) {            /* the password function closed it */
    EVP_PKEY_free(key);
    return sslua_fail_false(L, "closed");
  }
  if (key == NULL) {
    if (src.error[0] == '\0')
      sslua_err_reason(src.error, sizeof(src.error), "no private key found");
    ERR_clear_error();
    return sslua_fail_false(L, "error loading private key (%s: %s)", path, src.error);
  }
  if (SSL_CTX_use_PrivateKey(c->ctx, key) != 1) {
    EVP_PKEY_free(key);
    return sslua_fail_false(L, "error loading private key (%s: %s)", path,
                      sslua_err_reason(why, sizeof(why), "unusable key"));
  }
  EVP_PKEY_free(key);
  return sslua_ok(L);
}

/* context.loadcert(ctx, file): a PEM chain, leaf first. */
static int ctx_loadcert(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  char why[REASON_LEN];
  BIO *bio;

  CHECK_OPEN(L, c);
  sslua_err_clear();
  if ((bio = open_file(path, why, sizeof(why))) == NULL)
    return sslua_fail_false(L, "error loading certificate (%s: %s)", path, why);
  BIO_free(bio);
  if (SSL_CTX_use_certificate_chain_file(c->ctx, path) != 1)
    return sslua_fail_false(L, "error loading certificate (%s: %s)", path,
                      sslua_err_reason(why, sizeof(why), "no certificate found"));
  return sslua_ok(L);
}

/* context.checkkey(ctx) -> boolean: the last identity's key matches. */
static int ctx_checkkey(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int ok;
  CHECK_OPEN(L, c);
  ok = SSL_CTX_check_private_key(c->ctx) == 1;
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

/* ------------------------------------------------------------------ */
/* trust, ciphers, verification, options                               */

/* context.locations(ctx, cafile, capath): a missing capath is an error,
 * where LuaSec (and OpenSSL) accepted it silently. */
static int ctx_locations(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *cafile = luaL_optstring(L, 2, NULL);
  const char *capath = luaL_optstring(L, 3, NULL);
  char why[REASON_LEN];
  struct stat st;

  CHECK_OPEN(L, c);
  sslua_err_clear();
  if (cafile != NULL) {
    BIO *bio = open_file(cafile, why, sizeof(why));
    if (bio == NULL)
      return sslua_fail_false(L, "error loading CA locations (%s: %s)", cafile, why);
    BIO_free(bio);
    if (SSL_CTX_load_verify_locations(c->ctx, cafile, NULL) != 1)
      return sslua_fail_false(L, "error loading CA locations (%s: %s)", cafile,
                        sslua_err_reason(why, sizeof(why), "no certificate found"));
  }
  if (capath != NULL) {
    if (stat(capath, &st) != 0)
      return sslua_fail_false(L, "error loading CA locations (%s: %s)", capath, strerror(errno));
    if (!S_ISDIR(st.st_mode))
      return sslua_fail_false(L, "error loading CA locations (%s: %s)", capath, strerror(ENOTDIR));
    if (SSL_CTX_load_verify_locations(c->ctx, NULL, capath) != 1)
      return sslua_fail_false(L, "error loading CA locations (%s: %s)", capath,
                        sslua_err_reason(why, sizeof(why), "unusable directory"));
  }
  return sslua_ok(L);
}

typedef int (*cipher_setter)(SSL_CTX *, const char *);

static int set_cipher_string(lua_State *L, cipher_setter set)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *list = luaL_checkstring(L, 2);

  CHECK_OPEN(L, c);
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

  CHECK_OPEN(L, c);
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

  CHECK_OPEN(L, c);
  if ((bad = fold_names(L, 2, &bits, sslua_verify_flags)) != NULL)
    return sslua_fail_false(L, "invalid verify option (%s)", bad);
  c->verify = bits;
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

  CHECK_OPEN(L, c);
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

/* ------------------------------------------------------------------ */

static const luaL_Reg ctx_meta[] = {
  { "__gc",       ctx_gc },
  { "__close",    ctx_gc },
  { "__tostring", ctx_tostring },
  { NULL, NULL }
};

/* LuaSec's context objects have one method, setverifyext (verify.c, added
 * in luaopen); the rest are functions of ssl.context taking the context. */
static const luaL_Reg ctx_methods[] = {
  { NULL, NULL }
};

static const luaL_Reg ctx_functions[] = {
  { "create",          ctx_create },
  { "setmode",         ctx_setmode },
  { "loadkey",         ctx_loadkey },
  { "loadcert",        ctx_loadcert },
  { "checkkey",        ctx_checkkey },
  { "locations",       ctx_locations },
  { "setcipher",       ctx_setcipher },
  { "setciphersuites", ctx_setciphersuites },
  { "setdepth",        ctx_setdepth },
  { "setverify",       ctx_setverify },
  { "setoptions",      ctx_setoptions },
  { NULL, NULL }
};

/* Function sets of the features that configure a context, each in its
 * own file; all land in the one ssl.context table, as in LuaSec. */
static const luaL_Reg *const function_sets[] = {
  ctx_functions,
  sslua_verify_context_functions,
  sslua_alpn_context_functions,
  sslua_groups_context_functions,
  sslua_psk_context_functions,
  sslua_dane_context_functions,
  sslua_hostname_context_functions,
  sslua_credentials_context_functions,
  sslua_range_context_functions,
  sslua_session_context_functions,
  sslua_keylog_context_functions,
  sslua_errobj_context_functions,
  sslua_ocsp_context_functions,
  NULL
};

int luaopen_ssl_context(lua_State *L)
{
  int i;
  if (context_index < 0)
    context_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  sslua_newclass(L, SSLUA_CONTEXT_META, ctx_methods, ctx_meta);
  luaL_getmetatable(L, SSLUA_CONTEXT_META);
  lua_getfield(L, -1, "__index");
  luaL_setfuncs(L, sslua_verify_context_functions, 0);
  lua_pop(L, 2);
  lua_newtable(L);
  for (i = 0; function_sets[i] != NULL; i++)
    luaL_setfuncs(L, function_sets[i], 0);
  return 1;
}
