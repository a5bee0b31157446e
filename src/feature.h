/*
 * feature.h - how a feature plugs into the core.
 *
 * The core (context.c, connection.c) knows no feature by name. Each
 * feature file exports one sslua_feature; module.c lists them, and the
 * core walks that list: to register Lua functions and methods, once at
 * luaopen (init), for every new context (attach_context) and connection
 * (attach), when a connection fails (explain) and when it is released
 * (release). Adding a feature is
 * one new file and one line in module.c.
 *
 * Per-connection state of a feature lives in SSL ex_data (freed with the
 * SSL by the free callback its init registered) or in the connection's
 * user value (sslua_conn_set/get), never in the core's structures.
 */
#ifndef SSLUA_FEATURE_H
#define SSLUA_FEATURE_H

#include <openssl/ssl.h>
#include "compat.h"
#include "errors.h"

struct sslua_conn;

typedef struct {
  const char *name;
  /* Functions of ssl.context (taking the context first), methods of
   * SSL:Context objects, methods of SSL:Connection objects; any may be
   * NULL. */
  const luaL_Reg *context_functions;
  const luaL_Reg *context_methods;
  const luaL_Reg *methods;
  /* Once, when the module loads: allocates ex_data indices and the like.
   * Returns 0 when it could not (the module then fails to load). */
  int  (*init)(void);
  /* A new context, its SSL_CTX just created. Returns 0 on failure (out
   * of memory: the context is not created). */
  int  (*attach_context)(SSL_CTX *ctx);
  /* A new connection, its SSL just created. Returns 0 on failure (out of
   * memory: the connection is not created). */
  int  (*attach)(struct sslua_conn *c);
  /* A TLS failure of the connection: add what this feature knows (why a
   * verification failed, ...). Features run in list order; the first to
   * add its words to the message wins (sslua_failure_explain). */
  void (*explain)(SSL *ssl, sslua_failure *f);
  /* The connection is closing, its SSL about to be freed. */
  void (*release)(struct sslua_conn *c);
} sslua_feature;

/* The list module.c hands to the core, NULL-terminated. */
typedef const sslua_feature *const sslua_feature_list[];

#endif
