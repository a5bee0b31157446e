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
 * The function lives in the context (SSLUA_REF_PSK) and runs protected on
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
 * Never a Lua error escaping through OpenSSL (reference H11).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "context.h"
#include "error.h"
#include "psk.h"

#define REASON_LEN 256

/* ------------------------------------------------------------------ */
/* callbacks                                                           */

/* Makes the handshake fail: an error in the queue turns this handshake
 * step into SSL_ERROR_SSL whatever OpenSSL does with the 0 we return, and
 * being the oldest error it is the one reported. The cause rides along as
 * the error's data for anyone printing the queue. */
static unsigned int callback_failed(lua_State *L, int top, const char *why)
{
  /* Cut long texts here: OpenSSL drops error data that does not fit its
   * 1 KB buffer entirely, and a traceback easily exceeds that. */
  ERR_raise_data(ERR_LIB_SSL, SSL_R_CALLBACK_FAILED, "PSK callback: %.200s", why);
  if (L != NULL)
    lua_settop(L, top);
  return 0;
}

/* Pushes the context's PSK function for `ssl` and returns the state to
 * call it on (its stack height in *top), or NULL when there is none. */
static lua_State *push_function(SSL *ssl, int *top)
{
  sslua_conn *conn = sslua_conn_from_ssl(ssl);
  sslua_context *ctx = sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl));
  lua_State *L;

  if (conn == NULL || conn->L == NULL || ctx == NULL)
    return NULL;
  L = conn->L;
  *top = lua_gettop(L);
  if (!lua_checkstack(L, 8))
    return NULL;
  if (sslua_context_pushref(L, ctx, SSLUA_REF_PSK) != LUA_TFUNCTION) {
    lua_settop(L, *top);
    return NULL;
  }
  return L;
}

static const char *pcall_error(lua_State *L)
{
  return lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
         ? lua_tostring(L, -1) : "(error object is not a string)";
}

static unsigned int client_cb(SSL *ssl, const char *hint, char *identity,
                              unsigned int max_identity_len,
                              unsigned char *psk, unsigned int max_psk_len)
{
  int top = 0;
  lua_State *L = push_function(ssl, &top);
  const char *id, *key;
  size_t id_len, key_len;

  if (L == NULL)
    return callback_failed(NULL, 0, "no PSK function (context closed?)");
  if (hint != NULL)
    lua_pushstring(L, hint);
  else
    lua_pushnil(L);
  lua_pushinteger(L, (lua_Integer)max_identity_len);
  lua_pushinteger(L, (lua_Integer)max_psk_len);
  if (lua_pcall(L, 3, 2, 0) != 0)
    return callback_failed(L, top, pcall_error(L));
  if (lua_isnil(L, -2)) {             /* no PSK to offer */
    lua_settop(L, top);
    return 0;
  }
  if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
    return callback_failed(L, top, "identity and key must be strings");
  id = lua_tolstring(L, -2, &id_len);
  key = lua_tolstring(L, -1, &key_len);
  if (id_len > max_identity_len || strlen(id) != id_len)
    return callback_failed(L, top, "invalid identity");
  if (key_len == 0 || key_len > max_psk_len)
    return callback_failed(L, top, "invalid key length");
  /* OpenSSL hands out max_identity_len + 1 bytes for the terminator. */
  memcpy(identity, id, id_len + 1);
  memcpy(psk, key, key_len);
  lua_settop(L, top);
  return (unsigned int)key_len;
}

static unsigned int server_cb(SSL *ssl, const char *identity,
                              unsigned char *psk, unsigned int max_psk_len)
{
  int top = 0;
  lua_State *L = push_function(ssl, &top);
  const char *key;
  size_t key_len;

  if (L == NULL)
    return callback_failed(NULL, 0, "no PSK function (context closed?)");
  lua_pushstring(L, identity != NULL ? identity : "");
  lua_pushinteger(L, (lua_Integer)max_psk_len);
  if (lua_pcall(L, 2, 1, 0) != 0)
    return callback_failed(L, top, pcall_error(L));
  if (lua_isnil(L, -1)) {             /* unknown identity */
    lua_settop(L, top);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    return callback_failed(L, top, "key must be a string or nil");
  key = lua_tolstring(L, -1, &key_len);
  if (key_len > max_psk_len)
    return callback_failed(L, top, "invalid key length");
  memcpy(psk, key, key_len);          /* "" is 0: unknown identity */
  lua_settop(L, top);
  return (unsigned int)key_len;
}

/* ------------------------------------------------------------------ */
/* context functions                                                   */

static int set_function(lua_State *L, int server)
{
  sslua_context *c = sslua_context_check(L, 1);

  if (c->ctx == NULL)
    return sslua_fail_false(L, "closed");
  if (lua_type(L, 2) != LUA_TFUNCTION)
    return sslua_fail_false(L, "invalid PSK configuration");
  sslua_context_setref(L, c, SSLUA_REF_PSK, 2);
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

  if (c->ctx == NULL)
    return sslua_fail_false(L, "closed");
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

const luaL_Reg sslua_psk_context_functions[] = {
  { "setclientpskcb", ctx_setclientpskcb },
  { "setserverpskcb", ctx_setserverpskcb },
  { "setpskhint",     ctx_setpskhint },
  { NULL, NULL }
};
