/*
 * errobj.h - opt-in error objects (newcontext `errorobjects = true`):
 * dohandshake, receive and send return a table with the error's kind and
 * codes in place of the message, whose tostring() is that same message.
 */
#ifndef SSLUA_ERROBJ_H
#define SSLUA_ERROBJ_H

#include <openssl/ssl.h>
#include "compat.h"
#include "connection.h"

/* What broke a stream for good, recorded by connection.c in err_kind. */
enum {
  SSLUA_ERRKIND_NONE = 0,
  SSLUA_ERRKIND_TLS,      /* OpenSSL error, code in err_code */
  SSLUA_ERRKIND_SYSTEM    /* socket error, errno in sys_errno */
};

/* Whether connections made from ctx return error objects. */
int sslua_errobj_enabled(const SSL_CTX *ctx);

/* With error objects on for c, replaces the message among the nret
 * results on top of the stack (the 2nd: `false|nil, message [, x]`) by an
 * error object; returns nret either way. */
int sslua_errobj_wrap(lua_State *L, sslua_conn *c, int nret);

/* context.seterrorobjects(ctx, on) -> true | false, message */
extern const luaL_Reg sslua_errobj_context_functions[];

#endif
