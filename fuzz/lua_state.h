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
#include "preload.h"

/* Returns the state; the driver script's return value (a function) is
 * stored in the registry under "fuzz.run". */
static lua_State *fuzz_lua_state(const char *script)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  preload_sslua(L);
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
