/*
 * connection.c - ssl.core: handshake, I/O and lifetime of a connection.
 *
 * The descriptor is always non-blocking; blocking behaviour and timeouts
 * come from waiting in timeout.c, exactly where OpenSSL asks to (want
 * read / want write). Every method checks the state first, so any call
 * order is safe: nothing touches a freed SSL or a closed descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>

#include "connection.h"
#include "context.h"
#include "errobj.h"
#include "errors.h"
#include "feature.h"
#include "objects.h"
#include "version.h"

/* Error codes of this I/O layer (see buffer.h for the shared ones). */
enum {
  IO_WANTREAD = 1,   /* timed out waiting to read */
  IO_WANTWRITE,      /* timed out waiting to write */
  IO_TLS,            /* TLS failure, text in conn->failure */
  IO_SYSTEM,         /* socket failure, errno in conn->failure */
  IO_RESET,          /* connection reset: "closed", yet no orderly end */
  IO_RETRY           /* internal: waited, call OpenSSL again */
};

static int conn_index = -1;   /* SSL ex_data slot -> sslua_conn */
static const sslua_feature *const *features;   /* set once by sslua_connection_open */

/* Every method that may run OpenSSL records its Lua state first, so that
 * callbacks use the state of the current call (a coroutine's, say), never
 * a stale one saved at creation. Methods carry the metatable as upvalue 1
 * (sslua_connection_open): comparing with it spares each call the lookup of the
 * metatable by name; anything else takes lauxlib's check and message. */
sslua_conn *sslua_conn_enter(lua_State *L, int idx)
{
  sslua_conn *c = (sslua_conn *)lua_touserdata(L, idx);
  int same = 0;
  if (c != NULL && lua_getmetatable(L, idx)) {
    same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!same)
    c = (sslua_conn *)luaL_checkudata(L, idx, SSLUA_CONNECTION_META);
  c->L = L;
  return c;
}

sslua_conn *sslua_conn_from_ssl(const SSL *ssl)
{
  return (sslua_conn *)SSL_get_ex_data(ssl, conn_index);
}

void sslua_conn_set(lua_State *L, const sslua_conn *c, const char *key, int idx)
{
  sslua_object_set(L, c, key, idx);
}

int sslua_conn_get(lua_State *L, const sslua_conn *c, const char *key)
{
  return sslua_object_get(L, c, key);
}

/* ------------------------------------------------------------------ */
/* the failure record                                                  */

/* What a connection without a failure reads (error objects, messages). */
static const sslua_failure no_failure = { .depth = -1 };

/* c's failure record for writing, allocated on first use; NULL when out
 * of memory, and then every failure of c reads "out of memory". */
static sslua_failure *failure_record(sslua_conn *c)
{
  if (c->failure == NULL && (c->failure = (sslua_failure *)calloc(1, sizeof(*c->failure))) != NULL)
    c->failure->depth = -1;
  return c->failure;
}

static const sslua_failure *failure_view(const sslua_conn *c)
{
  return c->failure != NULL ? c->failure : &no_failure;
}

const char *sslua_conn_failure_message(const sslua_conn *c)
{
  if (c->failure == NULL)
    return c->state == SSLUA_CONN_FAILED || c->fatal ? "out of memory" : "";
  return c->failure->message;
}

/* A system error behind the stream's failure. */
static int system_error(sslua_conn *c, int sys_errno)
{
  sslua_failure *f = failure_record(c);
  if (f != NULL) {
    f->sys_errno = sys_errno;
    f->kind = SSLUA_FAIL_SYSTEM;
  }
  return IO_SYSTEM;
}

/* ------------------------------------------------------------------ */
/* driving OpenSSL                                                     */

/* Empties this thread's OpenSSL error queue. Clearing walks every slot,
 * so it only runs when there is something to clear (the common case on
 * every read, write and handshake is an empty queue). */
static void clear_errors(void)
{
  if (ERR_peek_error() != 0)
    ERR_clear_error();
}

static int wait_for(sslua_conn *c, int what)
{
  int rc = sslua_wait(c->fd, what, &c->tm);
  if (rc == 0)
    return IO_RETRY;
  if (rc == 1)
    return what == SSLUA_WAIT_READ ? IO_WANTREAD : IO_WANTWRITE;
  return system_error(c, rc);
}

/* The reason from the error queue, then what the features know of it
 * (a verify callback's rejection, a name mismatch, OCSP, ...). */
static void record_tls_failure(sslua_conn *c, unsigned long code)
{
  sslua_failure *f = failure_record(c);
  int i;
  if (f == NULL) {
    ERR_clear_error();
    return;
  }
  f->kind = SSLUA_FAIL_TLS;
  f->code = code;
  f->verify_code = 0;
  f->depth = -1;
  f->explained = 0;
  f->subject[0] = '\0';
  /* Still at the start: a client waiting for the ServerHello, a server
   * for the ClientHello. What fails there is the peer's first record. */
  f->first_record = c->state == SSLUA_CONN_NEW &&
      (SSL_get_state(c->ssl) == TLS_ST_BEFORE || SSL_get_state(c->ssl) == TLS_ST_CW_CLNT_HELLO);
  sslua_err_reason(f->message, sizeof(f->message), "Unknown SSL error");
  for (i = 0; features[i] != NULL; i++)
    if (features[i]->explain != NULL)
      features[i]->explain(c->ssl, f);
  sslua_failure_finish(f);
}

static int tls_failure(sslua_conn *c)
{
  unsigned long code = ERR_peek_error();
  /* The end of the stream without close_notify, at a record boundary.
   * Inside a record (bytes of it still held) it is damage, never an
   * ending: an error even for receive("*a"). */
  if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
      ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING &&
      !SSL_has_pending(c->ssl)) {
    ERR_clear_error();
    return SSLUA_IO_EOF;
  }
  record_tls_failure(c, code);
  return IO_TLS;
}

static int system_failure(sslua_conn *c, int saved_errno)
{
  unsigned long code = ERR_peek_error();
  if (code != 0 && ERR_SYSTEM_ERROR(code)) {
    /* OpenSSL 3.2+ queues the socket's errno as a system error (3.0
     * leaves it in errno): the same failure either way. */
    saved_errno = ERR_GET_REASON(code);
    ERR_clear_error();
  } else if (code != 0) {
    return tls_failure(c);
  }
  switch (saved_errno) {
  case 0:
    /* The peer's close_notify did arrive: OpenSSL 3.5/3.6 read a TLS 1.3
     * close_notify that follows another warning alert (JSSE sends
     * user_canceled first) as a bare end of stream. */
    if (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN)
      return SSLUA_IO_CLOSED;
    return SSLUA_IO_EOF;          /* EOF without close_notify */
  case ECONNRESET:
  case ECONNABORTED:
  case EPIPE:
    /* LuaSocket's text, but not its end of stream: receive("*a") must
     * not return what came before a reset as the complete data. */
    return IO_RESET;
  default:
    return system_error(c, saved_errno);
  }
}

/* Classifies the result of one OpenSSL call, waiting when it asks to. */
static int step(sslua_conn *c, int ret, int saved_errno)
{
  switch (SSL_get_error(c->ssl, ret)) {
  case SSL_ERROR_NONE:        return SSLUA_IO_DONE;
  case SSL_ERROR_ZERO_RETURN: return SSLUA_IO_CLOSED;
  case SSL_ERROR_WANT_READ:   return wait_for(c, SSLUA_WAIT_READ);
  case SSL_ERROR_WANT_WRITE:  return wait_for(c, SSLUA_WAIT_WRITE);
  case SSL_ERROR_SYSCALL:     return system_failure(c, saved_errno);
  case SSL_ERROR_SSL:         return tls_failure(c);
  default:
    if (failure_record(c) != NULL)
      snprintf(c->failure->message, sizeof(c->failure->message), "Unknown SSL error");
    return IO_TLS;
  }
}

/* Errors after which OpenSSL must not be called again on this SSL. */
static int is_fatal(int err)
{
  return err == IO_TLS || err == IO_SYSTEM || err == SSLUA_IO_EOF ||
         err == SSLUA_IO_CLOSED || err == IO_RESET;
}

static const char *io_error(void *ctx, int err)
{
  sslua_conn *c = (sslua_conn *)ctx;
  switch (err) {
  case SSLUA_IO_DONE:   return NULL;
  case SSLUA_IO_CLOSED:
  case IO_RESET:        return "closed";
  case SSLUA_IO_EOF:    return "unexpected eof while reading";
  case IO_WANTREAD:     return "wantread";
  case IO_WANTWRITE:    return "wantwrite";
  case IO_SYSTEM:       return c->failure ? strerror(c->failure->sys_errno) : "out of memory";
  default:              return c->failure ? c->failure->message : "out of memory";
  }
}

/* One OpenSSL call shape for reading, writing and handshaking. */
typedef int (*ssl_call)(SSL *ssl, void *buf, int len);

static int call_read(SSL *ssl, void *buf, int len)  { return SSL_read(ssl, buf, len); }
static int call_write(SSL *ssl, void *buf, int len) { return SSL_write(ssl, buf, len); }
static int call_handshake(SSL *ssl, void *buf, int len)
{
  (void)buf;
  (void)len;
  return SSL_do_handshake(ssl);
}

static void release(sslua_conn *c);

/* Repeats `call` until it completes, fails, or a wait times out. A Lua
 * callback run by OpenSSL may close this very connection: the SSL is
 * then freed here, after OpenSSL has returned, never under its feet. */
static int drive(sslua_conn *c, ssl_call call, void *buf, size_t len, size_t *done)
{
  int ret, err;
  if (len > INT_MAX)
    len = INT_MAX;
  c->busy = 1;
  do {
    clear_errors();
    errno = 0;
    ret = call(c->ssl, buf, (int)len);
    err = step(c, ret, errno);
  } while (err == IO_RETRY && !c->close_pending);
  c->busy = 0;
  if (c->close_pending) {
    c->fatal = SSLUA_IO_CLOSED;   /* no close_notify from a broken call */
    release(c);
    return SSLUA_IO_CLOSED;
  }
  if (err == SSLUA_IO_DONE && done != NULL)
    *done = (size_t)ret;
  return err;
}

/* Reads or writes on a connected stream; a broken stream stays broken. */
static int transfer(sslua_conn *c, ssl_call call, void *buf, size_t len, size_t *done)
{
  int err;
  *done = 0;
  if (c->state != SSLUA_CONN_CONNECTED)
    return SSLUA_IO_CLOSED;
  if (c->fatal)
    return c->fatal == SSLUA_IO_EOF ? SSLUA_IO_CLOSED : c->fatal;
  err = drive(c, call, buf, len, done);
  if (is_fatal(err))
    c->fatal = err;
  return err;
}

static int io_recv(void *ctx, char *dst, size_t len, size_t *got)
{
  return transfer((sslua_conn *)ctx, call_read, dst, len, got);
}

static int io_send(void *ctx, const char *src, size_t len, size_t *sent)
{
  /* SSL_write only reads the buffer; the cast serves the shared shape. */
  return transfer((sslua_conn *)ctx, call_write, (void *)src, len, sent);
}

/* OpenSSL's 16 KiB read and write buffers, released when empty. The
 * buffer layer asks once a stream is not moving big records (buffer.h);
 * releasing them after every record instead (SSL_MODE_RELEASE_BUFFERS)
 * makes each record allocate 16 KiB twice. */
static void io_idle(void *ctx)
{
  sslua_conn *c = (sslua_conn *)ctx;
  if (c->ssl != NULL && !c->busy)
    (void)SSL_free_buffers(c->ssl);
}

/* ------------------------------------------------------------------ */
/* lifetime                                                            */

/* Sends close_notify once, without waiting: close() must never hang. */
static void release(sslua_conn *c)
{
  int i;
  if (c->busy) {
    c->close_pending = 1;
    return;
  }
  c->close_pending = 0;
  if (c->ssl != NULL) {
    /* Answering the peer's close_notify keeps the session resumable. */
    int clean = !c->fatal || (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN);
    if (c->state == SSLUA_CONN_CONNECTED && clean && c->fd >= 0) {
      clear_errors();
      (void)SSL_shutdown(c->ssl);
    }
    for (i = 0; features[i] != NULL; i++)
      if (features[i]->release != NULL)
        features[i]->release(c);
    SSL_free(c->ssl);
    c->ssl = NULL;
    clear_errors();
  }
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  sslua_buffer_free(&c->buf);
  c->state = SSLUA_CONN_CLOSED;
}

/* core.create(ctx) -> connection | nil, message */
static int core_create(lua_State *L)
{
  static const sslua_io io = { NULL, io_recv, io_send, io_error, io_idle };
  sslua_context *ctx = sslua_context_test(L, 1);
  sslua_conn *c;
  sslua_io conn_io = io;
  int i;

  if (ctx == NULL)
    return sslua_fail(L, "invalid context (%s)", sslua_describe(L, 1));
  if (ctx->ctx == NULL)
    return sslua_fail(L, "closed");
  if (ctx->mode == SSLUA_MODE_UNSET)
    return sslua_fail(L, "invalid mode");
  c = (sslua_conn *)lua_newuserdata(L, sizeof(*c));
  memset(c, 0, sizeof(*c));
  c->L = L;
  c->fd = -1;
  c->state = SSLUA_CONN_CLOSED;   /* until fully built, so __gc is safe */
  luaL_setmetatable(L, SSLUA_CONNECTION_META);
  /* The user value keeps the context (and features' state) alive. */
  sslua_object_register(L, c, -1);
  lua_pushvalue(L, 1);
  sslua_conn_set(L, c, "context", -1);
  lua_pop(L, 1);
  clear_errors();
  if ((c->ssl = SSL_new(ctx->ctx)) == NULL) {
    char why[SSLUA_FAILURE_TEXT];
    return sslua_fail(L, "error creating SSL object (%s)",
                      sslua_err_reason(why, sizeof(why), "out of memory"));
  }
  /* Without the back pointer every callback would find no connection. */
  if (!SSL_set_ex_data(c->ssl, conn_index, c)) {
    release(c);
    return sslua_fail(L, "error creating SSL object (out of memory)");
  }
  for (i = 0; features[i] != NULL; i++) {
    if (features[i]->attach != NULL && !features[i]->attach(c)) {
      release(c);
      return sslua_fail(L, "error creating SSL object (out of memory)");
    }
  }
  c->error_objects = sslua_errobj_enabled(ctx->ctx);
  clear_errors();
  if (ctx->mode == SSLUA_MODE_SERVER)
    SSL_set_accept_state(c->ssl);
  else
    SSL_set_connect_state(c->ssl);
  /* OpenSSL 3.5+ sets up the record layer here and, when that fails for
   * memory, only says so in the error queue (the calls return nothing):
   * going on would hand the next call an SSL without one. */
  if (ERR_peek_error() != 0) {
    clear_errors();
    release(c);
    return sslua_fail(L, "error creating SSL object (out of memory)");
  }
  conn_io.ctx = c;
  sslua_buffer_init(&c->buf, &conn_io);
  sslua_timeout_init(&c->tm);
  c->state = SSLUA_CONN_NEW;
  return 1;
}

/* core.setfd(conn, fd) -> true | nil, message */
static int core_setfd(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  lua_Number n = luaL_checknumber(L, 2);
  int fd = (n >= 0 && n <= INT_MAX) ? (int)n : -1;
  int flags;

  if (c->state != SSLUA_CONN_NEW || c->fd >= 0)
    return sslua_fail(L, "descriptor already set");
  if (fd < 0 || (flags = fcntl(fd, F_GETFL)) < 0)
    return sslua_fail(L, "closed");
  /* LuaSocket's sockets are non-blocking already: no second call then. */
  if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return sslua_fail(L, "%s", strerror(errno));
  /* Fails only when its socket BIO cannot be allocated; errno is stale. */
  if (SSL_set_fd(c->ssl, fd) != 1) {
    ERR_clear_error();
    return sslua_fail(L, "out of memory");
  }
  c->fd = fd;
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_close(lua_State *L)
{
  release(sslua_conn_enter(L, 1));
  lua_pushnumber(L, 1);
  return 1;
}

static int conn_gc(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  release(c);
  if (!c->busy) {   /* a callback's __close inside OpenSSL: freed by the real __gc */
    free(c->failure);
    c->failure = NULL;
  }
  return 0;
}

static int conn_tostring(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  lua_pushfstring(L, "SSL connection: %p%s", (void *)c,
                  c->state == SSLUA_CONN_CLOSED ? " (closed)" : "");
  return 1;
}

/* ------------------------------------------------------------------ */
/* handshake and I/O methods                                           */

static int dohandshake(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  int err;

  switch (c->state) {
  case SSLUA_CONN_CONNECTED:
    return sslua_ok(L);
  case SSLUA_CONN_FAILED:
    return sslua_fail_false(L, "%s", sslua_conn_failure_message(c));
  case SSLUA_CONN_CLOSED:
    return sslua_fail_false(L, "closed");
  default:
    break;
  }
  if (c->fd < 0)
    return sslua_fail_false(L, "closed");
  sslua_timeout_markstart(&c->tm);
  err = drive(c, call_handshake, NULL, 0, NULL);
  if (c->state == SSLUA_CONN_CLOSED)   /* a callback closed it */
    return sslua_fail_false(L, "closed");
  if (err == SSLUA_IO_DONE) {
    c->state = SSLUA_CONN_CONNECTED;
    io_idle(c);   /* an idle connection keeps no record buffers */
    return sslua_ok(L);
  }
  if (is_fatal(err)) {
    /* Remember the reason: a retry reports it again instead of "done". */
    const char *why = io_error(c, err);
    sslua_failure *f = failure_record(c);
    if (f != NULL && why != f->message)
      snprintf(f->message, sizeof(f->message), "%s", why);
    c->state = SSLUA_CONN_FAILED;
    return sslua_fail_false(L, "%s", sslua_conn_failure_message(c));
  }
  return sslua_fail_false(L, "%s", io_error(c, err));
}

/* The error message of these three becomes an object with errorobjects. */
static int conn_dohandshake(lua_State *L)
{
  int n = dohandshake(L);
  sslua_conn *c = sslua_conn_enter(L, 1);
  return sslua_errobj_wrap(L, c->error_objects, failure_view(c), n);
}

static int conn_receive(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  sslua_timeout_markstart(&c->tm);
  return sslua_errobj_wrap(L, c->error_objects, failure_view(c),
                           sslua_buffer_receive(L, &c->buf));
}

static int conn_send(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  sslua_timeout_markstart(&c->tm);
  return sslua_errobj_wrap(L, c->error_objects, failure_view(c),
                           sslua_buffer_send(L, &c->buf));
}

static int conn_settimeout(lua_State *L)
{
  return sslua_timeout_set(L, &sslua_conn_enter(L, 1)->tm, 2);
}

static int conn_gettimeout(lua_State *L)
{
  return sslua_timeout_push(L, &sslua_conn_enter(L, 1)->tm);
}

static int conn_getfd(lua_State *L)
{
  lua_pushnumber(L, sslua_conn_enter(L, 1)->fd);
  return 1;
}

static int conn_dirty(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  int dirty = c->state == SSLUA_CONN_CONNECTED &&
              (!sslua_buffer_isempty(&c->buf) || SSL_pending(c->ssl) > 0);
  lua_pushboolean(L, dirty);
  return 1;
}

static int conn_want(lua_State *L)
{
  static const struct { int code; const char *name; } wants[] = {
    { SSL_NOTHING,            "nothing" },
    { SSL_READING,            "read" },
    { SSL_WRITING,            "write" },
    { SSL_X509_LOOKUP,        "x509lookup" },
    { SSL_ASYNC_PAUSED,       "asyncpaused" },
    { SSL_ASYNC_NO_JOBS,      "asyncnojobs" },
    { SSL_CLIENT_HELLO_CB,    "clienthellocb" },
    { 0, NULL }
  };
  sslua_conn *c = sslua_conn_enter(L, 1);
  int code = c->ssl ? SSL_want(c->ssl) : SSL_NOTHING;
  int i;
  for (i = 0; wants[i].name != NULL; i++) {
    if (wants[i].code == code) {
      lua_pushstring(L, wants[i].name);
      return 1;
    }
  }
  lua_pushliteral(L, "nothing");
  return 1;
}

static int conn_getstats(lua_State *L)
{
  return sslua_buffer_getstats(L, &sslua_conn_enter(L, 1)->buf);
}

static int conn_setstats(lua_State *L)
{
  return sslua_buffer_setstats(L, &sslua_conn_enter(L, 1)->buf);
}

/* ------------------------------------------------------------------ */
/* module                                                              */

/* core.setmethod(name, fn): adds a method to every connection. */
static int core_setmethod(lua_State *L)
{
  luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_getmetatable(L, SSLUA_CONNECTION_META);
  lua_getfield(L, -1, "__index");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_settable(L, -3);
  return 0;
}

static int core_copyright(lua_State *L)
{
  lua_pushliteral(L, SSLUA_COPYRIGHT);
  return 1;
}

static const luaL_Reg conn_meta[] = {
  { "__gc",       conn_gc },
  { "__close",    conn_gc },
  { "__tostring", conn_tostring },
  { NULL, NULL }
};

static const luaL_Reg conn_methods[] = {
  { "close",       conn_close },
  { "dirty",       conn_dirty },
  { "dohandshake", conn_dohandshake },
  { "getfd",       conn_getfd },
  { "getstats",    conn_getstats },
  { "gettimeout",  conn_gettimeout },
  { "receive",     conn_receive },
  { "send",        conn_send },
  { "setstats",    conn_setstats },
  { "settimeout",  conn_settimeout },
  { "want",        conn_want },
  { NULL, NULL }
};

static const luaL_Reg core_functions[] = {
  { "create",    core_create },
  { "setfd",     core_setfd },
  { "setmethod", core_setmethod },
  { "copyright", core_copyright },
  { NULL, NULL }
};

int sslua_connection_open(lua_State *L, sslua_feature_list list)
{
  /* Writing to a socket the peer reset must be an error, not a signal.
   * LuaSocket does the same; honour a handler the program installed. */
  struct sigaction old;
  int i;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
  OPENSSL_init_ssl(0, NULL);
  if (conn_index < 0 &&
      (conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
    return luaL_error(L, "ssl.core: out of memory");
  features = list;
  sslua_newclass(L, SSLUA_CONNECTION_META, NULL, conn_meta);
  /* Methods carry the metatable as upvalue 1, for sslua_conn_enter. */
  sslua_class_extend(L, SSLUA_CONNECTION_META, conn_methods, 1);
  for (i = 0; features[i] != NULL; i++)
    sslua_class_extend(L, SSLUA_CONNECTION_META, features[i]->methods, 1);
  luaL_newlib(L, core_functions);
  lua_pushinteger(L, -1);
  lua_setfield(L, -2, "SOCKET_INVALID");
  /* ssl.lua compares it with its own: the two halves of one release. */
  lua_pushliteral(L, SSLUA_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
