/*
 * ocsp.c - OCSP stapling (status_request, RFC 6066 / RFC 8446 4.4.2.1).
 *
 * Server: the status callback staples the context's DER string, or what
 * its function returns (a string; nil/false: nothing). A function that
 * errors or returns junk staples nothing: a broken responder must not take
 * the server down, and clients that require a staple fail on their side.
 *
 * Client: "request" asks for a staple and accepts anything (getocsp()
 * returns it for the program to judge); "require" fails the handshake
 * unless the staple is a successful basic response that verifies against
 * the peer's chain and our trust store (OCSP_basic_verify), is current,
 * and says the leaf is good. The failure reads
 * "certificate verify failed (OCSP: <why>)", and the verify result is set
 * to the matching X509_V_ERR_* so getpeerverification() tells the same.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "connection.h"
#include "context.h"
#include "ocsp.h"

/* Leeway for clock skew when checking thisUpdate/nextUpdate (seconds). */
#define CLOCK_SKEW 300

static char MODE_REQUEST, MODE_REQUIRE;   /* status_arg markers */
static int failure_index = -1;            /* SSL ex_data: static reason text */

/* ------------------------------------------------------------------ */
/* server                                                              */

#define OCSP_VALUE "ocsp"   /* key of the DER string or function (context values) */

typedef struct {
  const sslua_context *ctx;
  SSL                 *ssl;
  int                  stapled;
} staple_call;

/* Protected: staples the context's string, or what its function returns
 * (a non-empty string). OpenSSL takes ownership of the copy. */
static int staple(lua_State *L)
{
  staple_call *q = (staple_call *)lua_touserdata(L, 1);
  unsigned char *copy;
  const char *der;
  size_t len;

  if (sslua_context_get(L, q->ctx, OCSP_VALUE) == LUA_TFUNCTION &&
      lua_pcall(L, 0, 1, 0) != 0)
    return 0;
  if (lua_type(L, -1) != LUA_TSTRING || (der = lua_tolstring(L, -1, &len)) == NULL ||
      len == 0 || len > 0x7fffffff)
    return 0;
  if ((copy = (unsigned char *)OPENSSL_memdup(der, len)) == NULL)
    return 0;
  /* OpenSSL 3.6 parses the response here and, when it does not parse,
   * still succeeds but leaves the parse error queued: left there, it
   * would fail the handshake this callback runs in ("too long"). */
  ERR_set_mark();
  if (SSL_set_tlsext_status_ocsp_resp(q->ssl, copy, (long)len) == 1)
    q->stapled = 1;
  else
    OPENSSL_free(copy);
  ERR_pop_to_mark();
  return 0;
}

static int server_cb(SSL *ssl, void *arg)
{
  const sslua_conn *conn = sslua_conn_from_ssl(ssl);
  staple_call q;

  (void)arg;
  q.ctx = sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl));
  q.ssl = ssl;
  q.stapled = 0;
  if (conn == NULL || conn->L == NULL || q.ctx == NULL ||
      !sslua_run_protected(conn->L, staple, &q) || !q.stapled)
    return SSL_TLSEXT_ERR_NOACK;
  return SSL_TLSEXT_ERR_OK;
}

/* ------------------------------------------------------------------ */
/* client                                                              */

/* The certificate in `chain` that issued `leaf`, or NULL. */
static X509 *find_issuer(STACK_OF(X509) *chain, X509 *leaf)
{
  int i;
  for (i = 0; i < sk_X509_num(chain); i++) {
    X509 *cand = sk_X509_value(chain, i);
    if (cand != leaf && X509_check_issued(cand, leaf) == X509_V_OK)
      return cand;
  }
  return NULL;
}

/* Checks the leaf's status in a verified basic response: NULL when good,
 * else why (and *vcode). */
static const char *leaf_status(OCSP_BASICRESP *bs, STACK_OF(X509) *chain, int *vcode)
{
  X509 *leaf = sk_X509_value(chain, 0);
  X509 *issuer = find_issuer(chain, leaf);
  ASN1_GENERALIZEDTIME *this_upd = NULL, *next_upd = NULL;
  OCSP_CERTID *id;
  int status = -1, reason = -1, found;

  *vcode = X509_V_ERR_OCSP_CERT_UNKNOWN;
  if (issuer == NULL || (id = OCSP_cert_to_id(NULL, leaf, issuer)) == NULL)
    return "issuer not in chain";
  found = OCSP_resp_find_status(bs, id, &status, &reason, NULL, &this_upd, &next_upd);
  OCSP_CERTID_free(id);
  if (found != 1)
    return "no status for certificate";
  if (OCSP_check_validity(this_upd, next_upd, CLOCK_SKEW, -1) != 1) {
    *vcode = X509_V_ERR_OCSP_VERIFY_FAILED;
    return "response not current";
  }
  if (status == V_OCSP_CERTSTATUS_REVOKED) {
    *vcode = X509_V_ERR_CERT_REVOKED;
    return "certificate revoked";
  }
  return status == V_OCSP_CERTSTATUS_GOOD ? NULL : "certificate status unknown";
}

/* Why the staple is not acceptable, or NULL. */
static const char *check_staple(SSL *ssl, int *vcode)
{
  const unsigned char *der = NULL;
  long len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
  OCSP_RESPONSE *resp;
  OCSP_BASICRESP *bs;
  const char *why;

  *vcode = X509_V_ERR_OCSP_VERIFY_NEEDED;
  if (der == NULL || len <= 0)
    return "no response stapled";
  *vcode = X509_V_ERR_OCSP_VERIFY_FAILED;
  if ((resp = d2i_OCSP_RESPONSE(NULL, &der, len)) == NULL)
    return "malformed response";
  if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    OCSP_RESPONSE_free(resp);
    return "unsuccessful response";
  }
  bs = OCSP_response_get1_basic(resp);
  OCSP_RESPONSE_free(resp);
  if (bs == NULL)
    return "not a basic response";
  if (chain == NULL || sk_X509_num(chain) == 0)
    why = "no peer certificate";
  else if (OCSP_basic_verify(bs, chain, SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), 0) <= 0)
    why = "response verify failed";
  else
    why = leaf_status(bs, chain, vcode);
  OCSP_BASICRESP_free(bs);
  return why;
}

/* The signature is OpenSSL's status callback type. */
/* cppcheck-suppress constParameter */
static int client_cb(SSL *ssl, void *arg)
{
  const char *why;
  int vcode = X509_V_OK;

  if (arg != &MODE_REQUIRE)
    return 1;
  why = check_staple(ssl, &vcode);
  ERR_clear_error();
  if (why == NULL)
    return 1;
  SSL_set_ex_data(ssl, failure_index, (void *)why);
  SSL_set_verify_result(ssl, vcode);
  /* Oldest in the queue, so the reason reported is ours. */
  ERR_raise(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED);
  return 0;
}

/* A handshake failed by the staple check says why: "(OCSP: why)". */
static void ocsp_explain(SSL *ssl, sslua_failure *f)
{
  const char *why = (const char *)SSL_get_ex_data(ssl, failure_index);
  if (why != NULL)
    sslua_failure_explain(f, "OCSP: %s", why);
}

static int ocsp_init(void)
{
  failure_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  return failure_index >= 0;
}

/* ------------------------------------------------------------------ */
/* context function and method                                         */

static int set_client(lua_State *L, sslua_context *c)
{
  const char *v = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  void *mode = v && strcmp(v, "request") == 0 ? &MODE_REQUEST
             : v && strcmp(v, "require") == 0 ? &MODE_REQUIRE : NULL;
  if (mode == NULL)
    return sslua_fail_false(L, "invalid ocsp parameter (%s)", sslua_describe(L, 2));
  SSL_CTX_set_tlsext_status_type(c->ctx, TLSEXT_STATUSTYPE_ocsp);
  SSL_CTX_set_tlsext_status_arg(c->ctx, mode);
  SSL_CTX_set_tlsext_status_cb(c->ctx, client_cb);
  return sslua_ok(L);
}

static int set_server(lua_State *L, sslua_context *c)
{
  int type = lua_type(L, 2);
  if (type != LUA_TFUNCTION && (type != LUA_TSTRING || lua_rawlen(L, 2) == 0))
    return sslua_fail_false(L, "invalid ocsp parameter (DER string or function expected, got %s)",
                            type == LUA_TSTRING ? "empty string" : luaL_typename(L, 2));
  sslua_context_set(L, c, OCSP_VALUE, 2);
  SSL_CTX_set_tlsext_status_cb(c->ctx, server_cb);
  return sslua_ok(L);
}

/* context.setocsp(ctx, value): the meaning depends on the mode. */
static int ctx_setocsp(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  SSLUA_CHECK_OPEN(L, c);
  if (c->mode == SSLUA_MODE_CLIENT)
    return set_client(L, c);
  if (c->mode == SSLUA_MODE_SERVER)
    return set_server(L, c);
  return sslua_fail_false(L, "invalid mode");
}

/* conn:getocsp() -> DER string | nil: what the server stapled. */
static int conn_getocsp(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  const unsigned char *der = NULL;
  long len = (c->ssl != NULL && !SSL_is_server(c->ssl))
      ? SSL_get_tlsext_status_ocsp_resp(c->ssl, &der) : -1;
  if (der == NULL || len <= 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, (const char *)der, (size_t)len);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "setocsp", ctx_setocsp },
  { NULL, NULL }
};

static const luaL_Reg methods[] = {
  { "getocsp", conn_getocsp },
  { NULL, NULL }
};

const sslua_feature sslua_ocsp_feature = {
  .name = "ocsp",
  .context_functions = context_functions,
  .methods = methods,
  .init = ocsp_init,
  .explain = ocsp_explain,
};
