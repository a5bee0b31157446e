/*
 * dane.c - DANE: the peer is authenticated by TLSA records rather than
 * (or besides) a CA store.
 *
 *   context.setdane(ctx [, flag...])   SSL_CTX_dane_enable + flags
 *   conn:setdane(basedomain)           SSL_dane_enable
 *   conn:settlsa(usage, selector, mtype, data)   SSL_dane_tlsa_add
 *
 * The result shows in the usual verification: with verify = "peer" a
 * record mismatch fails the handshake ("certificate verify failed"), and
 * getpeerverification() reports it.
 *
 * Differences from LuaSec, on purpose:
 *   - an unknown flag returns false, "invalid DANE flag (X)" (LuaSec raises);
 *   - setdane sets exactly the flags given (calling it again without a flag
 *     clears them);
 *   - setdane/settlsa return true or false plus OpenSSL's reason (LuaSec:
 *     a bare boolean), and are safe in every state (LuaSec segfaults after
 *     close): once closed they answer false, "closed"; once the handshake
 *     has started (in progress, done or failed) they answer false,
 *     "handshake already started", since records added then could no longer
 *     take part in the verification.
 *   - SSL_dane_enable also makes basedomain the SNI name (unless one was
 *     set with sni()) and the reference name for name checks, as in LuaSec.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "context.h"
#include "dane.h"
#include "errors.h"

#define REASON_LEN 256

static const struct {
  const char   *name;
  unsigned long flag;
} dane_flags[] = {
  { "no_ee_namechecks", DANE_FLAG_NO_DANE_EE_NAMECHECKS },
  { NULL, 0 }
};

/* context.setdane(ctx [, flag...]) -> true | false, "invalid DANE flag (X)" */
static int ctx_setdane(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int i, j, top = lua_gettop(L);
  unsigned long flags = 0;

  SSLUA_CHECK_OPEN(L, c);
  for (i = 2; i <= top; i++) {
    const char *name = lua_type(L, i) == LUA_TSTRING ? lua_tostring(L, i) : NULL;
    for (j = 0; name != NULL && dane_flags[j].name != NULL; j++)
      if (strcmp(dane_flags[j].name, name) == 0)
        break;
    if (name == NULL || dane_flags[j].name == NULL)
      return sslua_fail_false(L, "invalid DANE flag (%s)", name ? name : sslua_describe(L, i));
    flags |= dane_flags[j].flag;
  }
  sslua_err_clear();
  if (SSL_CTX_dane_enable(c->ctx) <= 0) {
    char why[REASON_LEN];
    return sslua_fail_false(L, "error enabling DANE (%s)",
                      sslua_err_reason(why, sizeof(why), "unknown error"));
  }
  SSL_CTX_dane_clear_flags(c->ctx, ~0UL);
  SSL_CTX_dane_set_flags(c->ctx, flags);
  return sslua_ok(L);
}

/* The connection at 1 when records may still be given, else NULL with
 * `false, message` pushed. */
static sslua_conn *before_handshake(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  if (c->ssl == NULL || c->state == SSLUA_CONN_CLOSED) {
    sslua_fail_false(L, "closed");
    return NULL;
  }
  if (c->state != SSLUA_CONN_NEW || !SSL_in_before(c->ssl)) {
    sslua_fail_false(L, "handshake already started");
    return NULL;
  }
  return c;
}

/* conn:setdane(basedomain) -> true | false, message */
static int conn_setdane(lua_State *L)
{
  sslua_conn *c = before_handshake(L);

  if (c == NULL)
    return 2;
  if (lua_type(L, 2) != LUA_TSTRING)
    return sslua_fail_false(L, "invalid DANE base domain (string expected, got %s)",
                      luaL_typename(L, 2));
  sslua_err_clear();
  if (SSL_dane_enable(c->ssl, lua_tostring(L, 2)) <= 0) {
    char why[REASON_LEN];
    return sslua_fail_false(L, "%s", sslua_err_reason(why, sizeof(why), "error enabling DANE"));
  }
  return sslua_ok(L);
}

/* The reason of the NEWEST queued error, then an empty queue: for a bad
 * record OpenSSL queues the low-level cause first (e.g. ASN.1 "too long"
 * for matching type 0 data that is no DER key) and its own verdict ("dane
 * tlsa bad public key") last; the verdict is the useful text. */
static const char *last_reason(char *buf, size_t len, const char *fallback)
{
  unsigned long code = ERR_peek_last_error();
  const char *reason = code ? ERR_reason_error_string(code) : NULL;
  if (code == 0 || reason == NULL)
    return sslua_err_reason(buf, len, fallback);
  snprintf(buf, len, "%s", reason);
  ERR_clear_error();
  return buf;
}

/* One TLSA field: a whole number 0-255 at idx (3.0 counts), or -1. */
static int tlsa_field(lua_State *L, int idx)
{
  lua_Number v;
  if (lua_type(L, idx) != LUA_TNUMBER)
    return -1;
  v = lua_tonumber(L, idx);
  if (!(v >= 0 && v <= 255) || v != (lua_Number)(int)v)
    return -1;
  return (int)v;
}

/* conn:settlsa(usage, selector, mtype, data) -> true | false, message
 * data: the raw association data (a digest, or the DER certificate or
 * public key for matching type 0), not hex. */
static int conn_settlsa(lua_State *L)
{
  static const char *const names[] = { "usage", "selector", "matching type" };
  sslua_conn *c = before_handshake(L);
  int field[3], i, rc;
  const char *data;
  size_t len;

  if (c == NULL)
    return 2;
  for (i = 0; i < 3; i++) {
    if ((field[i] = tlsa_field(L, i + 2)) < 0)
      return sslua_fail_false(L, "invalid TLSA %s (%s)", names[i], sslua_describe(L, i + 2));
  }
  if (lua_type(L, 5) != LUA_TSTRING)
    return sslua_fail_false(L, "invalid TLSA data (string expected, got %s)", luaL_typename(L, 5));
  data = lua_tolstring(L, 5, &len);
  sslua_err_clear();
  rc = SSL_dane_tlsa_add(c->ssl, (uint8_t)field[0], (uint8_t)field[1], (uint8_t)field[2],
                         (const unsigned char *)data, len);
  if (rc <= 0) {   /* 0: record unusable (e.g. wrong digest length), < 0: error */
    char why[REASON_LEN];
    return sslua_fail_false(L, "%s", last_reason(why, sizeof(why), "unusable TLSA record"));
  }
  return sslua_ok(L);
}

static const luaL_Reg context_functions[] = {
  { "setdane", ctx_setdane },
  { NULL, NULL }
};

static const luaL_Reg methods[] = {
  { "setdane", conn_setdane },
  { "settlsa", conn_settlsa },
  { NULL, NULL }
};

const sslua_feature sslua_dane_feature = {
  .name = "dane",
  .context_functions = context_functions,
  .methods = methods,
};
