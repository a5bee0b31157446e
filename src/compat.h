/*
 * compat.h - one source for Lua 5.1 (and LuaJIT), 5.2, 5.3 and 5.4.
 *
 * Only the handful of 5.2+ auxiliary functions the module uses are
 * provided for 5.1; everything else is written against the 5.3 API.
 */
#ifndef SSLUA_COMPAT_H
#define SSLUA_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <openssl/opensslv.h>

#if defined(OPENSSL_VERSION_NUMBER) && OPENSSL_VERSION_NUMBER < 0x30000000L
#error "sslua needs OpenSSL 3.0 or newer (these headers are older)"
#endif

#if LUA_VERSION_NUM == 501
/* Renamed so LuaJIT's own 5.2 extensions never clash with ours. */
#define luaL_setfuncs      sslua_compat_setfuncs
#define luaL_testudata     sslua_compat_testudata
#define luaL_setmetatable  sslua_compat_setmetatable
#define lua_rawlen(L, i)   lua_objlen((L), (i))
#ifndef luaL_newlib   /* LuaJIT 2.1 has these two */
#define luaL_newlibtable(L, l) lua_createtable((L), 0, sizeof(l) / sizeof((l)[0]) - 1)
#define luaL_newlib(L, l)  (luaL_newlibtable((L), (l)), luaL_setfuncs((L), (l), 0))
#endif
#define lua_isinteger(L, i) sslua_compat_isinteger((L), (i))
#define luaL_tolstring     sslua_compat_tolstring
#define lua_getuservalue(L, i) lua_getfenv((L), (i))
#define lua_setuservalue(L, i) lua_setfenv((L), (i))

const char *sslua_compat_tolstring(lua_State *L, int i, size_t *len);
void  sslua_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
void *sslua_compat_testudata(lua_State *L, int i, const char *tname);
void  sslua_compat_setmetatable(lua_State *L, const char *tname);
int   sslua_compat_isinteger(lua_State *L, int i);
#elif LUA_VERSION_NUM == 502
#define lua_isinteger(L, i) sslua_compat_isinteger((L), (i))
int   sslua_compat_isinteger(lua_State *L, int i);
#endif

/* luaL_prepbuffsize exists from 5.2 on; 5.1 can only hand out LUAL_BUFFERSIZE. */
#if LUA_VERSION_NUM >= 502
#define SSLUA_HAVE_PREPBUFFSIZE 1
#endif

/* Registers a metatable `tname` whose __index is the method table `methods`
 * and whose metamethods are `meta`. Leaves nothing on the stack. */
void sslua_newclass(lua_State *L, const char *tname,
                    const luaL_Reg *methods, const luaL_Reg *meta);

/* Adds `methods` (may be NULL) to the method table of class `tname`. With
 * `self_upvalue`, each gets the class's metatable as upvalue 1, so it can
 * check its first argument by comparing metatables (no lookup by name). */
void sslua_class_extend(lua_State *L, const char *tname, const luaL_Reg *methods,
                        int self_upvalue);

/* Pushes `nil, message` and returns 2: the module's failure convention. */
int sslua_fail(lua_State *L, const char *fmt, ...);
/* Pushes and returns a short text for the value at idx for messages:
 * strings, numbers, booleans and nil as themselves, anything else as its
 * type and address. Never calls a __tostring metamethod, which could
 * raise or return a non-string. */
const char *sslua_describe(lua_State *L, int idx);

/* Pushes `false, message` and returns 2: LuaSec's convention for setters. */
int sslua_fail_false(lua_State *L, const char *fmt, ...);
/* Pushes `true` and returns 1. */
int sslua_ok(lua_State *L);

/* Runs fn(ud) protected on L and leaves L's stack as it was: how OpenSSL
 * callbacks run Lua code, so no Lua error can unwind through OpenSSL.
 * Returns 1 when fn returned normally. */
int sslua_run_protected(lua_State *L, lua_CFunction fn, void *ud);
/* The same for a function prepared beforehand at stack index idx (a
 * closure over the Lua values it needs, made where raising was still
 * allowed), called with ud. */
int sslua_run_prepared(lua_State *L, int idx, void *ud);

#endif
