/*
 * verify.c - verifyext: what LuaSec adds on top of OpenSSL's verification.
 *
 * lsec_continue lets the handshake go on whatever the chain's errors and
 * records each one at its depth for getpeerverification(); the record
 * lives in the connection (registry reference), never in the context, so
 * concurrent handshakes on one context cannot mix their results.
 */
#include <string.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "context.h"
#include "hostname.h"
#include "options.h"
#include "verify.h"

static const sslua_flag verifyext_flags[] = {
  { "lsec_continue",       SSLUA_VERIFYEXT_CONTINUE },
  { "lsec_ignore_purpose", SSLUA_VERIFYEXT_IGNORE_PURPOSE },
  { "crl_check",           X509_V_FLAG_CRL_CHECK << 8 },
  { "crl_check_chain",     (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) << 8 },
  { NULL, 0 }
};

/* Appends `msg` to the list for `depth` in the connection's record. */
static void record_error(sslua_conn *c, int depth, const char *msg)
{
  lua_State *L = c->L;
  if (c->verify_ref == LUA_NOREF || c->verify_ref == LUA_REFNIL) {
    lua_newtable(L);
    c->verify_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->verify_ref);
  lua_rawgeti(L, -1, depth + 1);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, depth + 1);
  }
  lua_pushstring(L, msg);
  lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
  lua_pop(L, 2);
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
  SSL *ssl = (SSL *)X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  sslua_conn *c = ssl ? sslua_conn_from_ssl(ssl) : NULL;
  sslua_context *ctx = ssl ? sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl)) : NULL;

  if (c == NULL)
    return ok;
  /* The Lua verifycallback (hostname.c) judges first (and rejects when
   * the context is closed); lsec_continue then records and overrides
   * whatever failure remains. */
  ok = sslua_hostname_run_callback(ok, store, c, ctx);
  if (ok || ctx == NULL || !(ctx->verifyext & SSLUA_VERIFYEXT_CONTINUE))
    return ok;
  record_error(c, X509_STORE_CTX_get_error_depth(store),
               X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
  return 1;
}

/* Verifies as an SSL server's certificate whatever the role: LuaSec's
 * lsec_ignore_purpose (the name says "ignore"; the effect is "server"). */
static int server_purpose_cb(X509_STORE_CTX *store, void *arg)
{
  /* Through the parameters: X509_STORE_CTX_set_purpose() keeps a purpose
   * that is already set, and OpenSSL set one for the role just before. */
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(store);
  (void)arg;
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_trust(param, X509_TRUST_SSL_SERVER);
  return X509_verify_cert(store);
}

/* One OpenSSL verify callback serves lsec_continue and verifycallback:
 * installed while either needs it, keeping the verify mode. */
void sslua_verify_install(sslua_context *c)
{
  int needed = (c->verifyext & SSLUA_VERIFYEXT_CONTINUE) || sslua_hostname_has_callback(c);
  SSL_CTX_set_verify(c->ctx, SSL_CTX_get_verify_mode(c->ctx), needed ? verify_cb : NULL);
}

static int ctx_setverifyext(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int i, top = lua_gettop(L), bits = 0;

  if (c->ctx == NULL) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "closed");
    return 2;
  }
  for (i = 2; i <= top; i++) {
    const char *name = lua_type(L, i) == LUA_TSTRING ? lua_tostring(L, i) : NULL;
    const sslua_flag *f = name ? sslua_flag_find(verifyext_flags, name) : NULL;
    if (f == NULL) {
      const char *shown = name ? name : sslua_describe(L, i);
      lua_pushboolean(L, 0);
      lua_pushfstring(L, "invalid verify option (%s)", shown);
      return 2;
    }
    bits |= f->flag;
  }
  /* CRL flags are only ever added; the lsec flags are replaced. */
  if (bits >> 8)
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(c->ctx), (unsigned long)(bits >> 8));
  c->verifyext = bits & 0xff;
  sslua_verify_install(c);
  SSL_CTX_set_cert_verify_callback(c->ctx,
      (c->verifyext & SSLUA_VERIFYEXT_IGNORE_PURPOSE) ? server_purpose_cb : NULL, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

/* A copy, so the caller cannot alter what a later call reports. */
int sslua_verify_push_errors(lua_State *L, const sslua_conn *c)
{
  if (c->verify_ref == LUA_NOREF || c->verify_ref == LUA_REFNIL)
    return 0;
  lua_newtable(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->verify_ref);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    int i, n = (int)lua_rawlen(L, -1);
    lua_pushvalue(L, -2);            /* depth key */
    lua_createtable(L, n, 0);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -3, i);
      lua_rawseti(L, -2, i);
    }
    lua_rawset(L, -6);               /* copy[depth] = list copy */
    lua_pop(L, 1);                   /* the original list */
  }
  lua_pop(L, 1);                     /* the record */
  return 1;
}

const luaL_Reg sslua_verify_context_functions[] = {
  { "setverifyext", ctx_setverifyext },
  { NULL, NULL }
};
