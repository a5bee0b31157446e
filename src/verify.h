/*
 * verify.h - certificate verification beyond OpenSSL's defaults: LuaSec's
 * verifyext flags (keep going past chain errors and record them per
 * depth, override the purpose check, check CRLs) and the Lua
 * verifycallback. The one OpenSSL verify callback lives here.
 */
#ifndef SSLUA_VERIFY_H
#define SSLUA_VERIFY_H

#include "compat.h"
#include "connection.h"
#include "feature.h"

/* context.setverifyext(ctx, flag...) (also ctx:setverifyext(...)),
 * context.setverifycallback(ctx, fn|nil); explains a verification failed
 * by the callback: "(callback: why)". */
extern const sslua_feature sslua_verify_feature;

/* Pushes a copy of the errors lsec_continue recorded, {[depth+1] = {msg…}},
 * and returns 1; returns 0 and pushes nothing when there are none. */
int sslua_verify_push_errors(lua_State *L, const sslua_conn *c);

#endif
