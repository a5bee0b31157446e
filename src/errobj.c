/*
 * errobj.c - error objects: { kind, reason, message, ... } with
 * __tostring = the message these calls return today, and __eq comparing
 * messages. Lua only runs __eq between two tables, so `err == "closed"`
 * is false with objects (hence opt-in); `tostring(err) == "closed"` works
 * with both shapes.
 *
 *   kind          "closed" | "timeout" | "eof" | "tls" | "verify" | "system"
 *   reason        OpenSSL's reason text, strerror() text, or the message
 *   message       exactly the string returned without error objects
 *   want          "read" | "write"                      (timeout)
 *   openssl_code  ERR_get_error() value                 (tls, verify)
 *   verify_code   X509_V_ERR_* of the peer's chain      (verify)
 *   depth         chain depth of that error, when known (verify, client)
 *   errno         the socket error number               (system)
 */
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "context.h"
#include "errobj.h"
#include "feature.h"

#define ERROR_META "sslua.error"

static int errobj_index = -1;   /* SSL_CTX ex_data: non-NULL when on */

static void push_error_meta(lua_State *L);

int sslua_errobj_enabled(const SSL_CTX *ctx)
{
  return SSL_CTX_get_ex_data(ctx, errobj_index) != NULL;
}

/* context.seterrorobjects(ctx, on) */
static int ctx_seterrorobjects(lua_State *L)
{
  static char on_marker;
  sslua_context *c = sslua_context_check(L, 1);

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TBOOLEAN)
    return sslua_fail_false(L, "invalid errorobjects parameter (boolean expected, got %s)",
                            luaL_typename(L, 2));
  if (!SSL_CTX_set_ex_data(c->ctx, errobj_index, lua_toboolean(L, 2) ? &on_marker : NULL))
    return sslua_fail_false(L, "out of memory");
  return sslua_ok(L);
}

static int errobj_init(void)
{
  errobj_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  return errobj_index >= 0;
}

/* context.errorobject(t) -> t as an error object (newcontext's failures,
 * built in ssl.lua); t.message must be a string. */
static int ctx_errorobject(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "message");
  luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 1, "message string expected");
  lua_settop(L, 1);
  push_error_meta(L);
  lua_setmetatable(L, 1);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "errorobject",     ctx_errorobject },
  { "seterrorobjects", ctx_seterrorobjects },
  { NULL, NULL }
};

const sslua_feature sslua_errobj_feature = {
  .name = "errorobjects",
  .context_functions = context_functions,
  .init = errobj_init,
};

/* ------------------------------------------------------------------ */
/* the objects                                                         */

static int error_tostring(lua_State *L)
{
  lua_getfield(L, 1, "message");
  if (lua_type(L, -1) != LUA_TSTRING)
    lua_pushliteral(L, "unknown error");
  return 1;
}

static int error_eq(lua_State *L)
{
  lua_getfield(L, 1, "message");
  lua_getfield(L, 2, "message");
  lua_pushboolean(L, lua_rawequal(L, -1, -2));
  return 1;
}

static const luaL_Reg error_meta[] = {
  { "__tostring", error_tostring },
  { "__eq",       error_eq },
  { NULL, NULL }
};

static void push_error_meta(lua_State *L)
{
  if (luaL_newmetatable(L, ERROR_META))
    luaL_setfuncs(L, error_meta, 0);
}

static void set_string(lua_State *L, const char *field, const char *value)
{
  lua_pushstring(L, value);
  lua_setfield(L, -2, field);
}

static void set_integer(lua_State *L, const char *field, lua_Integer value)
{
  lua_pushinteger(L, value);
  lua_setfield(L, -2, field);
}

/* OpenSSL reasons that, on the first record, mean the peer is not
 * speaking TLS at all: a plain-TCP service, or the wrong port. */
static const int not_tls_reasons[] = {
  SSL_R_WRONG_VERSION_NUMBER,
  SSL_R_HTTP_REQUEST,
  SSL_R_HTTPS_PROXY_REQUEST,
  SSL_R_PACKET_LENGTH_TOO_LONG,
  SSL_R_UNKNOWN_PROTOCOL,
  0
};

static int is_not_tls(unsigned long code)
{
  int i;
  if (ERR_GET_LIB(code) != ERR_LIB_SSL)
    return 0;
  for (i = 0; not_tls_reasons[i] != 0; i++)
    if (ERR_GET_REASON(code) == not_tls_reasons[i])
      return 1;
  return 0;
}

static void fill_tls(lua_State *L, const sslua_failure *f, const char *msg)
{
  unsigned long code = f->code;
  const char *reason = code ? ERR_reason_error_string(code) : NULL;
  int verify = sslua_failure_is_verify(f);

  set_string(L, "kind", verify ? "verify" : "tls");
  /* A verification failure's reason is the verify error itself. */
  if (verify && f->verify_code != X509_V_OK)
    reason = X509_verify_cert_error_string(f->verify_code);
  set_string(L, "reason", reason ? reason : msg);
  if (code)
    set_integer(L, "openssl_code", (lua_Integer)code);
  if (verify) {
    set_integer(L, "verify_code", (lua_Integer)f->verify_code);
    if (f->depth >= 0)
      set_integer(L, "depth", f->depth);
  }
  if (f->first_record && is_not_tls(code))
    set_string(L, "hint", "peer does not speak TLS (plain TCP or wrong port?)");
}

/* Fills the table on top for message `msg`. The fixed texts say what
 * happened by themselves; anything else is the fatal error recorded in
 * the failure record (written once, when the stream broke for good). */
static void fill(lua_State *L, const sslua_failure *f, const char *msg)
{
  set_string(L, "message", msg);
  if (strcmp(msg, "closed") == 0 || strcmp(msg, "unexpected eof while reading") == 0) {
    set_string(L, "kind", msg[0] == 'c' ? "closed" : "eof");
    set_string(L, "reason", msg);
  } else if (strcmp(msg, "wantread") == 0 || strcmp(msg, "wantwrite") == 0) {
    set_string(L, "kind", "timeout");
    set_string(L, "reason", msg);
    set_string(L, "want", msg + 4);
  } else if (f->kind == SSLUA_FAIL_SYSTEM) {
    set_string(L, "kind", "system");
    set_string(L, "reason", msg);
    set_integer(L, "errno", f->sys_errno);
  } else {
    fill_tls(L, f, msg);
  }
}

int sslua_errobj_wrap(lua_State *L, int enabled, const sslua_failure *f, int nret)
{
  int idx = lua_gettop(L) - nret + 2;
  if (!enabled || nret < 2 || lua_type(L, idx) != LUA_TSTRING)
    return nret;
  lua_createtable(L, 0, 8);
  fill(L, f, lua_tostring(L, idx));
  push_error_meta(L);
  lua_setmetatable(L, -2);
  lua_replace(L, idx);
  return nret;
}
