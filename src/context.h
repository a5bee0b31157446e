/*
 * context.h - the SSL:Context object: one SSL_CTX built from newcontext's
 * parameters, shared by every connection wrapped with it. Features
 * (feature.h) add the ssl.context functions that configure it, and keep
 * their own state beside it (SSL_CTX ex_data, or Lua values here).
 */
#ifndef SSLUA_CONTEXT_H
#define SSLUA_CONTEXT_H

#include <openssl/ssl.h>
#include "compat.h"
#include "feature.h"

#define SSLUA_CONTEXT_META "SSL:Context"

typedef enum {
  SSLUA_MODE_UNSET = 0,
  SSLUA_MODE_CLIENT,
  SSLUA_MODE_SERVER
} sslua_mode;

typedef struct {
  SSL_CTX      *ctx;        /* NULL once closed */
  sslua_mode    mode;
} sslua_context;

/* The context at idx, or a Lua argument error ("invalid context"). */
sslua_context *sslua_context_check(lua_State *L, int idx);
/* The context at idx or NULL, without raising. */
sslua_context *sslua_context_test(lua_State *L, int idx);
/* The context an SSL_CTX belongs to; NULL once that context was closed. */
sslua_context *sslua_context_from_ssl_ctx(const SSL_CTX *ctx);

/* Context functions on a closed context answer `false, "closed"`. */
#define SSLUA_CHECK_OPEN(L, c) \
  do { if ((c)->ctx == NULL) return sslua_fail_false((L), "closed"); } while (0)

/* Lua values a feature keeps with a context (its callback functions, ...),
 * under `key` in the context's user value: collected with the context, so
 * a callback may refer back to it. set stores the value at idx (nil
 * removes it); get pushes it (nil when unset or closed) and returns its
 * Lua type. */
void sslua_context_set(lua_State *L, const sslua_context *c, const char *key, int idx);
int  sslua_context_get(lua_State *L, const sslua_context *c, const char *key);

/* Builds the SSL:Context class and pushes the ssl.context module table,
 * with the functions and methods of every feature in `features`. */
int sslua_context_open(lua_State *L, sslua_feature_list features);

#endif
