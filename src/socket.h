/*
 * socket.h - the LuaSocket TCP methods programs expect on a connection
 * (getpeername, getsockname, getoption, setoption, shutdown, getfamily),
 * answered from the descriptor the connection owns.
 */
#ifndef SSLUA_SOCKET_H
#define SSLUA_SOCKET_H

#include "feature.h"

/* conn:getpeername, getsockname, getoption, setoption, shutdown, getfamily */
extern const sslua_feature sslua_socket_feature;

#endif
