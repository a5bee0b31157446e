/*
 * hostname.c - the peer's identity, checked inside the handshake.
 *
 * verifyhost: the name the peer's certificate must carry, checked by
 * OpenSSL itself during chain verification (X509_VERIFY_PARAM), so a
 * mismatch is a verify error like any other: it fails the handshake under
 * verify = "peer", is recorded by lsec_continue, is shown to a Lua verify
 * callback and is what getpeerverification() reports. IP literals (v4/v6)
 * match IP address SANs only; names follow X509_check_host with partial
 * wildcards ("f*.example.com") refused. SNI stays separate: conn:sni(a)
 * and conn:setverifyhost(b) may name different hosts.
 *
 * verifycallback: fn(ok, cert, depth, err) -> true (accept) | false
 * (reject), per certificate, on the Lua state of the call driving the
 * handshake, protected. An error or any other result rejects, and its text
 * becomes part of the handshake error; OpenSSL's own error (if any) stays
 * what getpeerverification() reports, as with OpenSSL's C callbacks.
 *
 * The handshake error stays the plain "certificate verify failed" for
 * every other verify error: applications compare that exact text.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "hostname.h"
#include "verify.h"
#include "x509.h"

#define WHY_LEN 200
#define HOST_MAX 253   /* longest DNS name */

static int why_index = -1;      /* SSL ex_data: the callback's failure text */
static int ctx_name_index = -1; /* SSL_CTX ex_data: the verifyhost given */
static int ssl_name_index = -1; /* SSL ex_data: setverifyhost's ("" = none) */

static void free_string(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                     long argl, void *argp)
{
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  OPENSSL_free(ptr);
}

/* ------------------------------------------------------------------ */
/* verifyhost                                                          */

static int is_ip_literal(const char *name)
{
  unsigned char buf[16];
  return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Checks the value at idx: NULL and no message for false (no check). */
static const char *host_arg(lua_State *L, int idx, const char **why)
{
  size_t len;
  const char *name;

  *why = NULL;
  if (lua_type(L, idx) == LUA_TBOOLEAN && !lua_toboolean(L, idx))
    return NULL;
  if (lua_type(L, idx) != LUA_TSTRING) {
    *why = lua_pushfstring(L, "string expected, got %s", luaL_typename(L, idx));
    return NULL;
  }
  name = lua_tolstring(L, idx, &len);
  if (len == 0)
    *why = "empty string";
  else if (len > HOST_MAX)
    *why = "length > 253";
  else if (strlen(name) != len)
    *why = "contains a zero byte";
  return *why ? NULL : name;
}

/* Replaces whatever name or address `param` checked with `name` (NULL:
 * none). Returns 1, or 0 when OpenSSL refused it. */
static int set_host(X509_VERIFY_PARAM *param, const char *name)
{
  int ok = X509_VERIFY_PARAM_set1_host(param, NULL, 0) == 1 &&
           X509_VERIFY_PARAM_set1_ip(param, NULL, 0) == 1;
  if (!ok || name == NULL)
    return ok;
  if (is_ip_literal(name))
    return X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return X509_VERIFY_PARAM_set1_host(param, name, 0) == 1;
}

/* A copy of `name` ("" for none) kept as the name the error message
 * shows: only names given here are reported as hostname mismatches, not
 * those other features (DANE) set on the same parameters. */
static char *keep_name(const char *name)
{
  return OPENSSL_strdup(name ? name : "");
}

static void alloc_indexes(void)
{
  if (ctx_name_index < 0)
    ctx_name_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_string);
  if (ssl_name_index < 0)
    ssl_name_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_string);
}

/* Shared by both setters; `fail` pushes the role's failure shape. Returns
 * 0 after success (nothing pushed) or what `fail` returned. */
static int apply_host(lua_State *L, X509_VERIFY_PARAM *param, char **kept,
                      int (*fail)(lua_State *, const char *, ...))
{
  const char *why, *name = host_arg(L, 2, &why);
  if (why != NULL)
    return fail(L, "invalid verifyhost (%s)", why);
  ERR_clear_error();
  if (!set_host(param, name) || (*kept = keep_name(name)) == NULL) {
    ERR_clear_error();
    return fail(L, "invalid verifyhost (%s)", name ? name : "false");
  }
  alloc_indexes();
  return 0;
}

/* context.setverifyhost(ctx, name|false) -> true | false, message */
static int ctx_setverifyhost(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  char *kept = NULL;
  int err;
  if (c->ctx == NULL)
    return sslua_fail_false(L, "closed");
  if ((err = apply_host(L, SSL_CTX_get0_param(c->ctx), &kept, sslua_fail_false)) != 0)
    return err;
  OPENSSL_free(SSL_CTX_get_ex_data(c->ctx, ctx_name_index));
  SSL_CTX_set_ex_data(c->ctx, ctx_name_index, kept);
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:setverifyhost(name|false) -> true | nil, message. Before the
 * handshake only; overrides the context's name for this connection. */
static int conn_setverifyhost(lua_State *L)
{
  sslua_conn *c = sslua_conn_check(L, 1);
  if (c->state == SSLUA_CONN_CLOSED || c->ssl == NULL)
    return sslua_fail(L, "closed");
  char *kept = NULL;
  int err;
  if (c->state != SSLUA_CONN_NEW || !SSL_in_before(c->ssl))
    return sslua_fail(L, "handshake already started");
  if ((err = apply_host(L, SSL_get0_param(c->ssl), &kept, sslua_fail)) != 0)
    return err;
  OPENSSL_free(SSL_get_ex_data(c->ssl, ssl_name_index));
  SSL_set_ex_data(c->ssl, ssl_name_index, kept);
  lua_pushboolean(L, 1);
  return 1;
}

/* ------------------------------------------------------------------ */
/* verifycallback                                                      */

/* context.setverifycallback(ctx, fn|nil) -> true | false, message */
static int ctx_setverifycallback(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  if (c->ctx == NULL)
    return sslua_fail_false(L, "closed");
  if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TFUNCTION)
    return sslua_fail_false(L, "invalid verifycallback (function expected, got %s)",
                            luaL_typename(L, 2));
  lua_settop(L, 2);
  sslua_context_setref(L, c, SSLUA_REF_VERIFY, 2);
  if (why_index < 0)
    why_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_string);
  sslua_verify_install(c);
  lua_pushboolean(L, 1);
  return 1;
}

int sslua_hostname_has_callback(const sslua_context *ctx)
{
  return ctx->refs[SSLUA_REF_VERIFY] != LUA_NOREF &&
         ctx->refs[SSLUA_REF_VERIFY] != LUA_REFNIL;
}

typedef struct {
  const sslua_context *ctx;
  X509       *cert;
  int         ok, depth;
  const char *err;          /* OpenSSL's verify error, NULL if none */
  int         verdict;      /* 1 accept, 0 reject */
  char        why[WHY_LEN]; /* why the callback failed, "" if it did not */
} verify_call;

/* Protected (pushing a certificate may raise): calls the function. */
static int call_function(lua_State *L)
{
  verify_call *v = (verify_call *)lua_touserdata(L, 1);
  sslua_context_pushref(L, v->ctx, SSLUA_REF_VERIFY);
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

/* Keeps the failure text with the SSL for the handshake error. */
static void keep_why(SSL *ssl, const char *why)
{
  char *copy = OPENSSL_strdup(why);
  if (copy == NULL)
    return;
  OPENSSL_free(SSL_get_ex_data(ssl, why_index));
  SSL_set_ex_data(ssl, why_index, copy);
}

int sslua_hostname_run_callback(int ok, X509_STORE_CTX *store, sslua_conn *c,
                                sslua_context *ctx)
{
  SSL *ssl = c->ssl;
  int code = X509_STORE_CTX_get_error(store);
  verify_call v;

  if (ctx == NULL) {
    /* Its context was closed (__close, __gc): a Lua callback it may have
     * had cannot run, and skipping it would accept what it would refuse. */
    if (why_index >= 0)
      keep_why(ssl, "context closed");
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (!sslua_hostname_has_callback(ctx) || c->L == NULL || why_index < 0)
    return ok;
  memset(&v, 0, sizeof(v));
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

/* ------------------------------------------------------------------ */
/* the handshake error                                                 */

/* The verifyhost name in force for ssl: the connection's, else its
 * context's; NULL when none was given here. */
static const char *verified_name(const SSL *ssl)
{
  const char *name = NULL;
  if (ssl_name_index >= 0)
    name = SSL_get_ex_data(ssl, ssl_name_index);
  if (name == NULL && ctx_name_index >= 0)
    name = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_name_index);
  return (name != NULL && name[0] != '\0') ? name : NULL;
}

void sslua_hostname_annotate(const SSL *ssl, unsigned long code, char *msg, size_t len)
{
  const char *why = why_index >= 0 ? SSL_get_ex_data(ssl, why_index) : NULL;
  const char *name = verified_name(ssl);
  long result = SSL_get_verify_result(ssl);
  size_t used = strlen(msg);

  if (ERR_GET_LIB(code) != ERR_LIB_SSL ||
      ERR_GET_REASON(code) != SSL_R_CERTIFICATE_VERIFY_FAILED || used >= len)
    return;
  if (why != NULL)
    snprintf(msg + used, len - used, " (callback: %s)", why);
  else if (name != NULL && (result == X509_V_ERR_HOSTNAME_MISMATCH ||
                            result == X509_V_ERR_IP_ADDRESS_MISMATCH))
    snprintf(msg + used, len - used, " (%s mismatch: \"%s\")",
             result == X509_V_ERR_HOSTNAME_MISMATCH ? "hostname" : "IP address", name);
}

const luaL_Reg sslua_hostname_context_functions[] = {
  { "setverifycallback", ctx_setverifycallback },
  { "setverifyhost",     ctx_setverifyhost },
  { NULL, NULL }
};

const luaL_Reg sslua_hostname_methods[] = {
  { "setverifyhost", conn_setverifyhost },
  { NULL, NULL }
};
