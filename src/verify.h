/*
 * verify.h - LuaSec's verifyext flags: keep going past chain errors and
 * record them per depth, override the purpose check, check CRLs.
 */
#ifndef SSLUA_VERIFY_H
#define SSLUA_VERIFY_H

#include "compat.h"
#include "connection.h"
#include "context.h"

enum {
  SSLUA_VERIFYEXT_CONTINUE       = 1 << 0,  /* lsec_continue */
  SSLUA_VERIFYEXT_IGNORE_PURPOSE = 1 << 1   /* lsec_ignore_purpose */
};

/* context.setverifyext(ctx, flag...), also ctx:setverifyext(...) */
extern const luaL_Reg sslua_verify_context_functions[];

/* Installs the OpenSSL verify callback while lsec_continue or a Lua
 * verifycallback needs it (call after changing either). */
void sslua_verify_install(sslua_context *c);

/* Pushes a copy of the errors lsec_continue recorded, {[depth+1] = {msg…}},
 * and returns 1; returns 0 and pushes nothing when there are none. */
int sslua_verify_push_errors(lua_State *L, const sslua_conn *c);

#endif
