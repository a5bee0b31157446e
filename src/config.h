/*
 * config.h - ssl.config: what this build supports, as LuaSec reports it,
 * plus what each option actually does here.
 */
#ifndef SSLUA_CONFIG_H
#define SSLUA_CONFIG_H

#include "compat.h"

int luaopen_ssl_config(lua_State *L);

#endif
