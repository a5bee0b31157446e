/*
 * session.h - TLS session resumption: session objects a client takes from
 * one connection and offers on the next, their DER export/import, and the
 * server's opt-in session cache (LuaSec keeps it off; so do we by default).
 */
#ifndef SSLUA_SESSION_H
#define SSLUA_SESSION_H

#include "feature.h"

/* context.setsessioncache(ctx, on [, size [, timeout]]),
 * context.importsession(der) -> session | nil, message;
 * conn:getsession(), conn:setsession(s), conn:sessionreused() */
extern const sslua_feature sslua_session_feature;

#endif
