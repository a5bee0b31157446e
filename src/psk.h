/*
 * psk.h - pre-shared keys (LuaSec 1.3's `psk` parameter): Lua functions
 * that give the client its identity and key and the server the key for an
 * identity, for TLS 1.2 PSK cipher suites and TLS 1.3 external PSKs.
 */
#ifndef SSLUA_PSK_H
#define SSLUA_PSK_H

#include "feature.h"

/* context.setclientpskcb(ctx, fn), context.setserverpskcb(ctx, fn),
 * context.setpskhint(ctx, hint): each `true` or `false, message`. */
extern const sslua_feature sslua_psk_feature;

#endif
