/*
 * connection.h - the SSL:Connection object: one SSL over a socket
 * descriptor taken from LuaSocket, with LuaSocket's buffer and timeouts.
 */
#ifndef SSLUA_CONNECTION_H
#define SSLUA_CONNECTION_H

#include <openssl/ssl.h>
#include "compat.h"
#include "buffer.h"
#include "timeout.h"

#define SSLUA_CONNECTION_META "SSL:Connection"

typedef enum {
  SSLUA_CONN_NEW,        /* created; handshake not finished */
  SSLUA_CONN_CONNECTED,  /* handshake done */
  SSLUA_CONN_FAILED,     /* handshake failed for good: the error sticks */
  SSLUA_CONN_CLOSED      /* close() called: descriptor and SSL released */
} sslua_conn_state;

typedef struct {
  lua_State       *L;        /* state of the call driving OpenSSL now, for callbacks */
  SSL             *ssl;      /* NULL once closed */
  int              fd;       /* -1 when none */
  sslua_conn_state state;
  int              fatal;    /* sticky I/O error code once the stream broke */
  int              busy;     /* inside an OpenSSL call (callbacks may run) */
  int              close_pending;  /* close() asked for by such a callback */
  int              sys_errno;
  sslua_timeout    tm;
  sslua_buffer     buf;
  int              sni_ref;      /* weak holder of the SNI map (sni.c), LUA_NOREF if none */
  int              sni_strict;
  int              verify_ref;   /* per-depth verify errors (lsec_continue) */
  char             error[256];   /* text of the last TLS error */
  int              errobjects;   /* return error objects (errobj.c) */
  int              err_kind;     /* SSLUA_ERRKIND_* of the fatal error (errobj.h) */
  unsigned long    err_code;     /* its OpenSSL error code, 0 if none */
} sslua_conn;

/* The connection at idx or a Lua argument error. */
sslua_conn *sslua_conn_check(lua_State *L, int idx);
/* The connection an SSL belongs to (for OpenSSL callbacks), or NULL. */
sslua_conn *sslua_conn_from_ssl(const SSL *ssl);

int luaopen_ssl_core(lua_State *L);

#endif
