/*
 * alert.h - the last TLS alert each connection sent and received, for
 * conn:getalert(): recorded by an info callback on every SSL.
 */
#ifndef SSLUA_ALERT_H
#define SSLUA_ALERT_H

#include <openssl/ssl.h>
#include "compat.h"

/* Starts recording alerts on a new SSL (called by core.create). */
void sslua_alert_attach(SSL *ssl);

/* conn:getalert() -> { sent = {...}, received = {...} } | nil */
extern const luaL_Reg sslua_alert_methods[];

#endif
