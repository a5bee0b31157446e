/*
 * x509.h - the certificate object (`SSL:Certificate`) shared by the
 * context, connection and ssl.x509 modules.
 */
#ifndef SSLUA_X509_H
#define SSLUA_X509_H

#include <openssl/x509.h>

#include "compat.h"

#define SSLUA_X509_META "SSL:Certificate"

/* Pushes a certificate object holding its own reference (X509_up_ref); the caller keeps its reference. */
void  sslua_x509_push(lua_State *L, X509 *cert);
/* Returns the X509* at idx or raises a Lua argument error. */
X509 *sslua_x509_check(lua_State *L, int idx);
/* Returns the X509* at idx or NULL (no error). */
X509 *sslua_x509_test(lua_State *L, int idx);
int luaopen_ssl_x509(lua_State *L);   /* module table: load(data [, "pem"|"der"]) ; the lead binds ssl.loadcertificate to it */

#endif
