/*
 * alpn.c - ALPN for both roles.
 *
 * The client offers a list (SSL_CTX_set_alpn_protos). The server answers
 * from its own list, in its own order of preference, or asks a Lua
 * function. No common protocol means no ALPN at all: the handshake goes
 * on without it, as in LuaSec.
 *
 * All the selection state lives in the context (the list and strictness
 * in SSL_CTX ex_data, the function among its Lua values) or on the stack
 * of the handshake; nothing is written into the context
 * while a handshake runs, so any number of handshakes (and SNI switches to
 * another context) can share it. The name handed back to OpenSSL always
 * points into the client's own ClientHello bytes, which outlive the
 * callback, never into a Lua string that could be collected.
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "alpn.h"
#include "connection.h"
#include "context.h"

/* The ALPN extension carries the list after a two-byte length, inside an
 * extension whose own length is two bytes: 65535 - 2 bytes at most. */
#define WIRE_MAX 65533

/* ------------------------------------------------------------------ */
/* wire format, pure C                                                 */

int sslua_alpn_wire(const char *const *names, const size_t *lens, size_t n,
                    unsigned char **out, size_t *outlen, const char **err)
{
  size_t i, total = 0;
  unsigned char *p;

  *out = NULL;
  *outlen = 0;
  if (n == 0) {
    *err = SSLUA_ALPN_ERR_NONE;
    return 0;
  }
  /* Every name is checked before the total, so the first bad name wins. */
  for (i = 0; i < n; i++) {
    if (names[i] == NULL) {
      *err = SSLUA_ALPN_ERR_PARAM;
      return 0;
    }
    if (lens[i] == 0) {
      *err = SSLUA_ALPN_ERR_EMPTY;
      return 0;
    }
    if (lens[i] > 255) {
      *err = SSLUA_ALPN_ERR_LONG;
      return 0;
    }
    if (total <= WIRE_MAX)           /* saturates: no overflow for huge n */
      total += 1 + lens[i];
  }
  if (total > WIRE_MAX) {
    *err = SSLUA_ALPN_ERR_TOOLONG;
    return 0;
  }
  if ((p = (unsigned char *)OPENSSL_malloc(total)) == NULL) {
    *err = SSLUA_ALPN_ERR_MEMORY;
    return 0;
  }
  *out = p;
  *outlen = total;
  for (i = 0; i < n; i++) {
    *p++ = (unsigned char)lens[i];
    memcpy(p, names[i], lens[i]);
    p += lens[i];
  }
  return 1;
}

/* Steps to the next name of a wire list; 0 at the end or on bad data. */
static int next_name(const unsigned char **p, const unsigned char *end,
                     const unsigned char **name, unsigned char *len)
{
  if (*p >= end || **p == 0 || (size_t)(end - *p - 1) < **p)
    return 0;
  *len = **p;
  *name = *p + 1;
  *p += 1 + **p;
  return 1;
}

int sslua_alpn_match(const unsigned char *server, size_t server_len,
                     const unsigned char *client, size_t client_len,
                     const unsigned char **out, unsigned char *outlen)
{
  const unsigned char *s, *send, *sname, *cname;
  unsigned char slen, clen;

  if (server == NULL || client == NULL)
    return 0;
  s = server;
  send = server + server_len;
  while (next_name(&s, send, &sname, &slen)) {
    const unsigned char *c = client, *cend = client + client_len;
    while (next_name(&c, cend, &cname, &clen)) {
      if (clen == slen && memcmp(cname, sname, slen) == 0) {
        *out = cname;
        *outlen = clen;
        return 1;
      }
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Lua values -> wire format                                           */

/* The name or array of names at idx in wire format; on failure *err is
 * LuaSec's text. May raise only on memory errors (nothing to leak then:
 * the buffer is allocated last). */
static int wire_from_lua(lua_State *L, int idx, unsigned char **out,
                         size_t *outlen, const char **err)
{
  const char **names;
  size_t *lens, i, n;
  int ok;

  if (idx < 0)                       /* lua_absindex is 5.2+ */
    idx = lua_gettop(L) + idx + 1;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *name = lua_tolstring(L, idx, &len);
    return sslua_alpn_wire(&name, &len, 1, out, outlen, err);
  }
  *out = NULL;
  *outlen = 0;
  if (!lua_istable(L, idx)) {
    *err = SSLUA_ALPN_ERR_PARAM;
    return 0;
  }
  n = (size_t)lua_rawlen(L, idx);
  /* Scratch arrays as userdata: the collector frees them on any error. */
  names = (const char **)lua_newuserdata(L, (n ? n : 1) * (sizeof(*names) + sizeof(*lens)));
  lens = (size_t *)(void *)(names + (n ? n : 1));
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (int)(i + 1));
    /* The table keeps each string alive; no Lua code runs meanwhile. */
    names[i] = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &lens[i]) : NULL;
    if (names[i] == NULL)
      lens[i] = 0;
    lua_pop(L, 1);
  }
  ok = sslua_alpn_wire(names, lens, n, out, outlen, err);
  lua_pop(L, 1);
  return ok;
}

/* ------------------------------------------------------------------ */
/* server selection                                                    */

/* A server context's choice (SSL_CTX ex_data, freed with the SSL_CTX). */
typedef struct {
  unsigned char *list;          /* wire format; NULL while a function chooses */
  size_t         len;
  int            strict;        /* no match ends the handshake */
} alpn_server;

static int server_index = -1;

static void server_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                        long argl, void *argp)
{
  alpn_server *s = (alpn_server *)ptr;
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  if (s != NULL)
    OPENSSL_free(s->list);
  OPENSSL_free(s);
}

static int alpn_init(void)
{
  server_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, server_free);
  return server_index >= 0;
}

/* ctx's server state, created on first use; NULL when out of memory. */
static alpn_server *server_state(SSL_CTX *ctx)
{
  alpn_server *s = (alpn_server *)SSL_CTX_get_ex_data(ctx, server_index);
  if (s != NULL)
    return s;
  if ((s = (alpn_server *)OPENSSL_zalloc(sizeof(*s))) == NULL)
    return NULL;
  if (!SSL_CTX_set_ex_data(ctx, server_index, s)) {
    OPENSSL_free(s);
    return NULL;
  }
  return s;
}

#define ALPN_FUNCTION "alpn"   /* key of the selection function (context values) */

typedef struct {
  const sslua_context *ctx;
  const unsigned char *in;      /* the client's list, wire format */
  size_t               inlen;
  const unsigned char *out;     /* the choice: points into `in` */
  unsigned char        outlen;
  int                  found;
} alpn_query;

/* Pushes the client's wire list as an array of strings. */
static void push_names(lua_State *L, const unsigned char *in, size_t inlen)
{
  const unsigned char *p = in, *name;
  unsigned char len;
  int i = 0;
  lua_newtable(L);
  while (next_name(&p, in + inlen, &name, &len)) {
    lua_pushlstring(L, (const char *)name, len);
    lua_rawseti(L, -2, ++i);
  }
}

/* Protected part of the callback: fn(client_list) -> name | {names}.
 * A string must be one the client offered; an array is matched like the
 * server's own list. Anything else (or a bad name) selects nothing. */
static int ask_lua(lua_State *L)
{
  alpn_query *q = (alpn_query *)lua_touserdata(L, 1);
  unsigned char *wire;
  size_t len;
  const char *err;

  if (sslua_context_get(L, q->ctx, ALPN_FUNCTION) != LUA_TFUNCTION)
    return 0;
  push_names(L, q->in, q->inlen);
  lua_call(L, 1, 1);
  if (!wire_from_lua(L, -1, &wire, &len, &err))
    return 0;
  /* No Lua call between the allocation and the free: nothing can skip it. */
  q->found = sslua_alpn_match(wire, len, q->in, q->inlen, &q->out, &q->outlen);
  OPENSSL_free(wire);
  return 0;
}

/* OpenSSL's selection callback, on every server context with ALPN. The
 * context is looked up from the SSL each time, so after an SNI switch the
 * new context's list or function decides. */
static int select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned int inlen, void *arg)
{
  const sslua_context *ctx = sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl));
  const alpn_server *server = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), server_index);
  const sslua_conn *conn = sslua_conn_from_ssl(ssl);
  alpn_query q;

  (void)arg;
  if (ctx == NULL || server == NULL) /* the context was closed meanwhile */
    return SSL_TLSEXT_ERR_NOACK;
  memset(&q, 0, sizeof(q));
  q.ctx = ctx;
  q.in = in;
  q.inlen = inlen;
  if (server->list != NULL)
    q.found = sslua_alpn_match(server->list, server->len, in, inlen, &q.out, &q.outlen);
  else if (conn == NULL || conn->L == NULL || !sslua_run_protected(conn->L, ask_lua, &q))
    q.found = 0;
  /* Strict: the client asked for protocols and none was chosen, so end
   * with no_application_protocol (RFC 7301) rather than let it talk to a
   * service it did not ask for (cross-protocol attacks such as ALPACA). */
  if (!q.found)
    return server->strict ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
  *out = q.out;
  *outlen = q.outlen;
  return SSL_TLSEXT_ERR_OK;
}

/* ------------------------------------------------------------------ */
/* ssl.context functions                                               */

/* Forgets the server's selection function (the last setter wins). */
static void drop_function(lua_State *L, const sslua_context *c)
{
  lua_pushnil(L);
  sslua_context_set(L, c, ALPN_FUNCTION, -1);
  lua_pop(L, 1);
}

/* context.setalpn(ctx, name_or_list) -> true | false, msg
 * A client offers the list; a server keeps it as its preference order.
 * A context whose mode is not set yet gets both, so setmode may follow. */
static int ctx_setalpn(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  alpn_server *server;
  unsigned char *wire;
  size_t len;
  const char *err;

  SSLUA_CHECK_OPEN(L, c);
  if (!wire_from_lua(L, 2, &wire, &len, &err))
    return sslua_fail_false(L, err);
  /* SSL_CTX_set_alpn_protos returns 0 on success. */
  if (c->mode != SSLUA_MODE_SERVER &&
      SSL_CTX_set_alpn_protos(c->ctx, wire, (unsigned int)len) != 0) {
    OPENSSL_free(wire);
    return sslua_fail_false(L, SSLUA_ALPN_ERR_MEMORY);
  }
  if (c->mode != SSLUA_MODE_CLIENT) {
    if ((server = server_state(c->ctx)) == NULL) {
      OPENSSL_free(wire);
      return sslua_fail_false(L, SSLUA_ALPN_ERR_MEMORY);
    }
    OPENSSL_free(server->list);
    server->list = wire;
    server->len = len;
    wire = NULL;
    drop_function(L, c);
    SSL_CTX_set_alpn_select_cb(c->ctx, select_cb, NULL);
  }
  OPENSSL_free(wire);
  return sslua_ok(L);
}

/* context.setalpncb(ctx, fn) -> true | false, msg
 * Server only: fn(client_names) chooses, see ask_lua. */
static int ctx_setalpncb(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  alpn_server *server;

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TFUNCTION || c->mode == SSLUA_MODE_CLIENT)
    return sslua_fail_false(L, SSLUA_ALPN_ERR_PARAM);
  if ((server = server_state(c->ctx)) == NULL)
    return sslua_fail_false(L, SSLUA_ALPN_ERR_MEMORY);
  sslua_context_set(L, c, ALPN_FUNCTION, 2);
  OPENSSL_free(server->list);
  server->list = NULL;
  server->len = 0;
  SSL_CTX_set_alpn_select_cb(c->ctx, select_cb, NULL);
  return sslua_ok(L);
}

/* context.setalpnstrict(ctx, flag) -> true | false, msg
 * Server only: with flag true, a client whose ALPN offer the server's
 * list or function does not answer fails the handshake. Clients that
 * offer no ALPN are not affected. */
static int ctx_setalpnstrict(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  alpn_server *server;

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TBOOLEAN)
    return sslua_fail_false(L, "invalid alpnstrict parameter (boolean expected, got %s)",
                            luaL_typename(L, 2));
  if (c->mode == SSLUA_MODE_CLIENT)
    return sslua_fail_false(L, "invalid alpnstrict parameter (server contexts only)");
  if ((server = server_state(c->ctx)) == NULL)
    return sslua_fail_false(L, SSLUA_ALPN_ERR_MEMORY);
  server->strict = lua_toboolean(L, 2);
  return sslua_ok(L);
}

/* ------------------------------------------------------------------ */
/* connection method                                                   */

/* conn:getalpn() -> protocol | nil. Only a finished handshake has a
 * result; in any other state (fresh, failed, closed) the answer is nil. */
static int conn_getalpn(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  const unsigned char *name = NULL;
  unsigned int len = 0;

  if (c->state == SSLUA_CONN_CONNECTED && c->ssl != NULL)
    SSL_get0_alpn_selected(c->ssl, &name, &len);
  if (name == NULL || len == 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, (const char *)name, len);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "setalpn",       ctx_setalpn },
  { "setalpncb",     ctx_setalpncb },
  { "setalpnstrict", ctx_setalpnstrict },
  { NULL, NULL }
};

static const luaL_Reg methods[] = {
  { "getalpn", conn_getalpn },
  { NULL, NULL }
};

const sslua_feature sslua_alpn_feature = {
  .name = "alpn",
  .context_functions = context_functions,
  .methods = methods,
  .init = alpn_init,
};
