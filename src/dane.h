/*
 * dane.h - DANE (RFC 6698/7671) peer authentication from TLSA records:
 * enabled on the context, given a base domain and records per connection.
 */
#ifndef SSLUA_DANE_H
#define SSLUA_DANE_H

#include "compat.h"

/* context.setdane(ctx [, flag...]) -> true | false, message */
extern const luaL_Reg sslua_dane_context_functions[];

/* conn:setdane(basedomain), conn:settlsa(usage, selector, mtype, data) */
extern const luaL_Reg sslua_dane_methods[];

#endif
