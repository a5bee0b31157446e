/*
 * keylog.h - the `keylog` parameter: TLS secrets in the NSS key log format
 * (what Wireshark reads), appended to a file or handed to a Lua function.
 */
#ifndef SSLUA_KEYLOG_H
#define SSLUA_KEYLOG_H

#include "feature.h"

/* context.setkeylog(ctx, path_or_function) -> true | false, message */
extern const sslua_feature sslua_keylog_feature;

#endif
