/*
 * buffer_fuzz.c - libFuzzer harness for src/buffer.c: LuaSocket's receive
 * patterns and send slicing over a fake sslua_io whose reads and writes
 * are cut into chunks chosen by the input itself.
 *
 * Input layout
 *   byte 0            number of operations k (k % 24 + 1)
 *   next 4*k bytes    operations: kind, argument, prefix length, flags
 *   next 16 bytes     chunk sizes, used in turn by recv and send; 0 means
 *                     "this call fails with a timeout" (a transient error)
 *   next byte         end of stream: even = close_notify (CLOSED), odd = EOF
 *   rest              the byte stream the peer sends
 *
 * Every receive result is checked against a model of the stream:
 *   count  result == stream[pos .. pos + len), len == wanted on success;
 *   "*l"   the bytes consumed are the stream up to and including the next
 *          LF (on success), every CR dropped, the LF dropped; on failure
 *          all that was delivered is consumed and holds no LF;
 *   "*a"   everything up to the end of the stream;
 * with the prefix in front; `received` (getstats) equals the bytes
 * consumed; the buffer never holds more than was delivered. Sends check
 * that exactly data[i..j] (LuaSocket's index rules) went out, in order.
 * ASan catches any read or write outside the buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

typedef struct {
  const uint8_t *stream;
  size_t         len, delivered;
  const uint8_t *chunks;     /* 16 sizes */
  unsigned       ci;
  int            eof_code;
  /* send side */
  uint8_t       *sent;
  size_t         sent_len, sent_cap;
  unsigned       si;
} fake_io;

#define IO_TIMEOUT 1

static int fake_recv(void *ctx, char *dst, size_t len, size_t *got)
{
  fake_io *f = (fake_io *)ctx;
  size_t want = f->chunks[f->ci++ % 16];
  *got = 0;
  if (len == 0)
    abort();                        /* the buffer must never ask for nothing */
  if (f->delivered >= f->len)
    return f->eof_code;
  if (want == 0)
    return IO_TIMEOUT;
  want = want * 131 % 17000 + 1;    /* small and record-sized chunks */
  if (want > len) want = len;
  if (want > f->len - f->delivered) want = f->len - f->delivered;
  memcpy(dst, f->stream + f->delivered, want);   /* ASan: dst must hold len */
  f->delivered += want;
  *got = want;
  return SSLUA_IO_DONE;
}

static int fake_send(void *ctx, const char *src, size_t len, size_t *sent)
{
  fake_io *f = (fake_io *)ctx;
  size_t n = f->chunks[f->si++ % 16];
  *sent = 0;
  if (n == 0)
    return IO_TIMEOUT;
  if (n > len) n = len;
  if (f->sent_len + n > f->sent_cap) {
    f->sent_cap = (f->sent_len + n) * 2;
    f->sent = (uint8_t *)realloc(f->sent, f->sent_cap);
    if (f->sent == NULL) abort();
  }
  memcpy(f->sent + f->sent_len, src, n);
  f->sent_len += n;
  *sent = n;
  return SSLUA_IO_DONE;
}

static const char *fake_error(void *ctx, int code)
{
  (void)ctx;
  switch (code) {
  case SSLUA_IO_CLOSED: return "closed";
  case SSLUA_IO_EOF:    return "unexpected eof while reading";
  case IO_TIMEOUT:      return "wantread";
  default:              return "unknown";
  }
}

#define CHECK(c) do { if (!(c)) { \
  fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #c); \
  abort(); } } while (0)

static lua_State *L;
static sslua_buffer *current;
static fake_io *current_io;

static int l_receive(lua_State *Ls) { return sslua_buffer_receive(Ls, current); }
static int l_send(lua_State *Ls) { return sslua_buffer_send(Ls, current); }

/* LuaSocket's send index arithmetic, written independently. */
static void send_range(long long size, long long i, long long j, long long *start, long long *end)
{
  if (i < 0) i = size + i + 1;
  if (j < 0) j = size + j + 1;
  if (i < 1) i = 1;
  if (j > size) j = size;
  *start = i;
  *end = j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const sslua_io proto = { NULL, fake_recv, fake_send, fake_error };
  sslua_io io = proto;
  sslua_buffer buf;
  fake_io f;
  size_t k, i, hdr, pos = 0;
  const uint8_t *ops;

  if (size < 1) return 0;
  k = data[0] % 24 + 1;
  hdr = 1 + 4 * k + 16 + 1;
  if (size < hdr) return 0;
  ops = data + 1;
  memset(&f, 0, sizeof(f));
  f.chunks = data + 1 + 4 * k;
  f.eof_code = (data[hdr - 1] & 1) ? SSLUA_IO_EOF : SSLUA_IO_CLOSED;
  f.stream = data + hdr;
  f.len = size - hdr;

  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
  }
  io.ctx = &f;
  sslua_buffer_init(&buf, &io);
  current = &buf;
  current_io = &f;

  for (i = 0; i < k; i++) {
    const uint8_t *op = ops + 4 * i;
    int kind = op[0] % 5;
    size_t plen = op[2] % 8;
    char prefix[8];
    int top = lua_gettop(L), rc;
    memset(prefix, 'P', sizeof(prefix));
    if (op[3] & 1) plen = 0;

    if (kind == 4) {                 /* send(data, i, j) */
      long long si = (int8_t)op[1], sj = (int8_t)op[2], st, en;
      size_t dlen = f.len < 300 ? f.len : 300, before = f.sent_len, sent;
      lua_pushcfunction(L, l_send);
      lua_pushnil(L);                /* self, unused */
      lua_pushlstring(L, (const char *)f.stream, dlen);
      lua_pushinteger(L, si);
      lua_pushinteger(L, sj);
      rc = lua_pcall(L, 4, 3, 0);
      CHECK(rc == 0);
      send_range((long long)dlen, si, sj, &st, &en);
      sent = f.sent_len - before;
      CHECK(st > en ? sent == 0 : sent <= (size_t)(en - st + 1));
      if (sent > 0)
        CHECK(memcmp(f.sent + before, f.stream + st - 1, sent) == 0);
      if (lua_isnil(L, -3)) {
        CHECK(lua_tointeger(L, -1) == (lua_Integer)(sent + st - 1));
      } else {
        CHECK(st > en || sent == (size_t)(en - st + 1));
        CHECK(lua_tointeger(L, -3) == (lua_Integer)(sent + st - 1));
      }
      lua_settop(L, top);
      continue;
    }

    lua_pushcfunction(L, l_receive);
    lua_pushnil(L);
    if (kind == 0) lua_pushliteral(L, "*l");
    else if (kind == 1) lua_pushliteral(L, "*a");
    else if (kind == 2) lua_pushinteger(L, op[1] * (op[3] & 2 ? 97 : 1));
    else lua_pushnil(L);             /* default pattern: "*l" */
    if (plen > 0) lua_pushlstring(L, prefix, plen); else lua_pushnil(L);
    rc = lua_pcall(L, 3, 3, 0);
    CHECK(rc == 0);
    {
      int ok = !lua_isnil(L, -3);
      size_t rlen;
      const char *r = lua_tolstring(L, ok ? -3 : -1, &rlen);
      const uint8_t *s = f.stream + pos;
      size_t avail = f.delivered - pos;   /* delivered, not yet consumed */
      CHECK(f.delivered >= pos);
      CHECK(r != NULL);
      if (!ok) CHECK(lua_isstring(L, -2));
      else CHECK(lua_isnil(L, -2) && lua_isnil(L, -1));
      /* the prefix comes first, unchanged */
      CHECK(rlen >= plen);
      CHECK(memcmp(r, prefix, plen) == 0);
      r += plen;
      rlen -= plen;
      if (kind == 2) {
        size_t wanted = (size_t)(op[1] * (op[3] & 2 ? 97 : 1));
        size_t need = wanted > plen ? wanted - plen : 0;
        CHECK(rlen <= need);
        if (ok) CHECK(rlen == need);
        CHECK(rlen <= avail);
        CHECK(memcmp(r, s, rlen) == 0);
        pos += rlen;
      } else if (kind == 1) {
        CHECK(rlen == avail);
        CHECK(memcmp(r, s, rlen) == 0);
        pos += rlen;
        if (ok) CHECK(f.delivered == f.len && rlen > 0);
      } else {                       /* "*l" and the default */
        size_t j = 0, o = 0;
        for (j = 0; j < avail && s[j] != '\n'; j++) {
          if (s[j] == '\r') continue;
          CHECK(o < rlen && (uint8_t)r[o] == s[j]);
          o++;
        }
        CHECK(o == rlen);
        if (ok) {
          CHECK(j < avail);          /* a line ends with its LF */
          pos += j + 1;
        } else {
          CHECK(j == avail);         /* a failed line consumed everything */
          pos += j;
        }
      }
      CHECK(buf.received == (long)pos);
      CHECK(buf.last - buf.first == f.delivered - pos);
    }
    lua_settop(L, top);
  }
  sslua_buffer_free(&buf);
  free(f.sent);
  return 0;
}
