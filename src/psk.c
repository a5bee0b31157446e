/*
 * psk.c - pre-shared keys through Lua functions.
 *
 *   client: fn(hint_or_nil, max_identity_len, max_psk_len) -> identity, key
 *   server: fn(identity, max_psk_len) -> key | nil
 *
 * Both go through OpenSSL's TLS 1.2 PSK callbacks, which OpenSSL 3 also
 * uses for TLS 1.3 external PSKs (hash SHA-256, suite
 * TLS_AES_128_GCM_SHA256; the client's function then gets hint = nil).
 *
 * The function lives in the context's values and runs protected on
 * the Lua state of the call driving the handshake (sslua_conn->L), leaving
 * that stack as it found it. What a function returns decides:
 *   - client nil / server nil or "": no key. TLS 1.2 then fails the
 *     handshake ("psk identity not found" on the client); TLS 1.3 goes on
 *     without a PSK (a certificate handshake, if the server has one) - the
 *     behaviour LuaSec has on OpenSSL 3.
 *   - a Lua error, a value of the wrong type, an identity or key longer
 *     than the given maximum, an identity with a zero byte, an empty client
 *     key, or a context closed meanwhile: the handshake fails, with
 *     "callback failed" (an SSL error we queue, whose data names the cause).
 * Never a Lua error escaping through OpenSSL: a memory error inside the
 * callback fails the handshake ("not enough memory") like any other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "context.h"
#include "errors.h"
#include "psk.h"

#define REASON_LEN 256

/* ------------------------------------------------------------------ */
/* callbacks                                                           */

#define PSK_FUNCTION "psk"   /* key of the function (context values) */

/* One call of the PSK function, in and out. */
typedef struct {
  const sslua_context *ctx;
  const char    *text;          /* client: the hint (may be NULL); server: the identity */
  unsigned int   max_identity_len, max_psk_len;
  char          *identity;      /* client: where the identity goes */
  unsigned char *psk;           /* where the key goes */
  unsigned int   key_len;       /* 0: no key */
  char           why[REASON_LEN];  /* set when the function failed */
} psk_call;

static const char *pcall_error(lua_State *L)
{
  return lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
         ? lua_tostring(L, -1) : "(error object is not a string)";
}

#define FAIL(q, text) \
  do { snprintf((q)->why, sizeof((q)->why), "%s", (text)); return 0; } while (0)

/* Protected: the client's function -> identity, key (nil: no PSK). */
static int call_client(lua_State *L)
{
  psk_call *q = (psk_call *)lua_touserdata(L, 1);
  const char *id, *key;
  size_t id_len, key_len;

  if (sslua_context_get(L, q->ctx, PSK_FUNCTION) != LUA_TFUNCTION)
    FAIL(q, "no PSK function (context closed?)");
  if (q->text != NULL)
    lua_pushstring(L, q->text);
  else
    lua_pushnil(L);
  lua_pushinteger(L, (lua_Integer)q->max_identity_len);
  lua_pushinteger(L, (lua_Integer)q->max_psk_len);
  if (lua_pcall(L, 3, 2, 0) != 0)
    FAIL(q, pcall_error(L));
  if (lua_isnil(L, -2))               /* no PSK to offer */
    return 0;
  if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
    FAIL(q, "identity and key must be strings");
  id = lua_tolstring(L, -2, &id_len);
  key = lua_tolstring(L, -1, &key_len);
  if (id_len > q->max_identity_len || strlen(id) != id_len)
    FAIL(q, "invalid identity");
  if (key_len == 0 || key_len > q->max_psk_len)
    FAIL(q, "invalid key length");
  /* OpenSSL hands out max_identity_len + 1 bytes for the terminator. */
  memcpy(q->identity, id, id_len + 1);
  memcpy(q->psk, key, key_len);
  q->key_len = (unsigned int)key_len;
  return 0;
}

/* Protected: the server's function(identity) -> key | nil. */
static int call_server(lua_State *L)
{
  psk_call *q = (psk_call *)lua_touserdata(L, 1);
  const char *key;
  size_t key_len;

  if (sslua_context_get(L, q->ctx, PSK_FUNCTION) != LUA_TFUNCTION)
    FAIL(q, "no PSK function (context closed?)");
  lua_pushstring(L, q->text != NULL ? q->text : "");
  lua_pushinteger(L, (lua_Integer)q->max_psk_len);
  if (lua_pcall(L, 2, 1, 0) != 0)
    FAIL(q, pcall_error(L));
  if (lua_isnil(L, -1))               /* unknown identity */
    return 0;
  if (lua_type(L, -1) != LUA_TSTRING)
    FAIL(q, "key must be a string or nil");
  key = lua_tolstring(L, -1, &key_len);
  if (key_len > q->max_psk_len)
    FAIL(q, "invalid key length");
  memcpy(q->psk, key, key_len);       /* "" is 0: unknown identity */
  q->key_len = (unsigned int)key_len;
  return 0;
}

/* Runs the context's function for ssl. On failure the handshake fails: an
 * error in the queue turns this handshake step into SSL_ERROR_SSL whatever
 * OpenSSL does with the 0 returned, and being the oldest error it is the
 * one reported. The cause rides along as the error's data, cut short:
 * OpenSSL drops error data that does not fit its 1 KB buffer entirely,
 * and a traceback easily exceeds that. */
static unsigned int run(SSL *ssl, psk_call *q, lua_CFunction call)
{
  const sslua_conn *conn = sslua_conn_from_ssl(ssl);

  q->ctx = sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl));
  if (conn == NULL || conn->L == NULL || q->ctx == NULL)
    snprintf(q->why, sizeof(q->why), "no PSK function (context closed?)");
  else if (!sslua_run_protected(conn->L, call, q))
    snprintf(q->why, sizeof(q->why), "not enough memory");
  if (q->why[0] != '\0') {
    ERR_raise_data(ERR_LIB_SSL, SSL_R_CALLBACK_FAILED, "PSK callback: %.200s", q->why);
    return 0;
  }
  return q->key_len;
}

static unsigned int client_cb(SSL *ssl, const char *hint, char *identity,
                              unsigned int max_identity_len,
                              unsigned char *psk, unsigned int max_psk_len)
{
  psk_call q;
  memset(&q, 0, sizeof(q));
  q.text = hint;
  q.max_identity_len = max_identity_len;
  q.max_psk_len = max_psk_len;
  q.identity = identity;
  q.psk = psk;
  return run(ssl, &q, call_client);
}

static unsigned int server_cb(SSL *ssl, const char *identity,
                              unsigned char *psk, unsigned int max_psk_len)
{
  psk_call q;
  memset(&q, 0, sizeof(q));
  q.text = identity;
  q.max_psk_len = max_psk_len;
  q.psk = psk;
  return run(ssl, &q, call_server);
}

/* ------------------------------------------------------------------ */
/* context functions                                                   */

static int set_function(lua_State *L, int server)
{
  sslua_context *c = sslua_context_check(L, 1);

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TFUNCTION)
    return sslua_fail_false(L, "invalid PSK configuration");
  sslua_context_set(L, c, PSK_FUNCTION, 2);
  if (server)
    SSL_CTX_set_psk_server_callback(c->ctx, server_cb);
  else
    SSL_CTX_set_psk_client_callback(c->ctx, client_cb);
  return sslua_ok(L);
}

/* context.setclientpskcb(ctx, fn) -> true | false, message */
static int ctx_setclientpskcb(lua_State *L)
{
  return set_function(L, 0);
}

/* context.setserverpskcb(ctx, fn) -> true | false, message */
static int ctx_setserverpskcb(lua_State *L)
{
  return set_function(L, 1);
}

/* context.setpskhint(ctx, hint) -> true | false, message. The hint goes
 * to TLS 1.2 clients (ServerKeyExchange); TLS 1.3 has none. */
static int ctx_setpskhint(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *hint;
  size_t len;

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TSTRING)
    return sslua_fail_false(L, "invalid PSK identity hint (string expected, got %s)",
                      luaL_typename(L, 2));
  hint = lua_tolstring(L, 2, &len);
  if (strlen(hint) != len)
    return sslua_fail_false(L, "invalid PSK identity hint (embedded zero)");
  sslua_err_clear();
  if (SSL_CTX_use_psk_identity_hint(c->ctx, hint) != 1) {
    char why[REASON_LEN];
    return sslua_fail_false(L, "invalid PSK identity hint (%s)",
                      sslua_err_reason(why, sizeof(why), "rejected"));
  }
  return sslua_ok(L);
}

static const luaL_Reg context_functions[] = {
  { "setclientpskcb", ctx_setclientpskcb },
  { "setserverpskcb", ctx_setserverpskcb },
  { "setpskhint",     ctx_setpskhint },
  { NULL, NULL }
};

const sslua_feature sslua_psk_feature = {
  .name = "psk",
  .context_functions = context_functions,
};
