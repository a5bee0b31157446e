/*
 * sni.c - SNI for both roles.
 *
 * A client names the host it wants before the handshake. A server holds,
 * per connection, a map {host name = server context}: when the ClientHello
 * names a host in the map the connection moves to that context (its
 * certificate, trust store, ALPN, verification); an unknown name either
 * keeps the connection's own context or, when strict, ends the handshake
 * with the unrecognized_name alert. A ClientHello without SNI always keeps
 * the connection's own context.
 *
 * The map is a private copy in the connection's user value (its "sni"
 * value, with "sni_strict"), keyed by the lower-cased host name without a
 * trailing root dot: host names compare case-insensitively (RFC 4343) and
 * "host." is "host" (RFC 6066), and a caller changing its table later
 * changes nothing. The copy also keeps the mapped contexts alive for as
 * long as the connection needs them; being the connection's own value, a
 * mapped context whose callback refers back to the connection is a cycle
 * the collector can take.
 *
 * What SSL_set_SSL_CTX moves (OpenSSL 3.0), and what we copy on top:
 *  - moved by OpenSSL: certificates, keys and chains (with the security
 *    level and signature settings that live beside them), the session id
 *    context, and whatever the rest of the handshake reads through the
 *    SSL's current SSL_CTX: the cipher list (an SSL has none of its own
 *    here), the ALPN selection (alpn.c), the trust store used to verify a
 *    client certificate, the client-CA names, the certificate verification
 *    callback (verifyext) and our own context lookup;
 *  - copied here, because SSL_new took a per-SSL copy from the first
 *    context: verify mode and callback, the X509_VERIFY_PARAM (depth, CRL
 *    flags, purpose) and the SSL_OP_* options (no_ticket,
 *    cipher_server_preference, ...). OpenSSL expects the servername
 *    callback to change options (it rechecks no_ticket right after);
 *  - fixed before the callback runs, so they stay those of the
 *    connection's own context: the protocol version (min/max) and, in TLS
 *    1.3, the key exchange group picked from the client's key shares.
 */
#include <stdint.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "connection.h"
#include "context.h"
#include "sni.h"

#define SNI_NAME_MAX TLSEXT_MAXLEN_host_name   /* 255 */

/* NULL when name can be sent as an SNI host name, else why it cannot. */
static const char *bad_name(const char *name, size_t len)
{
  if (len == 0)
    return "empty string";
  if (len > SNI_NAME_MAX)
    return "length > 255";
  if (memchr(name, '\0', len) != NULL)
    return "contains a zero byte";
  return NULL;
}

/* ASCII lower case; the locale must not matter for DNS names. */
static void lower(char *dst, const char *src, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
}

/* The length of name without the one trailing dot a fully qualified name
 * may carry: SNI sends host names without it (RFC 6066, section 3), so
 * "example.com." and "example.com" are one host in both roles. */
static size_t without_root_dot(const char *name, size_t len)
{
  return (len > 0 && name[len - 1] == '.') ? len - 1 : len;
}

#define SNI_MAP    "sni"          /* connection values */
#define SNI_STRICT "sni_strict"

/* ------------------------------------------------------------------ */
/* server: choosing the context                                        */

typedef struct {
  const sslua_conn *conn;
  char           name[SNI_NAME_MAX];  /* requested name, lower case */
  size_t         len;                 /* > SNI_NAME_MAX: too long to be mapped */
  int            has_map, strict;
  sslua_context *found;
} sni_query;

/* Protected: the connection's map, and the context mapped to q->name if
 * any. The map keeps the context referenced after the stack is cleared. */
static int find_context(lua_State *L)
{
  sni_query *q = (sni_query *)lua_touserdata(L, 1);
  if (sslua_conn_get(L, q->conn, SNI_MAP) != LUA_TTABLE)
    return 0;
  q->has_map = 1;
  sslua_conn_get(L, q->conn, SNI_STRICT);
  q->strict = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (q->len > sizeof(q->name))
    return 0;
  lua_pushlstring(L, q->name, q->len);
  lua_rawget(L, -2);
  q->found = sslua_context_test(L, -1);
  return 0;
}

/* Moves ssl to ctx, with the per-SSL settings listed at the top. */
static int switch_context(SSL *ssl, SSL_CTX *ctx)
{
  X509_VERIFY_PARAM *param;
  uint32_t inherit;
  uint64_t options;
  int ok;

  if (SSL_get_SSL_CTX(ssl) == ctx)
    return 1;
  if (SSL_set_SSL_CTX(ssl, ctx) != ctx)
    return 0;
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
  /* An exact copy: every field and flag, not only the ones set in ctx. */
  param = SSL_get0_param(ssl);
  inherit = X509_VERIFY_PARAM_get_inh_flags(param);
  X509_VERIFY_PARAM_set_inh_flags(param, X509_VP_FLAG_OVERWRITE | X509_VP_FLAG_RESET_FLAGS);
  ok = X509_VERIFY_PARAM_set1(param, SSL_CTX_get0_param(ctx));
  X509_VERIFY_PARAM_set_inh_flags(param, inherit);
  options = SSL_get_options(ssl);
  SSL_clear_options(ssl, options & ~SSL_CTX_get_options(ctx));
  SSL_set_options(ssl, SSL_CTX_get_options(ctx));
  return ok == 1;
}

/* OpenSSL's servername callback, installed by conn:sni(map) on the
 * connection's context; connections of that context without a map get
 * what they would get without the callback (NOACK is OpenSSL's default). */
static int servername_cb(SSL *ssl, int *alert, void *arg)
{
  const sslua_conn *c = sslua_conn_from_ssl(ssl);
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  sni_query q;

  (void)arg;
  if (c == NULL || c->L == NULL || name == NULL)
    return SSL_TLSEXT_ERR_NOACK;
  memset(&q, 0, sizeof(q));
  q.conn = c;
  q.len = without_root_dot(name, strlen(name));
  if (q.len <= sizeof(q.name))
    lower(q.name, name, q.len);
  /* The map could not be read (out of memory): going on would serve the
   * connection's own certificate, even against strict. */
  if (!sslua_run_protected(c->L, find_context, &q)) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (!q.has_map)
    return SSL_TLSEXT_ERR_NOACK;
  if (q.found != NULL && q.found->ctx != NULL) {
    if (switch_context(ssl, q.found->ctx))
      return SSL_TLSEXT_ERR_OK;
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  /* Unknown name (or its context closed since): strict refuses it. */
  if (q.strict) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

/* ------------------------------------------------------------------ */
/* conn:sni                                                            */

/* Checks one map entry (key at -2, value at -1) and stores it in the copy
 * at `copy` under its lower-case name. Returns 0, or 2 after pushing
 * `nil, message`. */
static int copy_entry(lua_State *L, int copy)
{
  char key[SNI_NAME_MAX];
  const sslua_context *ctx;
  const char *name, *why;
  size_t len;

  if (lua_type(L, -2) != LUA_TSTRING)
    return sslua_fail(L, "invalid SNI map (host name expected as key, got %s)",
                      luaL_typename(L, -2));
  name = lua_tolstring(L, -2, &len);
  len = without_root_dot(name, len);
  if ((why = bad_name(name, len)) != NULL)
    return sslua_fail(L, "invalid SNI map (host name '%s': %s)", name, why);
  ctx = sslua_context_test(L, -1);
  if (ctx == NULL)
    return sslua_fail(L, "invalid SNI map (context expected for '%s', got %s)",
                      name, luaL_typename(L, -1));
  if (ctx->ctx == NULL)
    return sslua_fail(L, "invalid SNI map (context for '%s' is closed)", name);
  if (ctx->mode != SSLUA_MODE_SERVER)
    return sslua_fail(L, "invalid SNI map (context for '%s' is not a server context)", name);
  lower(key, name, len);
  lua_pushlstring(L, key, len);
  lua_rawget(L, copy);
  /* "Example.com" and "example.com" are one name: one context only. */
  if (!lua_isnil(L, -1) && !lua_rawequal(L, -1, -2))
    return sslua_fail(L, "invalid SNI map (host name '%s' given twice)", name);
  lua_pop(L, 1);
  lua_pushlstring(L, key, len);
  lua_pushvalue(L, -2);
  lua_rawset(L, copy);
  return 0;
}

/* Server: conn:sni(map [, strict]) */
static int set_map(lua_State *L, sslua_conn *c)
{
  int strict = lua_toboolean(L, 3), copy;

  if (!lua_istable(L, 2))
    return sslua_fail(L, "invalid SNI map (table expected, got %s)", luaL_typename(L, 2));
  lua_settop(L, 2);
  lua_newtable(L);
  copy = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    int err = copy_entry(L, copy);
    if (err != 0)
      return err;
    lua_pop(L, 1);
  }
  sslua_conn_set(L, c, SNI_MAP, copy);
  lua_pushboolean(L, strict);
  sslua_conn_set(L, c, SNI_STRICT, -1);
  SSL_CTX_set_tlsext_servername_callback(SSL_get_SSL_CTX(c->ssl), servername_cb);
  lua_pushboolean(L, 1);
  return 1;
}

/* Client: conn:sni(name) */
static int set_name(lua_State *L, sslua_conn *c)
{
  char host[SNI_NAME_MAX + 1];
  const char *name, *why;
  size_t len;

  if (lua_type(L, 2) != LUA_TSTRING)
    return sslua_fail(L, "invalid SNI name");
  name = lua_tolstring(L, 2, &len);
  len = without_root_dot(name, len);
  if ((why = bad_name(name, len)) != NULL)
    return sslua_fail(L, "invalid SNI name (%s)", why);
  memcpy(host, name, len);
  host[len] = '\0';
  if (SSL_set_tlsext_host_name(c->ssl, host) != 1) {
    ERR_clear_error();
    return sslua_fail(L, "not enough memory");
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:sni(...) -> true | nil, message. Only before the handshake has
 * started: afterwards the ClientHello is gone and nothing would change. */
static int conn_sni(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);

  if (c->state != SSLUA_CONN_NEW || c->ssl == NULL)
    return sslua_fail(L, "closed");
  if (!SSL_in_before(c->ssl))
    return sslua_fail(L, "handshake already started");
  return SSL_is_server(c->ssl) ? set_map(L, c) : set_name(L, c);
}

/* conn:getsniname() -> name | nil: a server's is what the client asked
 * for (known to the map or not), a client's what it set. nil when there
 * is none, and once the connection is closed. */
static int conn_getsniname(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  const char *name = NULL;

  if (c->ssl != NULL)
    name = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
  if (name == NULL)
    lua_pushnil(L);
  else
    lua_pushstring(L, name);
  return 1;
}

static const luaL_Reg methods[] = {
  { "getsniname", conn_getsniname },
  { "sni",        conn_sni },
  { NULL, NULL }
};

const sslua_feature sslua_sni_feature = {
  .name = "sni",
  .methods = methods,
};
