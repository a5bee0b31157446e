/*
 * session.c - session objects (SSL:Session) and resumption.
 *
 *   conn:getsession()    -> session | nil, message   (after the handshake)
 *   conn:setsession(s)   -> true | nil, message      (client, before it)
 *   conn:sessionreused() -> boolean
 *   session:export()     -> DER string;  ssl.importsession(der) -> session
 *
 * TLS 1.3 servers send their tickets after the handshake, so a client
 * only holds a resumable session once it has read from the connection;
 * until then getsession() answers `nil, "no resumable session"` rather
 * than hand out a session that could never resume.
 */
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "context.h"
#include "errors.h"
#include "session.h"
#include "x509_asn1.h"

#define SSLUA_SESSION_META "SSL:Session"
#define REASON_LEN 256

/* Sessions of a server with the cache on are only resumed within the same
 * id context; OpenSSL refuses resumption with verify=peer without one. */
static const unsigned char SID_CONTEXT[] = "sslua";

typedef struct {
  SSL_SESSION *sess;   /* one reference, NULL once collected */
} session_ud;

/* ------------------------------------------------------------------ */
/* session objects                                                     */

static session_ud *session_test(lua_State *L, int idx)
{
  return (session_ud *)luaL_testudata(L, idx, SSLUA_SESSION_META);
}

static int session_gc(lua_State *L)
{
  session_ud *s = (session_ud *)luaL_checkudata(L, 1, SSLUA_SESSION_META);
  SSL_SESSION_free(s->sess);
  s->sess = NULL;
  return 0;
}

static int session_tostring(lua_State *L)
{
  session_ud *s = (session_ud *)luaL_checkudata(L, 1, SSLUA_SESSION_META);
  lua_pushfstring(L, "SSL session: %p", (void *)s);
  return 1;
}

/* session:export() -> DER string | nil, message */
static int session_export(lua_State *L)
{
  session_ud *s = (session_ud *)luaL_checkudata(L, 1, SSLUA_SESSION_META);
  unsigned char *der = NULL;
  int len;

  if (s->sess == NULL)
    return sslua_fail(L, "closed");
  ERR_clear_error();
  if ((len = i2d_SSL_SESSION(s->sess, &der)) <= 0) {
    char why[REASON_LEN];
    return sslua_fail(L, "error exporting session (%s)",
                      sslua_err_reason(why, sizeof(why), "encoding failed"));
  }
  sslua_push_freed(L, der, (size_t)len);
  return 1;
}

static const luaL_Reg session_meta[] = {
  { "__gc",       session_gc },
  { "__close",    session_gc },
  { "__tostring", session_tostring },
  { NULL, NULL }
};

static const luaL_Reg session_methods[] = {
  { "export", session_export },
  { NULL, NULL }
};

/* Pushes an empty session object (sess NULL) and returns it: the caller
 * gets its SSL_SESSION only afterwards, so that a Lua memory error here
 * cannot lose a reference. The class is registered on first use: nothing
 * to do for programs without. */
static session_ud *push_session(lua_State *L)
{
  session_ud *s;
  luaL_getmetatable(L, SSLUA_SESSION_META);
  if (lua_isnil(L, -1))
    sslua_newclass(L, SSLUA_SESSION_META, session_methods, session_meta);
  lua_pop(L, 1);
  s = (session_ud *)lua_newuserdata(L, sizeof(*s));
  s->sess = NULL;
  luaL_setmetatable(L, SSLUA_SESSION_META);
  return s;
}

/* context.importsession(der) -> session | nil, "invalid session (...)" */
static int ctx_importsession(lua_State *L)
{
  const unsigned char *p, *start;
  SSL_SESSION *sess;
  session_ud *s;
  size_t len;

  if (lua_type(L, 1) != LUA_TSTRING)
    return sslua_fail(L, "invalid session (string expected, got %s)", luaL_typename(L, 1));
  start = p = (const unsigned char *)lua_tolstring(L, 1, &len);
  s = push_session(L);
  ERR_clear_error();
  sess = len <= 0x7fffffff ? d2i_SSL_SESSION(NULL, &p, (long)len) : NULL;
  if (sess == NULL || (size_t)(p - start) != len) {
    char why[REASON_LEN];
    SSL_SESSION_free(sess);
    return sslua_fail(L, "invalid session (%s)",
                      sslua_err_reason(why, sizeof(why), "trailing data"));
  }
  s->sess = sess;
  return 1;
}

/* context.setsessioncache(ctx, on [, size [, timeout]]): the server-side
 * cache (session ids, stateful TLS 1.3 tickets); values checked in ssl.lua
 * and again here, so a direct call cannot pass nonsense to OpenSSL. */
static int ctx_setsessioncache(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int on = lua_toboolean(L, 2);

  SSLUA_CHECK_OPEN(L, c);
  if (c->mode != SSLUA_MODE_SERVER)
    return sslua_fail_false(L, "invalid sessioncache parameter (server only)");
  if (!lua_isnoneornil(L, 3) && (!lua_isinteger(L, 3) || lua_tointeger(L, 3) < 0 ||
                                 lua_tointeger(L, 3) > 0x7fffffff))
    return sslua_fail_false(L, "invalid sessioncache parameter (size: %s)", sslua_describe(L, 3));
  if (!lua_isnoneornil(L, 4) && (!lua_isinteger(L, 4) || lua_tointeger(L, 4) <= 0 ||
                                 lua_tointeger(L, 4) > 0x7fffffff))
    return sslua_fail_false(L, "invalid sessioncache parameter (timeout: %s)", sslua_describe(L, 4));
  if (!on) {
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
    /* OFF only stops caching: what was cached would still resume. */
    SSL_CTX_flush_sessions(c->ctx, 0);
    return sslua_ok(L);
  }
  SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_session_id_context(c->ctx, SID_CONTEXT, sizeof(SID_CONTEXT) - 1);
  if (!lua_isnoneornil(L, 3))
    SSL_CTX_sess_set_cache_size(c->ctx, (long)lua_tointeger(L, 3));
  if (!lua_isnoneornil(L, 4))
    SSL_CTX_set_timeout(c->ctx, (long)lua_tointeger(L, 4));
  return sslua_ok(L);
}

static const luaL_Reg context_functions[] = {
  { "importsession",   ctx_importsession },
  { "setsessioncache", ctx_setsessioncache },
  { NULL, NULL }
};

/* ------------------------------------------------------------------ */
/* connection methods                                                  */

/* conn:getsession() -> session | nil, message */
static int conn_getsession(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  SSL_SESSION *sess;
  session_ud *s;

  if (c->state != SSLUA_CONN_CONNECTED)
    return sslua_fail(L, "closed");
  s = push_session(L);
  sess = SSL_get1_session(c->ssl);
  if (sess == NULL || !SSL_SESSION_is_resumable(sess)) {
    SSL_SESSION_free(sess);
    return sslua_fail(L, "no resumable session");
  }
  s->sess = sess;
  return 1;
}

/* conn:setsession(session) -> true | nil, message: clients, before the
 * handshake. A session OpenSSL finds unusable is simply not resumed. */
static int conn_setsession(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  session_ud *s;

  lua_settop(L, 2);   /* a missing argument reads "nil" in the message */
  s = session_test(L, 2);

  if (c->state == SSLUA_CONN_CLOSED)
    return sslua_fail(L, "closed");
  if (c->state != SSLUA_CONN_NEW || SSL_get_state(c->ssl) != TLS_ST_BEFORE)
    return sslua_fail(L, "handshake already started");
  if (SSL_is_server(c->ssl))
    return sslua_fail(L, "invalid session (server connection)");
  if (s == NULL || s->sess == NULL)
    return sslua_fail(L, "invalid session (%s)", sslua_describe(L, 2));
  ERR_clear_error();
  if (SSL_set_session(c->ssl, s->sess) != 1) {
    char why[REASON_LEN];
    return sslua_fail(L, "invalid session (%s)",
                      sslua_err_reason(why, sizeof(why), "rejected"));
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* conn:sessionreused() -> boolean; false until the handshake is done. */
static int conn_sessionreused(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  lua_pushboolean(L, c->state == SSLUA_CONN_CONNECTED && SSL_session_reused(c->ssl));
  return 1;
}

static const luaL_Reg methods[] = {
  { "getsession",    conn_getsession },
  { "sessionreused", conn_sessionreused },
  { "setsession",    conn_setsession },
  { NULL, NULL }
};

const sslua_feature sslua_session_feature = {
  .name = "session",
  .context_functions = context_functions,
  .methods = methods,
};
