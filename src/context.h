/*
 * context.h - the SSL:Context object: one SSL_CTX built from newcontext's
 * parameters, shared by every connection wrapped with it.
 */
#ifndef SSLUA_CONTEXT_H
#define SSLUA_CONTEXT_H

#include <openssl/ssl.h>
#include "compat.h"

#define SSLUA_CONTEXT_META "SSL:Context"

typedef enum {
  SSLUA_MODE_UNSET = 0,
  SSLUA_MODE_CLIENT,
  SSLUA_MODE_SERVER
} sslua_mode;

typedef struct {
  SSL_CTX   *ctx;       /* NULL once closed */
  sslua_mode mode;
  int        verify;    /* SSL_VERIFY_* bits given to setverify */
} sslua_context;

/* The live context at idx, or a Lua argument error ("invalid context"). */
sslua_context *sslua_context_check(lua_State *L, int idx);
/* The context at idx or NULL, without raising. */
sslua_context *sslua_context_test(lua_State *L, int idx);

int luaopen_ssl_context(lua_State *L);

#endif
