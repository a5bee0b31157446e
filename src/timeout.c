/*
 * timeout.c - LuaSocket's timeout model, reproduced because LuaSocket does
 * not export its C internals. A call marks its start; every wait inside
 * it may take at most the block timeout and never past the total one.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "timeout.h"

double sslua_gettime(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double monotonic(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sslua_timeout_init(sslua_timeout *tm)
{
  tm->block = -1.0;
  tm->total = -1.0;
  tm->start = 0.0;
}

void sslua_timeout_markstart(sslua_timeout *tm)
{
  if (tm->total >= 0.0)   /* only the total timeout needs the clock */
    tm->start = monotonic();
}

double sslua_timeout_left(const sslua_timeout *tm)
{
  double rest;
  if (tm->total < 0.0)
    return tm->block;
  rest = tm->total - (monotonic() - tm->start);
  if (rest < 0.0)
    rest = 0.0;
  return (tm->block >= 0.0 && tm->block < rest) ? tm->block : rest;
}

int sslua_timeout_set(lua_State *L, sslua_timeout *tm, int idx)
{
  double t = luaL_optnumber(L, idx, -1.0);
  const char *mode = luaL_optstring(L, idx + 1, "b");

  if (t != t)   /* NaN would make every comparison false: treat as forever */
    t = -1.0;
  switch (*mode) {
  case 'b':
    tm->block = t;
    break;
  case 'r':
  case 't':
    /* markstart skips the clock while there is no total timeout: one set
     * from inside a call (a callback) counts from now, not from never. */
    if (tm->total < 0.0 && t >= 0.0)
      tm->start = monotonic();
    tm->total = t;
    break;
  default:
    return luaL_argerror(L, idx + 1, "invalid timeout mode");
  }
  lua_pushnumber(L, 1);
  return 1;
}

int sslua_timeout_push(lua_State *L, const sslua_timeout *tm)
{
  lua_pushnumber(L, tm->block);
  lua_pushnumber(L, tm->total);
  return 2;
}

int sslua_wait(int fd, int what, const sslua_timeout *tm)
{
  struct pollfd pfd;
  int rc;

  pfd.fd = fd;
  pfd.events = (short)(((what & SSLUA_WAIT_READ) ? POLLIN : 0) |
                       ((what & SSLUA_WAIT_WRITE) ? POLLOUT : 0));
  do {
    double left = sslua_timeout_left(tm);
    int ms = left < 0.0 ? -1 : (int)(left * 1000.0 + 0.5);
    if (left == 0.0)
      ms = 0;
    pfd.revents = 0;
    rc = poll(&pfd, 1, ms);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0)
    return 1;
  if (rc < 0)
    return errno;
  return 0;   /* readable, writable, or an error the next I/O call will report */
}
