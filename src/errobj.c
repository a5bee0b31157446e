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

static const luaL_Reg context_functions[] = {
  { "seterrorobjects", ctx_seterrorobjects },
  { NULL, NULL }
};

const sslua_feature sslua_errobj_feature = {
  "errorobjects", context_functions, NULL, NULL, errobj_init, NULL, NULL, NULL
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

static void fill_tls(lua_State *L, const sslua_failure *f, const char *msg)
{
  unsigned long code = f->code;
  const char *reason = code ? ERR_reason_error_string(code) : NULL;
  int verify = ERR_GET_LIB(code) == ERR_LIB_SSL &&
               ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED;

  set_string(L, "kind", verify ? "verify" : "tls");
  set_string(L, "reason", reason ? reason : msg);
  if (code)
    set_integer(L, "openssl_code", (lua_Integer)code);
  if (verify) {
    set_integer(L, "verify_code", (lua_Integer)f->verify_code);
    if (f->depth >= 0)
      set_integer(L, "depth", f->depth);
  }
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
  if (luaL_newmetatable(L, ERROR_META))
    luaL_setfuncs(L, error_meta, 0);
  lua_setmetatable(L, -2);
  lua_replace(L, idx);
  return nret;
}
