/*
 * timeout.h - LuaSocket's two timeouts (per wait and per call total) and
 * the one place that blocks: waiting for a descriptor with poll().
 */
#ifndef SSLUA_TIMEOUT_H
#define SSLUA_TIMEOUT_H

#include "compat.h"

typedef struct {
  double block;   /* seconds for each wait; < 0 = forever */
  double total;   /* seconds for the whole call; < 0 = forever */
  double start;   /* when the current call began */
} sslua_timeout;

double sslua_gettime(void);
void   sslua_timeout_init(sslua_timeout *tm);
void   sslua_timeout_markstart(sslua_timeout *tm);
/* Seconds the next wait may take; < 0 = no limit. */
double sslua_timeout_left(const sslua_timeout *tm);

/* conn:settimeout(t [, mode]) with LuaSocket's argument rules; the value
 * is at index `idx`, the mode at `idx + 1`. */
int sslua_timeout_set(lua_State *L, sslua_timeout *tm, int idx);
/* conn:gettimeout() -> block, total */
int sslua_timeout_push(lua_State *L, const sslua_timeout *tm);

enum { SSLUA_WAIT_READ = 1, SSLUA_WAIT_WRITE = 2 };
/* 0 when fd is ready for `what`, 1 on timeout, else an errno value. */
int sslua_wait(int fd, int what, const sslua_timeout *tm);

#endif
