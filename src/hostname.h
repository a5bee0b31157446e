/*
 * hostname.h - checking the peer's identity inside the handshake: the
 * name (or IP address) its certificate must carry, and a Lua verify
 * callback that may overrule OpenSSL's verdict on each certificate.
 */
#ifndef SSLUA_HOSTNAME_H
#define SSLUA_HOSTNAME_H

#include <openssl/ssl.h>
#include "compat.h"
#include "connection.h"
#include "context.h"

/* context.setverifyhost(ctx, name|false), context.setverifycallback(ctx, fn) */
extern const luaL_Reg sslua_hostname_context_functions[];

/* conn:setverifyhost(name|false) */
extern const luaL_Reg sslua_hostname_methods[];

/* True when the context has a Lua verify callback. */
int sslua_hostname_has_callback(const sslua_context *ctx);

/* Runs the context's Lua verify callback for one certificate (from the
 * OpenSSL verify callback in verify.c) and returns the new verdict;
 * ctx NULL (the context was closed) rejects with "context closed". */
int sslua_hostname_run_callback(int ok, X509_STORE_CTX *store, sslua_conn *c,
                                sslua_context *ctx);

/* Adds the why of a "certificate verify failed" to `msg` when it was the
 * name check or the Lua callback; `code` is the error that failed. */
void sslua_hostname_annotate(const SSL *ssl, unsigned long code, char *msg, size_t len);

#endif
