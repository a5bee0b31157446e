/*
 * preload.h - for harness binaries that link the module's C objects in
 * (the fuzzers, the fault driver): registers ssl.core, ssl.context,
 * ssl.x509 and ssl.config in package.preload, so the Lua front end's
 * require finds them without loading a shared object.
 */
#ifndef FUZZ_PRELOAD_H
#define FUZZ_PRELOAD_H

#include <lua.h>

int luaopen_ssl_core(lua_State *L);
int luaopen_ssl_context(lua_State *L);
int luaopen_ssl_x509(lua_State *L);
int luaopen_ssl_config(lua_State *L);

static inline void preload_sslua(lua_State *L)
{
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_ssl_core);    lua_setfield(L, -2, "ssl.core");
  lua_pushcfunction(L, luaopen_ssl_context); lua_setfield(L, -2, "ssl.context");
  lua_pushcfunction(L, luaopen_ssl_x509);    lua_setfield(L, -2, "ssl.x509");
  lua_pushcfunction(L, luaopen_ssl_config);  lua_setfield(L, -2, "ssl.config");
  lua_pop(L, 2);
}

#endif
