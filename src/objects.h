/*
 * objects.h - from a C pointer back to the Lua object that owns it.
 *
 * OpenSSL hands its callbacks the C structures (an SSL_CTX, an SSL), never
 * the Lua objects around them. A weak registry map leads from the pointer
 * to the object, and so to the object's user value: the table where a
 * context keeps its Lua callbacks and a connection its features' Lua
 * state. Values there are collected with their owner, so they may refer
 * back to it (a closure over the connection, say) without a leak.
 */
#ifndef SSLUA_OBJECTS_H
#define SSLUA_OBJECTS_H

#include "compat.h"

/* Makes the userdata at idx reachable from `ptr` (its own block) and gives
 * it an empty user value table. */
void sslua_object_register(lua_State *L, const void *ptr, int idx);

/* Pushes the user value table of ptr's object and returns 1; pushes nil
 * and returns 0 when the object is gone (collected). */
int sslua_object_pushstate(lua_State *L, const void *ptr);

/* state[key] = value at idx, on the object's user value (nothing when the
 * object is gone). */
void sslua_object_set(lua_State *L, const void *ptr, const char *key, int idx);

/* Pushes state[key] (nil when unset or gone); returns its Lua type. */
int sslua_object_get(lua_State *L, const void *ptr, const char *key);

#endif
