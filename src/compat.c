/*
 * compat.c - the Lua 5.1 fill-ins declared in compat.h, plus two helpers
 * every other file shares.
 */
#include <stdarg.h>
#include <math.h>

#include "compat.h"

#if LUA_VERSION_NUM == 501
void sslua_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++)
      lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

void *sslua_compat_testudata(lua_State *L, int i, const char *tname)
{
  void *p = lua_touserdata(L, i);
  if (p == NULL || !lua_getmetatable(L, i))
    return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, tname);
  if (!lua_rawequal(L, -1, -2))
    p = NULL;
  lua_pop(L, 2);
  return p;
}

void sslua_compat_setmetatable(lua_State *L, const char *tname)
{
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}

/* Enough of 5.2's luaL_tolstring for error messages: pushes the text. */
const char *sslua_compat_tolstring(lua_State *L, int i, size_t *len)
{
  switch (lua_type(L, i)) {
  case LUA_TNUMBER:
  case LUA_TSTRING:
    lua_pushvalue(L, i);
    break;
  case LUA_TBOOLEAN:
    lua_pushstring(L, lua_toboolean(L, i) ? "true" : "false");
    break;
  case LUA_TNIL:
    lua_pushliteral(L, "nil");
    break;
  default:
    lua_pushfstring(L, "%s: %p", luaL_typename(L, i), lua_topointer(L, i));
  }
  return lua_tolstring(L, -1, len);
}
#endif

#if LUA_VERSION_NUM <= 502
int sslua_compat_isinteger(lua_State *L, int i)
{
  lua_Number n;
  if (lua_type(L, i) != LUA_TNUMBER)
    return 0;
  n = lua_tonumber(L, i);
  return n == floor(n) && n >= -9007199254740992.0 && n <= 9007199254740992.0;
}
#endif

void sslua_newclass(lua_State *L, const char *tname,
                    const luaL_Reg *methods, const luaL_Reg *meta)
{
  luaL_newmetatable(L, tname);
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);
  if (methods != NULL)
    luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  /* Lua 5.1 lacks __name; keep it for tostring() parity with 5.3+. */
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

void sslua_class_extend(lua_State *L, const char *tname, const luaL_Reg *methods,
                        int self_upvalue)
{
  if (methods == NULL)
    return;
  luaL_getmetatable(L, tname);
  lua_getfield(L, -1, "__index");
  if (self_upvalue)
    lua_pushvalue(L, -2);
  luaL_setfuncs(L, methods, self_upvalue ? 1 : 0);
  lua_pop(L, 2);
}

int sslua_fail(lua_State *L, const char *fmt, ...)
{
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return 2;
}

int sslua_fail_false(lua_State *L, const char *fmt, ...)
{
  va_list ap;
  lua_pushboolean(L, 0);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return 2;
}

int sslua_ok(lua_State *L)
{
  lua_pushboolean(L, 1);
  return 1;
}

int sslua_run_protected(lua_State *L, lua_CFunction fn, void *ud)
{
  int top = lua_gettop(L), status;
  if (!lua_checkstack(L, 3))
    return 0;
#if LUA_VERSION_NUM == 501
  status = lua_cpcall(L, fn, ud);
#else
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, ud);
  status = lua_pcall(L, 1, 0, 0);
#endif
  lua_settop(L, top);
  return status == 0;
}

int sslua_run_prepared(lua_State *L, int idx, void *ud)
{
  int top = lua_gettop(L), status;
  if (!lua_checkstack(L, 2))
    return 0;
  lua_pushvalue(L, idx);
  lua_pushlightuserdata(L, ud);
  status = lua_pcall(L, 1, 0, 0);
  lua_settop(L, top);
  return status == 0;
}

const char *sslua_describe(lua_State *L, int idx)
{
  switch (lua_type(L, idx)) {
  case LUA_TSTRING:
  case LUA_TNUMBER:
    lua_pushvalue(L, idx);
    lua_tostring(L, -1);   /* a number becomes its text on the copy */
    break;
  case LUA_TBOOLEAN:
    lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
    break;
  case LUA_TNIL:
  case LUA_TNONE:
    lua_pushliteral(L, "nil");
    break;
  default:
    lua_pushfstring(L, "%s: %p", luaL_typename(L, idx), lua_topointer(L, idx));
  }
  return lua_tostring(L, -1);
}
