/*
 * range.h - protocol version ranges: protocol = {min = ..., max = ...}.
 */
#ifndef SSLUA_RANGE_H
#define SSLUA_RANGE_H

#include "compat.h"

/* context.setprotocolrange(ctx, min|nil, max|nil) -> true | false, message */
extern const luaL_Reg sslua_range_context_functions[];

#endif
