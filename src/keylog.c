/*
 * keylog.c - SSL_CTX_set_keylog_callback for Lua.
 *
 * OpenSSL produces each line ("CLIENT_RANDOM <hex> <hex>" for TLS 1.2,
 * "CLIENT_HANDSHAKE_TRAFFIC_SECRET ..." and friends for TLS 1.3); we only
 * deliver it. A path is opened in append mode for every line, so several
 * processes can share one file and nothing stays open; a write that fails
 * later is dropped silently (a key log must never break a handshake). A
 * function gets the line without its newline, runs protected on the Lua
 * state of the call driving the handshake, and its errors are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "context.h"
#include "keylog.h"

static void append_line(const char *path, const char *line)
{
  FILE *f = fopen(path, "a");
  if (f == NULL)
    return;
  fprintf(f, "%s\n", line);
  fclose(f);
}

#define KEYLOG_VALUE "keylog"   /* key of the path or function (context values) */

typedef struct {
  const sslua_context *ctx;
  const char          *line;
} keylog_line;

/* Protected: delivers one line to the path or function. */
static int deliver(lua_State *L)
{
  const keylog_line *k = (const keylog_line *)lua_touserdata(L, 1);
  int type = sslua_context_get(L, k->ctx, KEYLOG_VALUE);
  if (type == LUA_TSTRING) {
    append_line(lua_tostring(L, -1), k->line);
  } else if (type == LUA_TFUNCTION) {
    lua_pushstring(L, k->line);
    (void)lua_pcall(L, 1, 0, 0);   /* errors are the function's own business */
  }
  return 0;
}

static void keylog_cb(const SSL *ssl, const char *line)
{
  sslua_conn *conn = sslua_conn_from_ssl(ssl);
  keylog_line k;

  k.ctx = sslua_context_from_ssl_ctx(SSL_get_SSL_CTX(ssl));
  k.line = line;
  if (conn == NULL || conn->L == NULL || k.ctx == NULL || line == NULL)
    return;
  (void)sslua_run_protected(conn->L, deliver, &k);
}

/* context.setkeylog(ctx, path_or_function): a path must be writable now,
 * so a typo shows up at newcontext rather than as an empty log. */
static int ctx_setkeylog(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int type = lua_type(L, 2);

  SSLUA_CHECK_OPEN(L, c);
  if (type == LUA_TSTRING) {
    const char *path = lua_tostring(L, 2);
    FILE *f;
    if (strlen(path) != lua_rawlen(L, 2) || path[0] == '\0')
      return sslua_fail_false(L, "invalid keylog parameter (bad path)");
    errno = 0;
    if ((f = fopen(path, "a")) == NULL)
      return sslua_fail_false(L, "error opening keylog file (%s: %s)", path,
                              strerror(errno ? errno : ENOENT));
    fclose(f);
  } else if (type != LUA_TFUNCTION) {
    return sslua_fail_false(L, "invalid keylog parameter (string or function expected, got %s)",
                            luaL_typename(L, 2));
  }
  sslua_context_set(L, c, KEYLOG_VALUE, 2);
  SSL_CTX_set_keylog_callback(c->ctx, keylog_cb);
  return sslua_ok(L);
}

static const luaL_Reg context_functions[] = {
  { "setkeylog", ctx_setkeylog },
  { NULL, NULL }
};

const sslua_feature sslua_keylog_feature = {
  .name = "keylog",
  .context_functions = context_functions,
};
