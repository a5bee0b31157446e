/*
 * connection.h - the SSL:Connection object: one SSL over a socket
 * descriptor taken from LuaSocket, with LuaSocket's buffer and timeouts.
 * Features (feature.h) add methods and keep their own state beside it.
 */
#ifndef SSLUA_CONNECTION_H
#define SSLUA_CONNECTION_H

#include <openssl/ssl.h>
#include "compat.h"
#include "buffer.h"
#include "errors.h"
#include "feature.h"
#include "timeout.h"

#define SSLUA_CONNECTION_META "SSL:Connection"

typedef enum {
  SSLUA_CONN_NEW,        /* created; handshake not finished */
  SSLUA_CONN_CONNECTED,  /* handshake done */
  SSLUA_CONN_FAILED,     /* handshake failed for good: the error sticks */
  SSLUA_CONN_CLOSED      /* close() called: descriptor and SSL released */
} sslua_conn_state;

typedef struct sslua_conn {
  lua_State       *L;        /* state of the call driving OpenSSL now, for callbacks */
  SSL             *ssl;      /* NULL once closed */
  int              fd;       /* -1 when none */
  sslua_conn_state state;
  int              fatal;    /* sticky I/O error code once the stream broke */
  int              busy;     /* inside an OpenSSL call (callbacks may run) */
  int              close_pending;  /* close() asked for by such a callback */
  int              error_objects;  /* errors come back as objects (errobj.h) */
  sslua_timeout    tm;
  sslua_buffer     buf;
  /* Why the stream broke (TLS or system): allocated by the first failure,
   * so a working connection does not carry its 400 bytes of text. */
  sslua_failure   *failure;
} sslua_conn;

/* The connection at idx (else a Lua argument error), entered from L:
 * OpenSSL callbacks run during this call use L, so every method that may
 * reach OpenSSL enters the connection this way, never a stale state. */
sslua_conn *sslua_conn_enter(lua_State *L, int idx);
/* The connection an SSL belongs to (for OpenSSL callbacks), or NULL. */
sslua_conn *sslua_conn_from_ssl(const SSL *ssl);

/* The text of c's failure: "" before any, "out of memory" when its record
 * could not be allocated. */
const char *sslua_conn_failure_message(const sslua_conn *c);

/* A feature's Lua state for connection c, kept in the connection's user
 * value under `key` and collected with it: set stores the value at idx,
 * get pushes it (nil when unset) and returns its type. */
void sslua_conn_set(lua_State *L, const sslua_conn *c, const char *key, int idx);
int  sslua_conn_get(lua_State *L, const sslua_conn *c, const char *key);

/* Builds the SSL:Connection class with the methods of every feature in
 * `features` (kept for the connections' lifetime hooks) and pushes the
 * ssl.core module table. */
int sslua_connection_open(lua_State *L, sslua_feature_list features);

#endif
