/*
 * socket.h - the LuaSocket TCP methods programs expect on a connection
 * (getpeername, getsockname, getoption, setoption, shutdown, getfamily),
 * answered from the descriptor the connection owns.
 */
#ifndef SSLUA_SOCKET_H
#define SSLUA_SOCKET_H

#include "compat.h"

extern const luaL_Reg sslua_socket_methods[];

#endif
