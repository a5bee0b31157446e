/*
 * hostname.h - checking the peer's identity inside the handshake: the
 * name (or IP address) its certificate must carry.
 */
#ifndef SSLUA_HOSTNAME_H
#define SSLUA_HOSTNAME_H

#include "feature.h"

/* context.setverifyhost(ctx, name|false), conn:setverifyhost(name|false);
 * explains a failed name check: '(hostname mismatch: "name")'. */
extern const sslua_feature sslua_hostname_feature;

#endif
