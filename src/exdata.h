/*
 * exdata.h - blocks of feature state that OpenSSL keeps with an SSL_CTX
 * or an SSL (ex_data) and frees with it: how features hold C state without
 * a field in the core's structs.
 */
#ifndef SSLUA_EXDATA_H
#define SSLUA_EXDATA_H

#include <stddef.h>
#include <openssl/ssl.h>

/* A new ex_data index whose values are OPENSSL_malloc'ed blocks (or
 * strings), freed with their SSL_CTX / SSL; -1 when OpenSSL has no room.
 * Allocate indices in a feature's init, never lazily. */
int sslua_exdata_ctx_index(void);
int sslua_exdata_ssl_index(void);

/* The block at `index` of ctx, created zeroed (`size` bytes) on first
 * use; NULL when out of memory. */
void *sslua_exdata_ctx_block(SSL_CTX *ctx, int index, size_t size);

#endif
