/*
 * alpn.h - Application-Layer Protocol Negotiation (RFC 7301): the client's
 * offer, the server's choice by list or by Lua function, and the result.
 */
#ifndef SSLUA_ALPN_H
#define SSLUA_ALPN_H

#include <stddef.h>
#include "feature.h"

/* LuaSec's texts for a bad ALPN list, shared by the C and Lua sides. */
#define SSLUA_ALPN_ERR_PARAM   "invalid ALPN parameter"
#define SSLUA_ALPN_ERR_EMPTY   "invalid ALPN name (empty string)"
#define SSLUA_ALPN_ERR_LONG    "invalid ALPN name (length > 255)"
#define SSLUA_ALPN_ERR_NONE    "invalid ALPN list (empty)"
#define SSLUA_ALPN_ERR_TOOLONG "invalid ALPN list (longer than 65535 bytes)"
#define SSLUA_ALPN_ERR_MEMORY  "not enough memory"

/* Wire format (RFC 7301 3.1) of n protocol names: each name as one length
 * byte followed by its bytes. names[i] == NULL stands for a value that is
 * not a string. Pure C, no Lua, no global state.
 *
 * Returns 1 and an OPENSSL_malloc'ed buffer in *out (*outlen bytes; the
 * caller frees it with OPENSSL_free), or 0 with *out = NULL, *outlen = 0
 * and *err set to one of the SSLUA_ALPN_ERR_* texts above; the first bad
 * name (in list order) decides the text. n == 0 is an empty list. */
int sslua_alpn_wire(const char *const *names, const size_t *lens, size_t n,
                    unsigned char **out, size_t *outlen, const char **err);

/* Finds, in server preference order, the first name of the wire list
 * `server` that the wire list `client` also has. Returns 1 with *out
 * pointing INTO `client` (and *outlen its length), or 0 when there is no
 * common name or either list is malformed. Pure C. */
int sslua_alpn_match(const unsigned char *server, size_t server_len,
                     const unsigned char *client, size_t client_len,
                     const unsigned char **out, unsigned char *outlen);

/* ssl.context: setalpn(ctx, name_or_list), setalpncb(ctx, fn),
 * setalpnstrict(ctx, flag); SSL:Connection: getalpn() */
extern const sslua_feature sslua_alpn_feature;

#endif
