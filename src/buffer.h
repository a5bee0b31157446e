/*
 * buffer.h - LuaSocket 3.1's receive/send semantics over any byte source.
 *
 * The buffer knows nothing of TLS: it pulls bytes through `recv` and pushes
 * them through `send`, so the same code can be driven by a fuzzer. Its
 * storage is allocated on first use and released once drained, so an idle
 * connection costs no buffer memory. While a stream arrives in big records
 * (at least half of one) a drained buffer is kept for the next one, and
 * so are the I/O layer's own buffers: allocating 16 KiB per record costs
 * more than the record's copy. A short record, a timeout or a short write
 * ends that: everything empty is released (the `idle` callback).
 */
#ifndef SSLUA_BUFFER_H
#define SSLUA_BUFFER_H

#include <stddef.h>
#include "compat.h"

/* One TLS record's worth of plaintext: SSL_read hands out whole records. */
#define SSLUA_BUFFER_SIZE 16384

/* Result codes of the I/O callbacks. Positive values are the I/O layer's
 * own error codes, turned into text by its `error` callback. */
enum {
  SSLUA_IO_DONE   = 0,
  SSLUA_IO_CLOSED = -1,   /* orderly end of stream */
  SSLUA_IO_EOF    = -2    /* end of stream without close_notify */
};

typedef struct {
  void *ctx;
  /* Reads up to len bytes into dst; *got is set on SSLUA_IO_DONE. */
  int (*recv)(void *ctx, char *dst, size_t len, size_t *got);
  /* Writes up to len bytes; *sent is set even on failure. */
  int (*send)(void *ctx, const char *src, size_t len, size_t *sent);
  const char *(*error)(void *ctx, int code);
  /* May be NULL. Nothing more is expected soon: release idle buffers. */
  void (*idle)(void *ctx);
} sslua_io;

typedef struct {
  sslua_io io;
  char    *data;          /* NULL until needed; else SSLUA_BUFFER_SIZE bytes */
  size_t   first, last;   /* unread bytes are data[first..last) */
  int      streaming;     /* the last transfer moved a big record */
  int      settle;        /* a small one since: release idle buffers */
  double   birthday;
  long     received, sent;   /* bytes handed to / taken from the caller */
} sslua_buffer;

void sslua_buffer_init(sslua_buffer *buf, const sslua_io *io);
void sslua_buffer_free(sslua_buffer *buf);
int  sslua_buffer_isempty(const sslua_buffer *buf);

/* conn:receive([pattern [, prefix]]) with the pattern at stack index 2. */
int sslua_buffer_receive(lua_State *L, sslua_buffer *buf);
/* conn:send(data [, i [, j]]) with data at stack index 2. */
int sslua_buffer_send(lua_State *L, sslua_buffer *buf);
/* conn:getstats() / conn:setstats(received, sent, age) */
int sslua_buffer_getstats(lua_State *L, sslua_buffer *buf);
int sslua_buffer_setstats(lua_State *L, sslua_buffer *buf);

#endif
