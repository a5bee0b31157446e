/*
 * lua_state.h - shared by the harnesses that go through the Lua API: one
 * Lua state with the module's C parts preloaded (ssl.core, ssl.context,
 * ssl.x509, ssl.config) and a driver script compiled once.
 */
#ifndef FUZZ_LUA_STATE_H
#define FUZZ_LUA_STATE_H

#include <stdio.h>
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_ssl_core(lua_State *L);
int luaopen_ssl_context(lua_State *L);
int luaopen_ssl_x509(lua_State *L);
int luaopen_ssl_config(lua_State *L);

/* Returns the state; the driver script's return value (a function) is
 * stored in the registry under "fuzz.run". */
static lua_State *fuzz_lua_state(const char *script)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_ssl_core);    lua_setfield(L, -2, "ssl.core");
  lua_pushcfunction(L, luaopen_ssl_context); lua_setfield(L, -2, "ssl.context");
  lua_pushcfunction(L, luaopen_ssl_x509);    lua_setfield(L, -2, "ssl.x509");
  lua_pushcfunction(L, luaopen_ssl_config);  lua_setfield(L, -2, "ssl.config");
  lua_pop(L, 2);
  if (luaL_dostring(L, script) != 0) {
    fprintf(stderr, "driver script: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.run");
  return L;
}

/* Calls fuzz.run with the values pushed by the caller (nargs); any Lua
 * error is an invariant failure: the driver raises only on those. */
static void fuzz_lua_run(lua_State *L, int nargs)
{
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.run");
  lua_insert(L, -(nargs + 1));
  if (lua_pcall(L, nargs, 0, 0) != 0) {
    fprintf(stderr, "invariant failed: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_gc(L, LUA_GCCOLLECT, 0);
}

#endif
