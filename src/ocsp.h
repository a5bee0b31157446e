/*
 * ocsp.h - OCSP stapling: a server staples a DER response (or what a Lua
 * function returns); a client asks for one and may require a good one.
 */
#ifndef SSLUA_OCSP_H
#define SSLUA_OCSP_H

#include "feature.h"

/* context.setocsp(ctx, value): server DER string or function, client
 * "request" or "require" -> true | false, message;
 * conn:getocsp() -> the stapled DER the client received, or nil. A
 * failed staple check explains the handshake error: "(OCSP: why)". */
extern const sslua_feature sslua_ocsp_feature;

#endif
