/*
 * errobj.h - opt-in error objects (newcontext `errorobjects = true`):
 * dohandshake, receive and send return a table with the error's kind and
 * codes in place of the message, whose tostring() is that same message.
 */
#ifndef SSLUA_ERROBJ_H
#define SSLUA_ERROBJ_H

#include <openssl/ssl.h>
#include "compat.h"
#include "errors.h"
#include "feature.h"

/* Whether connections made from ctx return error objects. */
int sslua_errobj_enabled(const SSL_CTX *ctx);

/* When `enabled`, replaces the message among the nret results on top of
 * the stack (the 2nd: `false|nil, message [, x]`) by an error object
 * built from the message and `f`, the connection's failure record;
 * returns nret either way. */
int sslua_errobj_wrap(lua_State *L, int enabled, const sslua_failure *f, int nret);

/* context.seterrorobjects(ctx, on) -> true | false, message */
extern const sslua_feature sslua_errobj_feature;

#endif
