/*
 * verify.c - everything that runs inside OpenSSL's certificate
 * verification: LuaSec's verifyext flags and the Lua verifycallback.
 *
 * OpenSSL has one verify callback per SSL; this file owns it, on every
 * context from its creation. Per certificate it runs, in order:
 *
 *   verifycallback: fn(ok, cert, depth, err) -> true (accept) | false
 *   (reject), on the Lua state of the call driving the handshake,
 *   protected. An error or any other result rejects, and its text becomes
 *   part of the handshake error ("(callback: why)"); OpenSSL's own error
 *   (if any) stays what getpeerverification() reports, as with OpenSSL's
 *   C callbacks. A connection whose context was closed rejects: its
 *   callback cannot run, and skipping it would accept what it refuses.
 *
 *   lsec_continue: lets the handshake go on whatever the chain's errors,
 *   recording each one at its depth for getpeerverification(). The record
 *   lives in the connection's values, never in the context, so concurrent
 *   handshakes on one context cannot mix their results.
 *
 *   Otherwise a rejected certificate's depth and subject are kept with
 *   the SSL, so the handshake error can say where the chain failed.
 *
 * lsec_ignore_purpose verifies a chain as a TLS server's in both roles;
 * crl_check and crl_check_chain set OpenSSL's CRL flags.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "connection.h"
#include "context.h"
#include "exdata.h"
#include "options.h"
#include "verify.h"
#include "x509.h"

#define WHY_LEN 200

enum {
  VERIFYEXT_CONTINUE       = 1 << 0,  /* lsec_continue */
  VERIFYEXT_IGNORE_PURPOSE = 1 << 1   /* lsec_ignore_purpose */
};

static const sslua_flag verifyext_flags[] = {
  { "lsec_continue",       VERIFYEXT_CONTINUE },
  { "lsec_ignore_purpose", VERIFYEXT_IGNORE_PURPOSE },
  { "crl_check",           X509_V_FLAG_CRL_CHECK << 8 },
  { "crl_check_chain",     (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) << 8 },
  { NULL, 0 }
};

#define VERIFY_FUNCTION "verifycallback"   /* context values */
#define VERIFY_ERRORS   "verifyerrors"     /* connection values: lsec_continue's record */

/* A context's verification settings (SSL_CTX ex_data, freed with it). */
typedef struct {
  int ext;            /* VERIFYEXT_* */
  int has_function;   /* a Lua verifycallback is set */
} verify_settings;

/* Where verification failed (SSL ex_data, freed with the SSL). */
typedef struct {
  int  depth;
  char subject[128];   /* RFC 2253 text of the certificate there */
} verify_rejection;

static int settings_index = -1;   /* SSL_CTX ex_data: verify_settings */
static int why_index = -1;        /* SSL ex_data: why the callback rejected */
static int rejection_index = -1;  /* SSL ex_data: verify_rejection */

static int verify_init(void)
{
  settings_index = sslua_exdata_ctx_index();
  why_index = sslua_exdata_ssl_index();
  rejection_index = sslua_exdata_ssl_index();
  return settings_index >= 0 && why_index >= 0 && rejection_index >= 0;
}

static const verify_settings *settings_of(const SSL_CTX *ctx)
{
  static const verify_settings none = { 0, 0 };
  const verify_settings *s = (const verify_settings *)SSL_CTX_get_ex_data(ctx, settings_index);
  return s != NULL ? s : &none;
}

/* ctx's settings, created on first use; NULL when out of memory. */
static verify_settings *settings_for(SSL_CTX *ctx)
{
  return (verify_settings *)sslua_exdata_ctx_block(ctx, settings_index, sizeof(verify_settings));
}

/* Keeps why the callback rejected with the SSL, for the handshake error. */
static void keep_why(SSL *ssl, const char *why)
{
  char *copy = OPENSSL_strdup(why);
  if (copy == NULL)
    return;
  OPENSSL_free(SSL_get_ex_data(ssl, why_index));
  if (!SSL_set_ex_data(ssl, why_index, copy))
    OPENSSL_free(copy);
}

/* ------------------------------------------------------------------ */
/* the verify callback                                                 */

typedef struct {
  const sslua_conn    *conn;
  const sslua_context *ctx;
  X509       *cert;
  int         ok, depth;
  const char *err;          /* OpenSSL's verify error, NULL if none */
  int         verdict;      /* 1 accept, 0 reject */
  char        why[WHY_LEN]; /* why the function failed, "" if it did not */
} verify_step;

/* Protected: calls the Lua verifycallback for one certificate. */
static int call_function(lua_State *L)
{
  verify_step *v = (verify_step *)lua_touserdata(L, 1);
  sslua_context_get(L, v->ctx, VERIFY_FUNCTION);
  lua_pushboolean(L, v->ok);
  if (v->cert != NULL)
    sslua_x509_push(L, v->cert);
  else
    lua_pushnil(L);
  lua_pushinteger(L, v->depth);
  if (v->err != NULL)
    lua_pushstring(L, v->err);
  else
    lua_pushnil(L);
  if (lua_pcall(L, 4, 1, 0) != 0) {
    /* lua_isstring: error(42) reads "42", as in the other callbacks. */
    snprintf(v->why, sizeof(v->why), "%s", lua_isstring(L, -1)
             ? lua_tostring(L, -1) : "(error object is not a string)");
  } else if (lua_type(L, -1) != LUA_TBOOLEAN) {
    snprintf(v->why, sizeof(v->why), "boolean expected, got %s", luaL_typename(L, -1));
  } else {
    v->verdict = lua_toboolean(L, -1);
  }
  return 0;
}

/* The Lua function's verdict on one certificate. */
static int run_function(int ok, X509_STORE_CTX *store, SSL *ssl, const sslua_conn *c,
                        const sslua_context *ctx)
{
  int code = X509_STORE_CTX_get_error(store);
  verify_step v;

  memset(&v, 0, sizeof(v));
  v.conn = c;
  v.ctx = ctx;
  v.cert = X509_STORE_CTX_get_current_cert(store);
  v.ok = ok;
  v.depth = X509_STORE_CTX_get_error_depth(store);
  /* After an accepted failure the store keeps that error: not ours now. */
  v.err = (!ok && code != X509_V_OK) ? X509_verify_cert_error_string(code) : NULL;
  if (!sslua_run_protected(c->L, call_function, &v))
    snprintf(v.why, sizeof(v.why), "not enough memory");
  if (v.why[0] != '\0') {
    keep_why(ssl, v.why);
    v.verdict = 0;
  }
  /* A rejection OpenSSL did not see coming needs an error to report. */
  if (!v.verdict && ok)
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return v.verdict;
}

typedef struct {
  const sslua_conn *conn;
  int               depth;
  const char       *msg;
} verify_record;

/* Protected: appends r->msg to the list for r->depth in the record. */
static int record_error(lua_State *L)
{
  verify_record *r = (verify_record *)lua_touserdata(L, 1);
  if (sslua_conn_get(L, r->conn, VERIFY_ERRORS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    sslua_conn_set(L, r->conn, VERIFY_ERRORS, -1);
  }
  lua_rawgeti(L, -1, r->depth + 1);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, r->depth + 1);
  }
  lua_pushstring(L, r->msg);
  lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
  return 0;
}

/* Keeps where the chain was rejected (the first rejection: verification
 * stops there). */
static void keep_rejection(SSL *ssl, X509_STORE_CTX *store)
{
  X509 *cert = X509_STORE_CTX_get_current_cert(store);
  verify_rejection *r;
  BIO *bio;
  int n;

  if (SSL_get_ex_data(ssl, rejection_index) != NULL)
    return;
  if ((r = (verify_rejection *)OPENSSL_zalloc(sizeof(*r))) == NULL)
    return;
  r->depth = X509_STORE_CTX_get_error_depth(store);
  if (cert != NULL && (bio = BIO_new(BIO_s_mem())) != NULL) {
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0 &&
        (n = BIO_read(bio, r->subject, (int)sizeof(r->subject) - 1)) > 0)
      r->subject[n] = '\0';
    BIO_free(bio);
  }
  if (!SSL_set_ex_data(ssl, rejection_index, r))
    OPENSSL_free(r);
  ERR_clear_error();
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
  SSL *ssl = (SSL *)X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  const sslua_conn *c = ssl ? sslua_conn_from_ssl(ssl) : NULL;
  const sslua_context *ctx;
  const verify_settings *s;
  verify_record r;

  if (c == NULL)
    return ok;
  s = settings_of(SSL_get_SSL_CTX(ssl));
  ctx = sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl));
  if (s->has_function && ctx == NULL) {
    keep_why(ssl, "context closed");
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    ok = 0;
  } else if (s->has_function && c->L != NULL) {
    ok = run_function(ok, store, ssl, c, ctx);
  }
  if (!ok && (s->ext & VERIFYEXT_CONTINUE) && c->L != NULL) {
    /* lsec_continue: record what failed and go on. */
    r.conn = c;
    r.depth = X509_STORE_CTX_get_error_depth(store);
    r.msg = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    ok = sslua_run_protected(c->L, record_error, &r);
  }
  if (!ok)
    keep_rejection(ssl, store);
  return ok;
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

/* Every context verifies through verify_cb (setverify keeps it). */
static int verify_attach_context(SSL_CTX *ctx)
{
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
  return 1;
}

/* ------------------------------------------------------------------ */
/* context functions                                                   */

/* context.setverifyext(ctx, flag...), also ctx:setverifyext(...) */
static int ctx_setverifyext(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *bad = NULL;
  verify_settings *s;
  int i, top = lua_gettop(L), bits = 0;

  SSLUA_CHECK_OPEN(L, c);
  for (i = 2; i <= top && bad == NULL; i++) {
    const char *name = lua_type(L, i) == LUA_TSTRING ? lua_tostring(L, i) : NULL;
    const sslua_flag *f = name ? sslua_flag_find(verifyext_flags, name) : NULL;
    if (f == NULL)
      bad = name ? name : sslua_describe(L, i);
    else
      bits |= f->flag;
  }
  if (bad != NULL)
    return sslua_fail_false(L, "invalid verify option (%s)", bad);
  if ((s = settings_for(c->ctx)) == NULL)
    return sslua_fail_false(L, "out of memory");
  /* CRL flags are only ever added; the lsec flags are replaced. */
  if (bits >> 8)
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(c->ctx), (unsigned long)(bits >> 8));
  s->ext = bits & 0xff;
  SSL_CTX_set_cert_verify_callback(c->ctx,
      (s->ext & VERIFYEXT_IGNORE_PURPOSE) ? server_purpose_cb : NULL, NULL);
  return sslua_ok(L);
}

/* context.setverifycallback(ctx, fn|nil) -> true | false, message */
static int ctx_setverifycallback(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  verify_settings *s;

  SSLUA_CHECK_OPEN(L, c);
  if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TFUNCTION)
    return sslua_fail_false(L, "invalid verifycallback (function expected, got %s)",
                            luaL_typename(L, 2));
  if ((s = settings_for(c->ctx)) == NULL)
    return sslua_fail_false(L, "out of memory");
  lua_settop(L, 2);
  sslua_context_set(L, c, VERIFY_FUNCTION, 2);
  s->has_function = !lua_isnil(L, 2);
  return sslua_ok(L);
}

/* ------------------------------------------------------------------ */
/* results                                                             */

/* A copy, so the caller cannot alter what a later call reports. */
int sslua_verify_push_errors(lua_State *L, const sslua_conn *c)
{
  if (sslua_conn_get(L, c, VERIFY_ERRORS) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, -3) != 0) {
    int i, n = (int)lua_rawlen(L, -1);
    lua_pushvalue(L, -2);            /* depth key */
    lua_createtable(L, n, 0);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -3, i);
      lua_rawseti(L, -2, i);
    }
    lua_rawset(L, -5);               /* copy[depth] = list copy */
    lua_pop(L, 1);                   /* the original list */
  }
  lua_remove(L, -2);                 /* the record */
  return 1;
}

/* A failed verification: its code, depth and subject for the message
 * and error objects, and the callback's why in the message. */
static void verify_explain(SSL *ssl, sslua_failure *f)
{
  const verify_rejection *r;
  const char *why;

  if (!sslua_failure_is_verify(f))
    return;
  f->verify_code = SSL_get_verify_result(ssl);
  if ((r = (const verify_rejection *)SSL_get_ex_data(ssl, rejection_index)) != NULL) {
    f->depth = r->depth;
    snprintf(f->subject, sizeof(f->subject), "%s", r->subject);
  }
  if ((why = (const char *)SSL_get_ex_data(ssl, why_index)) != NULL)
    sslua_failure_explain(f, "callback: %s", why);
}

static const luaL_Reg context_functions[] = {
  { "setverifycallback", ctx_setverifycallback },
  { "setverifyext",      ctx_setverifyext },
  { NULL, NULL }
};

/* LuaSec's context objects have setverifyext as their one method. */
static const luaL_Reg context_methods[] = {
  { "setverifyext", ctx_setverifyext },
  { NULL, NULL }
};

const sslua_feature sslua_verify_feature = {
  .name = "verify",
  .context_functions = context_functions,
  .context_methods = context_methods,
  .init = verify_init,
  .attach_context = verify_attach_context,
  .explain = verify_explain,
};
