/*
 * inspect.h - read-only questions about an established connection: the
 * negotiated parameters now, certificates and verification later.
 */
#ifndef SSLUA_INSPECT_H
#define SSLUA_INSPECT_H

#include "compat.h"

/* Methods added to SSL:Connection by luaopen_ssl_core. */
extern const luaL_Reg sslua_inspect_methods[];

#endif
