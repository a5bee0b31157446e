/*
 * range.h - protocol version ranges: protocol = {min = ..., max = ...}.
 */
#ifndef SSLUA_RANGE_H
#define SSLUA_RANGE_H

#include "feature.h"

/* context.setprotocolrange(ctx, min|nil, max|nil) -> true | false, message */
extern const sslua_feature sslua_range_feature;

#endif
