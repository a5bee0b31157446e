/*
 * buffer.c - receive patterns and send slicing, exactly as LuaSocket 3.1
 * defines them, over the callbacks in sslua_io.
 *
 * Every pattern follows one shape: take what the buffer holds (refilling
 * it with one read when empty), consume what the pattern needs, stop on
 * completion or on the first I/O error. Shortcuts avoid copies without
 * changing results: a request the buffer already satisfies is pushed
 * straight from it, and with nothing buffered a large count is read
 * straight into its result's source (a stack block for up to a record,
 * else a buffer of exactly that size; beyond LARGE_MAX the Lua buffer),
 * instead of passing through a record-sized buffer first.
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

/* A transfer at least this big means the stream comes in big records. */
#define BIG_RECORD (SSLUA_BUFFER_SIZE / 2)

/* Every transfer goes through these two: they note whether the stream
 * moves in big records, and when it does not, that the call should end by
 * releasing idle buffers (see buffer.h). */
static void note_transfer(sslua_buffer *buf, size_t done)
{
  buf->streaming = done >= BIG_RECORD;
  if (!buf->streaming)
    buf->settle = 1;
}

static int read_some(sslua_buffer *buf, char *dst, size_t len, size_t *got)
{
  int err = buf->io.recv(buf->io.ctx, dst, len, got);
  if (err != SSLUA_IO_DONE)
    *got = 0;
  note_transfer(buf, *got);
  return err;
}

/* Ends a receive or send: the I/O layer releases what it holds idle. */
static void settle(sslua_buffer *buf)
{
  if (!buf->settle)
    return;
  buf->settle = 0;
  if (buf->io.idle != NULL)
    buf->io.idle(buf->io.ctx);
}

/* Points *data at the unread bytes, reading once if there are none. */
static int buffer_get(sslua_buffer *buf, const char **data, size_t *count)
{
  int err = SSLUA_IO_DONE;
  if (sslua_buffer_isempty(buf)) {
    size_t got = 0;
    if (buf->data == NULL && (buf->data = (char *)malloc(SSLUA_BUFFER_SIZE)) == NULL) {
      *data = "";
      *count = 0;
      return SSLUA_IO_CLOSED;
    }
    err = read_some(buf, buf->data, SSLUA_BUFFER_SIZE, &got);
    buf->first = 0;
    buf->last = got;
    if (got == 0) {   /* nothing came: hold no memory for it */
      sslua_buffer_free(buf);
      *data = "";
      *count = 0;
      return err;
    }
  }
  *data = buf->data + buf->first;
  *count = buf->last - buf->first;
  return err;
}

/* Bytes count as received when the caller takes them, as in LuaSocket.
 * A drained buffer is released unless big records keep coming. */
static void buffer_skip(sslua_buffer *buf, size_t count)
{
  buf->received += (long)count;
  buf->first += count;
  if (!sslua_buffer_isempty(buf))
    return;
  if (buf->streaming)
    buf->first = buf->last = 0;
  else
    sslua_buffer_free(buf);
}

/* Room asked of a luaL_Buffer at once: a whole large count, so it is
 * allocated once instead of doubling (and copying) per record. */
#define DIRECT_ROOM_MAX ((size_t)1 << 20)

/* Reads straight into the Lua buffer: used once ours is empty and at least
 * a full record is still wanted, saving one copy per byte. */
static int recv_direct(sslua_buffer *buf, luaL_Buffer *b, size_t want, size_t *got)
{
  char *dst;
  int err;
#ifdef SSLUA_HAVE_PREPBUFFSIZE
  if (want > DIRECT_ROOM_MAX)
    want = DIRECT_ROOM_MAX;
  dst = luaL_prepbuffsize(b, want);
#else
  dst = luaL_prepbuffer(b);
  if (want > LUAL_BUFFERSIZE)
    want = LUAL_BUFFERSIZE;
#endif
  err = read_some(buf, dst, want, got);
  luaL_addsize(b, *got);
  buf->received += (long)*got;
  return err;
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

/* Counts from BLOCK_MIN to LARGE_MAX skip our buffer when it is empty. */
#define BLOCK_MIN (SSLUA_BUFFER_SIZE / 2)
#define LARGE_MAX ((size_t)1 << 20)

/* Reads until dst holds `wanted` bytes or a read fails; *got says how
 * many it holds either way. */
static int recv_into(sslua_buffer *buf, char *dst, size_t wanted, size_t *got)
{
  int err = SSLUA_IO_DONE;
  *got = 0;
  while (*got < wanted && err == SSLUA_IO_DONE) {
    size_t n;
    err = read_some(buf, dst + *got, wanted - *got, &n);
    *got += n;
  }
  return err;
}

/* A count of BLOCK_MIN up to one record with nothing buffered: OpenSSL
 * copies straight into a block on the C stack, pushed as the result
 * (no allocation but the string's, one copy less than via our buffer). */
static int recv_block(lua_State *L, sslua_buffer *buf, size_t wanted)
{
  char block[SSLUA_BUFFER_SIZE];
  size_t got;
  int err = recv_into(buf, block, wanted, &got);
  buf->received += (long)got;
  lua_pushlstring(L, block, got);
  return err;
}

/* A larger count with nothing buffered: OpenSSL copies straight into our
 * buffer, allocated at that size (never less than a record) and released
 * once pushed. Unlike a luaL_Buffer this costs the collector nothing, and
 * the bytes stay buffered until pushed. Returns 0 (nothing done) when
 * out of memory, else 1 with the result pushed and *err set. */
static int recv_large(lua_State *L, sslua_buffer *buf, size_t wanted, int *err)
{
  size_t got;
  sslua_buffer_free(buf);   /* a kept record buffer, empty */
  if ((buf->data = (char *)malloc(wanted)) == NULL)
    return 0;
  *err = recv_into(buf, buf->data, wanted, &got);
  buf->first = 0;
  buf->last = got;
  lua_pushlstring(L, buf->data, got);
  buf->received += (long)got;
  sslua_buffer_free(buf);
  return 1;
}

/* Adds data[0..len) to b without its CRs. */
static void add_without_cr(luaL_Buffer *b, const char *data, size_t len)
{
  const char *cr;
  while ((cr = (const char *)memchr(data, '\r', len)) != NULL) {
    luaL_addlstring(b, data, (size_t)(cr - data));
    len -= (size_t)(cr - data) + 1;
    data = cr + 1;
  }
  luaL_addlstring(b, data, len);
}

/* "*l": up to the next LF, every CR dropped. */
static int recv_line(sslua_buffer *buf, luaL_Buffer *b)
{
  int err = SSLUA_IO_DONE;
  while (err == SSLUA_IO_DONE) {
    const char *data, *nl;
    size_t count, len;
    err = buffer_get(buf, &data, &count);
    if (count == 0)
      continue;   /* nothing read: err says why */
    nl = (const char *)memchr(data, '\n', count);
    len = nl ? (size_t)(nl - data) : count;
    add_without_cr(b, data, len);
    if (nl != NULL) {
      buffer_skip(buf, len + 1);
      break;
    }
    buffer_skip(buf, len);
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
 * a count, or a line fully present with no CR but (maybe) the one before
 * its LF. Returns 1 if it did. */
static int recv_shortcut(lua_State *L, sslua_buffer *buf, int line, size_t wanted)
{
  const char *data;
  size_t avail = buf->last - buf->first;
  if (buf->data == NULL || avail == 0)   /* no arithmetic on a NULL buffer */
    return 0;
  data = buf->data + buf->first;
  if (line) {
    const char *nl = (const char *)memchr(data, '\n', avail);
    size_t len, end;
    if (nl == NULL)
      return 0;
    len = end = (size_t)(nl - data);
    if (end > 0 && data[end - 1] == '\r')   /* CRLF, the usual CR */
      end--;
    if (memchr(data, '\r', end) != NULL)
      return 0;
    lua_pushlstring(L, data, end);
    buffer_skip(buf, len + 1);
  } else {
    if (avail < wanted || wanted == 0)
      return 0;
    lua_pushlstring(L, data, wanted);
    buffer_skip(buf, wanted);
  }
  return 1;
}

enum { PATTERN_COUNT, PATTERN_LINE, PATTERN_ALL };

/* Counts beyond what memory could ever hold are clamped, not wrapped. */
#define SIZE_MAX_WANTED ((size_t)1 << 52)

/* LuaSocket's reading of the pattern argument: a number (or a string
 * convertible to one) is a count, else "*l..." or "*a...". Strings that
 * start with '*' can never be numbers, so the common patterns skip the
 * conversion attempt. */
static int pattern_kind(lua_State *L, size_t *wanted)
{
  int t = lua_type(L, 2);
  const char *p = (t == LUA_TSTRING) ? lua_tostring(L, 2) : NULL;
  if (t == LUA_TNUMBER || (p != NULL && p[0] != '*' && lua_isnumber(L, 2))) {
    lua_Number n = lua_tonumber(L, 2);
    luaL_argcheck(L, n >= 0, 2, "invalid receive pattern");
    *wanted = (n >= (lua_Number)SIZE_MAX_WANTED) ? SIZE_MAX_WANTED : (size_t)n;
    return PATTERN_COUNT;
  }
  if (p == NULL)
    p = luaL_optstring(L, 2, "*l");
  if (p[0] == '*' && p[1] == 'l')
    return PATTERN_LINE;
  if (p[0] == '*' && p[1] == 'a')
    return PATTERN_ALL;
  return luaL_argerror(L, 2, "invalid receive pattern");
}

/* With the result string on top: data, nil, nil on success, else nil,
 * message, partial result. */
static int receive_results(lua_State *L, sslua_buffer *buf, int err)
{
  if (err == SSLUA_IO_DONE) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
  }
  lua_pushnil(L);
  lua_insert(L, -2);
  lua_pushstring(L, buf->io.error(buf->io.ctx, err));
  lua_insert(L, -2);
  return 3;
}

static int receive(lua_State *L, sslua_buffer *buf)
{
  size_t plen = 0, wanted = 0;
  const char *prefix = lua_isnoneornil(L, 3) ? "" : luaL_checklstring(L, 3, &plen);
  int kind = pattern_kind(L, &wanted), err = SSLUA_IO_DONE;
  luaL_Buffer b;

  if (plen == 0 && kind != PATTERN_ALL) {
    if (recv_shortcut(L, buf, kind == PATTERN_LINE, wanted))
      return receive_results(L, buf, SSLUA_IO_DONE);
    if (kind == PATTERN_COUNT && sslua_buffer_isempty(buf) && wanted >= BLOCK_MIN) {
      if (wanted <= SSLUA_BUFFER_SIZE)
        return receive_results(L, buf, recv_block(L, buf, wanted));
      if (wanted <= LARGE_MAX && recv_large(L, buf, wanted, &err))
        return receive_results(L, buf, err);
    }
  }
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, prefix, plen);
  if (kind == PATTERN_LINE)
    err = recv_line(buf, &b);
  else if (kind == PATTERN_ALL)
    err = recv_all(buf, &b);
  else if (plen == 0 || wanted > plen)
    err = recv_count(buf, &b, wanted - plen);
  luaL_pushresult(&b);
  return receive_results(L, buf, err);
}

int sslua_buffer_receive(lua_State *L, sslua_buffer *buf)
{
  int n = receive(L, buf);
  settle(buf);
  return n;
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
    note_transfer(buf, done);
    sent += done;
    if (err != SSLUA_IO_DONE)
      break;
  }
  buf->sent += (long)sent;
  settle(buf);
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
