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
 * A failed name check says so in the handshake error:
 * 'certificate verify failed (hostname mismatch: "name")'.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "connection.h"
#include "context.h"
#include "exdata.h"
#include "hostname.h"

#define HOST_MAX 253   /* longest DNS name */

static int ctx_name_index = -1; /* SSL_CTX ex_data: the verifyhost given */
static int ssl_name_index = -1; /* SSL ex_data: setverifyhost's ("" = none) */

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

static int hostname_init(void)
{
  ctx_name_index = sslua_exdata_ctx_index();
  ssl_name_index = sslua_exdata_ssl_index();
  return ctx_name_index >= 0 && ssl_name_index >= 0;
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
  return 0;
}

/* context.setverifyhost(ctx, name|false) -> true | false, message */
static int ctx_setverifyhost(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  char *kept = NULL;
  int err;
  SSLUA_CHECK_OPEN(L, c);
  if ((err = apply_host(L, SSL_CTX_get0_param(c->ctx), &kept, sslua_fail_false)) != 0)
    return err;
  OPENSSL_free(SSL_CTX_get_ex_data(c->ctx, ctx_name_index));
  if (!SSL_CTX_set_ex_data(c->ctx, ctx_name_index, kept)) {
    OPENSSL_free(kept);
    return sslua_fail_false(L, "not enough memory");
  }
  return sslua_ok(L);
}

/* conn:setverifyhost(name|false) -> true | nil, message. Before the
 * handshake only; overrides the context's name for this connection. */
static int conn_setverifyhost(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  char *kept = NULL;
  int err;
  if (c->state == SSLUA_CONN_CLOSED || c->ssl == NULL)
    return sslua_fail(L, "closed");
  if (c->state != SSLUA_CONN_NEW || !SSL_in_before(c->ssl))
    return sslua_fail(L, "handshake already started");
  if ((err = apply_host(L, SSL_get0_param(c->ssl), &kept, sslua_fail)) != 0)
    return err;
  OPENSSL_free(SSL_get_ex_data(c->ssl, ssl_name_index));
  if (!SSL_set_ex_data(c->ssl, ssl_name_index, kept)) {
    OPENSSL_free(kept);
    return sslua_fail(L, "not enough memory");
  }
  return sslua_ok(L);
}

/* ------------------------------------------------------------------ */
/* the handshake error                                                 */

/* The verifyhost name in force for ssl: the connection's, else its
 * context's; NULL when none was given here. */
static const char *verified_name(const SSL *ssl)
{
  const char *name = SSL_get_ex_data(ssl, ssl_name_index);
  if (name == NULL)
    name = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_name_index);
  return (name != NULL && name[0] != '\0') ? name : NULL;
}

/* A verification that failed on the name given here says which name. */
static void hostname_explain(SSL *ssl, sslua_failure *f)
{
  const char *name = verified_name(ssl);
  long result = SSL_get_verify_result(ssl);

  if (!sslua_failure_is_verify(f) || name == NULL)
    return;
  if (result == X509_V_ERR_HOSTNAME_MISMATCH)
    sslua_failure_explain(f, "hostname mismatch: \"%s\"", name);
  else if (result == X509_V_ERR_IP_ADDRESS_MISMATCH)
    sslua_failure_explain(f, "IP address mismatch: \"%s\"", name);
}

static const luaL_Reg context_functions[] = {
  { "setverifyhost", ctx_setverifyhost },
  { NULL, NULL }
};

static const luaL_Reg methods[] = {
  { "setverifyhost", conn_setverifyhost },
  { NULL, NULL }
};

const sslua_feature sslua_hostname_feature = {
  .name = "hostname",
  .context_functions = context_functions,
  .methods = methods,
  .init = hostname_init,
  .explain = hostname_explain,
};
