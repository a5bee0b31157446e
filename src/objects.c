/*
 * objects.c - the weak map from C pointers to their Lua objects.
 *
 * One table in the registry, with weak values: it never keeps an object
 * alive, and a collected object's entry goes with it. Only callbacks and
 * setters use it; the I/O path never does.
 */
#include "objects.h"

static char owners_key;   /* registry[&owners_key] = { [ptr] = object } */

static void push_owners(lua_State *L)
{
  lua_pushlightuserdata(L, &owners_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_istable(L, -1))
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushlightuserdata(L, &owners_key);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

void sslua_object_register(lua_State *L, const void *ptr, int idx)
{
  if (idx < 0)
    idx = lua_gettop(L) + idx + 1;
  lua_newtable(L);
  lua_setuservalue(L, idx);
  push_owners(L);
  lua_pushlightuserdata(L, (void *)ptr);
  lua_pushvalue(L, idx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

int sslua_object_pushstate(lua_State *L, const void *ptr)
{
  push_owners(L);
  lua_pushlightuserdata(L, (void *)ptr);
  lua_rawget(L, -2);
  lua_remove(L, -2);
  if (lua_type(L, -1) != LUA_TUSERDATA)
    return 0;
  lua_getuservalue(L, -1);
  lua_remove(L, -2);
  if (lua_istable(L, -1))
    return 1;
  lua_pop(L, 1);
  lua_pushnil(L);
  return 0;
}

void sslua_object_set(lua_State *L, const void *ptr, const char *key, int idx)
{
  if (idx < 0)
    idx = lua_gettop(L) + idx + 1;
  if (sslua_object_pushstate(L, ptr)) {
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, key);
  }
  lua_pop(L, 1);
}

int sslua_object_get(lua_State *L, const void *ptr, const char *key)
{
  if (sslua_object_pushstate(L, ptr)) {
    lua_getfield(L, -1, key);
    lua_remove(L, -2);
  }
  return lua_type(L, -1);
}
