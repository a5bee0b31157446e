/*
 * ocsp.h - OCSP stapling: a server staples a DER response (or what a Lua
 * function returns); a client asks for one and may require a good one.
 */
#ifndef SSLUA_OCSP_H
#define SSLUA_OCSP_H

#include <openssl/ssl.h>
#include "compat.h"

/* context.setocsp(ctx, value): server DER string or function, client
 * "request" or "require" -> true | false, message */
extern const luaL_Reg sslua_ocsp_context_functions[];

/* conn:getocsp() -> the stapled DER the client received, or nil */
extern const luaL_Reg sslua_ocsp_methods[];

/* After a failed handshake: appends " (OCSP: why)" to the message in buf
 * when it was the OCSP check that failed it. */
void sslua_ocsp_amend(const SSL *ssl, char *buf, size_t len);

#endif
