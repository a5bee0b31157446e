/*
 * socket.c - LuaSocket's TCP object methods, forwarded to our descriptor.
 *
 * Results have LuaSocket 3.1's shapes (address, port, family; option
 * values; linger as {on=, timeout=}), so code written for a plain TCP
 * object keeps working after ssl.wrap. After close() they answer
 * `nil, "closed"`.
 */
#define _DEFAULT_SOURCE   /* glibc: NI_MAXHOST, SO_REUSEPORT beyond strict POSIX */
#include <errno.h>
#include <stdlib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "socket.h"

/* getnameinfo's buffer sizes are not POSIX names; these are the usual values. */
#ifndef NI_MAXHOST
#define NI_MAXHOST 1025
#endif
#ifndef NI_MAXSERV
#define NI_MAXSERV 32
#endif

static sslua_conn *open_conn(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  return c->fd >= 0 ? c : NULL;
}

typedef int (*name_fn)(int, struct sockaddr *, socklen_t *);

/* Pushes address, port, family ("inet"/"inet6") as LuaSocket does. */
static int push_name(lua_State *L, name_fn get)
{
  sslua_conn *c = open_conn(L);
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  char host[NI_MAXHOST], port[NI_MAXSERV];
  int rc;

  if (c == NULL)
    return sslua_fail(L, "closed");
  if (get(c->fd, (struct sockaddr *)&ss, &len) != 0)
    return sslua_fail(L, "%s", strerror(errno));
  rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                   NI_NUMERICHOST | NI_NUMERICSERV);
  if (rc != 0)
    return sslua_fail(L, "%s", gai_strerror(rc));
  lua_pushstring(L, host);
  lua_pushinteger(L, (lua_Integer)strtol(port, NULL, 10));
  lua_pushstring(L, ss.ss_family == AF_INET6 ? "inet6" : "inet");
  return 3;
}

static int conn_getpeername(lua_State *L) { return push_name(L, getpeername); }
static int conn_getsockname(lua_State *L) { return push_name(L, getsockname); }

static int conn_getfamily(lua_State *L)
{
  sslua_conn *c = open_conn(L);
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (c == NULL)
    return sslua_fail(L, "closed");
  if (getsockname(c->fd, (struct sockaddr *)&ss, &len) != 0)
    return sslua_fail(L, "%s", strerror(errno));
  lua_pushstring(L, ss.ss_family == AF_INET6 ? "inet6" : "inet4");
  return 1;
}

/* ------------------------------------------------------------------ */
/* options                                                             */

typedef enum { OPT_BOOL, OPT_INT, OPT_LINGER } opt_kind;

typedef struct {
  const char *name;
  int level, option;
  opt_kind kind;
} sock_option;

/* The options LuaSocket 3.1 offers on TCP objects. Beyond POSIX's, each is
 * offered only where the system defines it (Linux has them all; macOS calls
 * the keep-alive idle time TCP_KEEPALIVE); elsewhere its name is refused
 * like an unknown one. */
static const sock_option options[] = {
  { "keepalive",        SOL_SOCKET,   SO_KEEPALIVE, OPT_BOOL },
  { "linger",           SOL_SOCKET,   SO_LINGER,    OPT_LINGER },
  { "reuseaddr",        SOL_SOCKET,   SO_REUSEADDR, OPT_BOOL },
#ifdef SO_REUSEPORT
  { "reuseport",        SOL_SOCKET,   SO_REUSEPORT, OPT_BOOL },
#endif
  { "send-buffer-size", SOL_SOCKET,   SO_SNDBUF,    OPT_INT },
  { "recv-buffer-size", SOL_SOCKET,   SO_RCVBUF,    OPT_INT },
  { "tcp-nodelay",      IPPROTO_TCP,  TCP_NODELAY,  OPT_BOOL },
#if defined(TCP_KEEPIDLE)
  { "tcp-keepidle",     IPPROTO_TCP,  TCP_KEEPIDLE, OPT_INT },
#elif defined(TCP_KEEPALIVE)
  { "tcp-keepidle",     IPPROTO_TCP,  TCP_KEEPALIVE, OPT_INT },
#endif
#ifdef TCP_KEEPCNT
  { "tcp-keepcnt",      IPPROTO_TCP,  TCP_KEEPCNT,  OPT_INT },
#endif
#ifdef TCP_KEEPINTVL
  { "tcp-keepintvl",    IPPROTO_TCP,  TCP_KEEPINTVL, OPT_INT },
#endif
#ifdef IPV6_V6ONLY
  { "ipv6-v6only",      IPPROTO_IPV6, IPV6_V6ONLY,  OPT_BOOL },
#endif
  { NULL, 0, 0, OPT_BOOL }
};

static const sock_option *find_option(lua_State *L)
{
  const char *name = luaL_checkstring(L, 2);
  const sock_option *o;
  for (o = options; o->name != NULL; o++)
    if (strcmp(o->name, name) == 0)
      return o;
  luaL_argerror(L, 2, lua_pushfstring(L, "unsupported option `%s'", name));
  return NULL;
}

static int conn_getoption(lua_State *L)
{
  sslua_conn *c = open_conn(L);
  const sock_option *o = find_option(L);
  struct linger lg = { 0, 0 };
  int value = 0;
  socklen_t len = o->kind == OPT_LINGER ? sizeof(lg) : sizeof(value);
  void *dst = o->kind == OPT_LINGER ? (void *)&lg : (void *)&value;

  if (c == NULL)
    return sslua_fail(L, "closed");
  if (getsockopt(c->fd, o->level, o->option, dst, &len) != 0)
    return sslua_fail(L, "getsockopt failed");
  if (o->kind == OPT_BOOL) {
    lua_pushboolean(L, value);
  } else if (o->kind == OPT_INT) {
    lua_pushinteger(L, value);
  } else {
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, lg.l_onoff);
    lua_setfield(L, -2, "on");
    lua_pushinteger(L, lg.l_linger);
    lua_setfield(L, -2, "timeout");
  }
  return 1;
}

static int conn_setoption(lua_State *L)
{
  sslua_conn *c = open_conn(L);
  const sock_option *o = find_option(L);
  struct linger lg;
  int value;
  const void *src = &value;
  socklen_t len = sizeof(value);

  if (o->kind == OPT_BOOL) {
    luaL_checkany(L, 3);
    value = lua_toboolean(L, 3);
  } else if (o->kind == OPT_INT) {
    value = (int)luaL_checkinteger(L, 3);
  } else {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_getfield(L, 3, "on");
    lua_getfield(L, 3, "timeout");
    lg.l_onoff = lua_toboolean(L, -2);
    lg.l_linger = (int)luaL_optinteger(L, -1, 0);
    src = &lg;
    len = sizeof(lg);
  }
  if (c == NULL)
    return sslua_fail(L, "closed");
  if (setsockopt(c->fd, o->level, o->option, src, len) != 0)
    return sslua_fail(L, "setsockopt failed");
  lua_pushnumber(L, 1);
  return 1;
}

/* conn:shutdown([how]): close_notify first when sending stops, then TCP. */
static int conn_shutdown(lua_State *L)
{
  static const char *const hows[] = { "both", "send", "receive", NULL };
  static const int flags[] = { SHUT_RDWR, SHUT_WR, SHUT_RD };
  sslua_conn *c = open_conn(L);
  int how = luaL_checkoption(L, 2, "both", hows);

  if (c == NULL)
    return sslua_fail(L, "closed");
  if (how != 2 && c->ssl != NULL && c->state == SSLUA_CONN_CONNECTED && !c->fatal) {
    ERR_clear_error();
    (void)SSL_shutdown(c->ssl);
    ERR_clear_error();
  }
  if (shutdown(c->fd, flags[how]) != 0)
    return sslua_fail(L, "%s", strerror(errno));
  lua_pushnumber(L, 1);
  return 1;
}

static const luaL_Reg methods[] = {
  { "getfamily",   conn_getfamily },
  { "getoption",   conn_getoption },
  { "getpeername", conn_getpeername },
  { "getsockname", conn_getsockname },
  { "setoption",   conn_setoption },
  { "shutdown",    conn_shutdown },
  { NULL, NULL }
};

const sslua_feature sslua_socket_feature = {
  .name = "socket",
  .methods = methods,
};
