/*
 * buffer.c - receive patterns and send slicing, exactly as LuaSocket 3.1
 * defines them, over the callbacks in sslua_io.
 *
 * Every pattern follows one shape: take what the buffer holds (refilling
 * it with one read when empty), consume what the pattern needs, stop on
 * completion or on the first I/O error. Two shortcuts avoid copies
 * without changing results: a request the buffer already satisfies is
 * pushed straight from it, and large counts are read directly into the
 * Lua buffer instead of passing through ours.
 */
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "timeout.h"

void sslua_buffer_init(sslua_buffer *buf, const sslua_io *io)
{
  memset(buf, 0, sizeof(*buf));
  buf->io = *io;
  buf->birthday = sslua_gettime();
}

void sslua_buffer_free(sslua_buffer *buf)
{
  free(buf->data);
  buf->data = NULL;
  buf->first = buf->last = 0;
}

int sslua_buffer_isempty(const sslua_buffer *buf)
{
  return buf->first >= buf->last;
}

/* Points *data at the unread bytes, reading once if there are none. */
static int buffer_get(sslua_buffer *buf, const char **data, size_t *count)
{
  int err = SSLUA_IO_DONE;
  *data = buf->data;
  *count = 0;
  if (sslua_buffer_isempty(buf)) {
    size_t got = 0;
    if (buf->data == NULL && (buf->data = (char *)malloc(SSLUA_BUFFER_SIZE)) == NULL)
      return SSLUA_IO_CLOSED;
    err = buf->io.recv(buf->io.ctx, buf->data, SSLUA_BUFFER_SIZE, &got);
    buf->first = 0;
    buf->last = (err == SSLUA_IO_DONE) ? got : 0;
  }
  *data = buf->data + buf->first;
  *count = buf->last - buf->first;
  return err;
}

/* Bytes count as received when the caller takes them, as in LuaSocket. */
static void buffer_skip(sslua_buffer *buf, size_t count)
{
  buf->received += (long)count;
  buf->first += count;
  if (sslua_buffer_isempty(buf))
    buf->first = buf->last = 0;
}

/* Reads straight into the Lua buffer: used once ours is empty and at least
 * a full record is still wanted, saving one copy per byte. */
static int recv_direct(sslua_buffer *buf, luaL_Buffer *b, size_t want, size_t *got)
{
  if (want > SSLUA_BUFFER_SIZE)   /* one record is all a read returns */
    want = SSLUA_BUFFER_SIZE;
  {
#ifdef SSLUA_HAVE_PREPBUFFSIZE
  char *dst = luaL_prepbuffsize(b, want);
#else
  char *dst = luaL_prepbuffer(b);
  if (want > LUAL_BUFFERSIZE)
    want = LUAL_BUFFERSIZE;
#endif
  int err = buf->io.recv(buf->io.ctx, dst, want, got);
  if (err != SSLUA_IO_DONE)
    *got = 0;
  luaL_addsize(b, *got);
  buf->received += (long)*got;
  return err;
  }
}

/* A count: LuaSocket reads before checking, so receive(0) waits for data. */
static int recv_count(sslua_buffer *buf, luaL_Buffer *b, size_t wanted)
{
  size_t total = 0;
  int err = SSLUA_IO_DONE;
  while (err == SSLUA_IO_DONE) {
    const char *data;
    size_t count;
    if (sslua_buffer_isempty(buf) && wanted - total >= SSLUA_BUFFER_SIZE) {
      err = recv_direct(buf, b, wanted - total, &count);
    } else {
      err = buffer_get(buf, &data, &count);
      if (count > wanted - total)
        count = wanted - total;
      luaL_addlstring(b, data, count);
      buffer_skip(buf, count);
    }
    total += count;
    if (total >= wanted)
      break;
  }
  return err;
}

/* "*l": up to the next LF, every CR dropped. */
static int recv_line(sslua_buffer *buf, luaL_Buffer *b)
{
  int err = SSLUA_IO_DONE;
  while (err == SSLUA_IO_DONE) {
    const char *data;
    size_t count, pos = 0, run = 0;
    err = buffer_get(buf, &data, &count);
    for (pos = 0; pos < count && data[pos] != '\n'; pos++) {
      if (data[pos] == '\r') {   /* flush the run before the CR, skip it */
        luaL_addlstring(b, data + pos - run, run);
        run = 0;
      } else {
        run++;
      }
    }
    luaL_addlstring(b, data + pos - run, run);
    if (pos < count) {
      buffer_skip(buf, pos + 1);
      break;
    }
    buffer_skip(buf, pos);
  }
  return err;
}

/* "*a": until the peer closes; closing after some data is success. */
static int recv_all(sslua_buffer *buf, luaL_Buffer *b)
{
  size_t total = 0;
  int err = SSLUA_IO_DONE;
  while (err == SSLUA_IO_DONE) {
    const char *data;
    size_t count;
    if (sslua_buffer_isempty(buf)) {
      err = recv_direct(buf, b, SSLUA_BUFFER_SIZE, &count);
    } else {
      err = buffer_get(buf, &data, &count);
      luaL_addlstring(b, data, count);
      buffer_skip(buf, count);
    }
    total += count;
  }
  /* A peer that vanishes without close_notify still ended the stream:
   * LuaSocket's "*a" has no other way to finish (see README). */
  if (err == SSLUA_IO_CLOSED || err == SSLUA_IO_EOF)
    return total > 0 ? SSLUA_IO_DONE : SSLUA_IO_CLOSED;
  return err;
}

/* Pushes a result the buffer already holds without a luaL_Buffer:
 * a count or a CR-free line fully present. Returns 1 if it did. */
static int recv_shortcut(lua_State *L, sslua_buffer *buf, int line, size_t wanted)
{
  const char *data;
  size_t avail = buf->last - buf->first;
  if (buf->data == NULL || avail == 0)   /* no arithmetic on a NULL buffer */
    return 0;
  data = buf->data + buf->first;
  if (line) {
    const char *nl = (const char *)memchr(data, '\n', avail);
    if (nl == NULL || memchr(data, '\r', (size_t)(nl - data)) != NULL)
      return 0;
    lua_pushlstring(L, data, (size_t)(nl - data));
    buffer_skip(buf, (size_t)(nl - data) + 1);
  } else {
    if (avail < wanted || wanted == 0)
      return 0;
    lua_pushlstring(L, data, wanted);
    buffer_skip(buf, wanted);
  }
  lua_pushnil(L);
  lua_pushnil(L);
  return 1;
}

enum { PATTERN_COUNT, PATTERN_LINE, PATTERN_ALL };

/* Counts beyond what memory could ever hold are clamped, not wrapped. */
#define SIZE_MAX_WANTED ((size_t)1 << 52)

int sslua_buffer_receive(lua_State *L, sslua_buffer *buf)
{
  size_t plen = 0, wanted = 0;
  const char *prefix = luaL_optlstring(L, 3, "", &plen);
  int kind, err = SSLUA_IO_DONE;
  luaL_Buffer b;

  if (lua_isnumber(L, 2)) {
    lua_Number n = lua_tonumber(L, 2);
    luaL_argcheck(L, n >= 0, 2, "invalid receive pattern");
    kind = PATTERN_COUNT;
    wanted = (n >= (lua_Number)SIZE_MAX_WANTED) ? SIZE_MAX_WANTED : (size_t)n;
  } else {
    const char *p = luaL_optstring(L, 2, "*l");
    if (p[0] == '*' && p[1] == 'l')
      kind = PATTERN_LINE;
    else if (p[0] == '*' && p[1] == 'a')
      kind = PATTERN_ALL;
    else
      return luaL_argerror(L, 2, "invalid receive pattern");
  }
  if (plen == 0 && kind != PATTERN_ALL &&
      recv_shortcut(L, buf, kind == PATTERN_LINE, wanted))
    return 3;

  luaL_buffinit(L, &b);
  luaL_addlstring(&b, prefix, plen);
  if (kind == PATTERN_LINE)
    err = recv_line(buf, &b);
  else if (kind == PATTERN_ALL)
    err = recv_all(buf, &b);
  else if (plen == 0 || wanted > plen)
    err = recv_count(buf, &b, wanted - plen);
  luaL_pushresult(&b);
  if (err == SSLUA_IO_DONE) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
  }
  /* nil, error, partial: the partial result moves below the message. */
  lua_pushnil(L);
  lua_insert(L, -2);
  lua_pushstring(L, buf->io.error(buf->io.ctx, err));
  lua_insert(L, -2);
  return 3;
}

static lua_Number clamp_index(lua_Number i, lua_Number otherwise)
{
  const lua_Number bound = 9007199254740992.0;   /* 2^53 */
  if (i != i)
    return otherwise;
  return i < -bound ? -bound : (i > bound ? bound : i);
}

int sslua_buffer_send(lua_State *L, sslua_buffer *buf)
{
  size_t size = 0, sent = 0;
  const char *data = luaL_checklstring(L, 2, &size);
  lua_Number si = luaL_optnumber(L, 3, 1);
  lua_Number sj = luaL_optnumber(L, 4, -1);
  long start, end;
  int err = SSLUA_IO_DONE;

  /* Bound the indices before converting so huge or NaN values cannot
   * overflow; inside the bound the arithmetic is LuaSocket's. */
  si = clamp_index(si, 1);
  sj = clamp_index(sj, -1);
  start = (long)si;
  end = (long)sj;
  if (start < 0) start = (long)size + start + 1;
  if (end < 0) end = (long)size + end + 1;
  if (start < 1) start = 1;
  if (end > (long)size) end = (long)size;
  while (start <= end && sent < (size_t)(end - start + 1)) {
    size_t done = 0;
    err = buf->io.send(buf->io.ctx, data + start - 1 + sent,
                       (size_t)(end - start + 1) - sent, &done);
    sent += done;
    if (err != SSLUA_IO_DONE)
      break;
  }
  buf->sent += (long)sent;
  if (err != SSLUA_IO_DONE) {
    lua_pushnil(L);
    lua_pushstring(L, buf->io.error(buf->io.ctx, err));
    lua_pushnumber(L, (lua_Number)(sent + (size_t)start - 1));
    return 3;
  }
  lua_pushnumber(L, (lua_Number)(sent + (size_t)start - 1));
  lua_pushnil(L);
  lua_pushnil(L);
  return 3;
}

int sslua_buffer_getstats(lua_State *L, sslua_buffer *buf)
{
  lua_pushnumber(L, (lua_Number)buf->received);
  lua_pushnumber(L, (lua_Number)buf->sent);
  lua_pushnumber(L, sslua_gettime() - buf->birthday);
  return 3;
}

int sslua_buffer_setstats(lua_State *L, sslua_buffer *buf)
{
  /* Whole numbers, as LuaSocket keeps them; out-of-range values clamp. */
  buf->received = (long)clamp_index(luaL_optnumber(L, 2, (lua_Number)buf->received), 0);
  buf->sent = (long)clamp_index(luaL_optnumber(L, 3, (lua_Number)buf->sent), 0);
  if (lua_isnumber(L, 4))
    buf->birthday = sslua_gettime() - lua_tonumber(L, 4);
  lua_pushnumber(L, 1);
  return 1;
}
