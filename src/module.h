/*
 * module.h - the entry points Lua's loader calls: ssl.core (connections)
 * and ssl.context, each built from the core and the list of features in
 * module.c. (ssl.x509 and ssl.config are in x509.c and config.c.)
 */
#ifndef SSLUA_MODULE_H
#define SSLUA_MODULE_H

#include "compat.h"

int luaopen_ssl_core(lua_State *L);
int luaopen_ssl_context(lua_State *L);

#endif
