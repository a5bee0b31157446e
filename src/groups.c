/*
 * groups.c - the key exchange groups a context offers: DH parameters for
 * DHE cipher suites (dhparam) and the named groups for (EC)DHE and the
 * TLS 1.3 key share (curve, curveslist).
 *
 * Deliberate difference from LuaSec: LuaSec installs its
 * dhparam function with SSL_CTX_set_tmp_dh_callback and calls it during each
 * handshake. That callback is deprecated in OpenSSL 3 and has no
 * non-deprecated per-handshake replacement, so here the function is called
 * ONCE, protected, when the context is configured, with LuaSec's arguments
 * (is_export = false, keylength = 2048). Its PEM result becomes the
 * context's fixed DH parameters (SSL_CTX_set0_tmp_dh_pkey); nil keeps
 * OpenSSL's automatic choice (SSL_CTX_set_dh_auto, sized to the server's
 * key). The function is not kept: later handshakes never call Lua, so no
 * handshake state lives in the context, and no Lua error can unwind through
 * a handshake.
 *
 * `curve` takes one name, as in LuaSec, and also a colon list (LuaSec
 * rejects lists; its own curve-negotiation sample needs one). Both go to
 * SSL_CTX_set1_groups_list, so every group OpenSSL knows is accepted:
 * P-256/prime256v1, secp384r1, X25519, X448, ffdhe2048, ...
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "context.h"
#include "errors.h"
#include "groups.h"

#define REASON_LEN 256

/* LuaSec's historical arguments for the DH function. */
#define DH_KEYLENGTH 2048

/* Text of the Lua error object at the top of the stack (left in place). */
static const char *error_text(lua_State *L)
{
  int t = lua_type(L, -1);
  if (t == LUA_TSTRING || t == LUA_TNUMBER)
    return lua_tostring(L, -1);
  return lua_pushfstring(L, "(error object is a %s value)", lua_typename(L, t));
}

/* ------------------------------------------------------------------ */
/* dhparam                                                             */

/* PEM text -> DH parameters, or NULL with the reason in `why`. */
static EVP_PKEY *parse_dh(const char *pem, size_t len, char *why, size_t whylen)
{
  EVP_PKEY *pkey;
  BIO *bio;

  if (len > (size_t)0x7fffffff) {
    snprintf(why, whylen, "too long");
    return NULL;
  }
  sslua_err_clear();
  bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) {
    sslua_err_reason(why, whylen, "out of memory");
    return NULL;
  }
  pkey = PEM_read_bio_Parameters(bio, NULL);
  BIO_free(bio);
  if (pkey == NULL) {
    sslua_err_reason(why, whylen, "no DH parameters found");
    return NULL;
  }
  /* PEM_read_bio_Parameters also reads EC or DSA parameters. */
  if (!EVP_PKEY_is_a(pkey, "DH") && !EVP_PKEY_is_a(pkey, "DHX")) {
    snprintf(why, whylen, "not DH parameters (%s)", EVP_PKEY_get0_type_name(pkey));
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return NULL;
  }
  ERR_clear_error();
  return pkey;
}

/* context.setdhparam(ctx, fn) -> true | false, "invalid DH parameters (R)"
 * fn(false, 2048) -> PEM "DH PARAMETERS" string, or nil for automatic DH. */
static int ctx_setdhparam(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  char why[REASON_LEN];
  const char *pem;
  size_t len;
  EVP_PKEY *pkey;

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TFUNCTION)
    return sslua_fail_false(L, "invalid DH parameter type");
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  lua_pushboolean(L, 0);              /* is_export */
  lua_pushinteger(L, DH_KEYLENGTH);   /* keylength */
  if (lua_pcall(L, 2, 1, 0) != 0)
    return sslua_fail_false(L, "invalid DH parameters (%s)", error_text(L));
  if (c->ctx == NULL)                 /* the function closed the context */
    return sslua_fail_false(L, "closed");
  if (lua_isnil(L, -1)) {
    SSL_CTX_set_dh_auto(c->ctx, 1);
    return sslua_ok(L);
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    return sslua_fail_false(L, "invalid DH parameters (string expected, got %s)",
                      luaL_typename(L, -1));
  pem = lua_tolstring(L, -1, &len);
  if ((pkey = parse_dh(pem, len, why, sizeof(why))) == NULL)
    return sslua_fail_false(L, "invalid DH parameters (%s)", why);
  sslua_err_clear();
  /* Takes ownership only on success; refuses groups below the security
   * level (e.g. 1024 bits at Debian's level 2: "dh key too small"). */
  if (SSL_CTX_set0_tmp_dh_pkey(c->ctx, pkey) != 1) {
    EVP_PKEY_free(pkey);
    return sslua_fail_false(L, "invalid DH parameters (%s)",
                      sslua_err_reason(why, sizeof(why), "rejected"));
  }
  SSL_CTX_set_dh_auto(c->ctx, 0);
  return sslua_ok(L);
}

/* ------------------------------------------------------------------ */
/* curve, curveslist                                                   */

static int set_groups(SSL_CTX *ctx, const char *list)
{
  int ok;
  sslua_err_clear();
  ok = SSL_CTX_set1_groups_list(ctx, list) == 1;
  ERR_clear_error();
  return ok;
}

/* For a list OpenSSL refused: pushes its first element that OpenSSL does
 * not accept alone (tried on a scratch context, so the real one keeps its
 * groups), or the whole list when every element passes on its own (an
 * empty element, a duplicate). */
static void push_bad_group(lua_State *L, const char *list)
{
  SSL_CTX *scratch = SSL_CTX_new(TLS_method());
  const char *p = list;

  if (scratch != NULL) {
    for (;;) {
      size_t n = strcspn(p, ":");
      lua_pushlstring(L, p, n);
      if (n > 0 && !set_groups(scratch, lua_tostring(L, -1))) {
        SSL_CTX_free(scratch);
        return;
      }
      lua_pop(L, 1);
      if (p[n] == '\0')
        break;
      p += n + 1;
    }
    SSL_CTX_free(scratch);
  }
  ERR_clear_error();
  lua_pushstring(L, list);
}

/* context.setcurve(ctx, name-or-list)
 *   -> true | false, "elliptic curve 'X' not supported" */
static int ctx_setcurve(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *name;

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TSTRING)
    return sslua_fail_false(L, "elliptic curve '%s' not supported", sslua_describe(L, 2));
  name = lua_tostring(L, 2);
  if (!set_groups(c->ctx, name)) {
    if (strchr(name, ':') != NULL)
      push_bad_group(L, name);
    else
      lua_pushstring(L, name);
    return sslua_fail_false(L, "elliptic curve '%s' not supported", lua_tostring(L, -1));
  }
  return sslua_ok(L);
}

/* context.setcurveslist(ctx, list)
 *   -> true | false, 'unknown elliptic curve in "LIST"' */
static int ctx_setcurveslist(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);

  SSLUA_CHECK_OPEN(L, c);
  if (lua_type(L, 2) != LUA_TSTRING)
    return sslua_fail_false(L, "unknown elliptic curve in \"%s\"", sslua_describe(L, 2));
  if (!set_groups(c->ctx, lua_tostring(L, 2)))
    return sslua_fail_false(L, "unknown elliptic curve in \"%s\"", lua_tostring(L, 2));
  return sslua_ok(L);
}

static const luaL_Reg context_functions[] = {
  { "setdhparam",    ctx_setdhparam },
  { "setcurve",      ctx_setcurve },
  { "setcurveslist", ctx_setcurveslist },
  { NULL, NULL }
};

const sslua_feature sslua_groups_feature = {
  .name = "groups",
  .context_functions = context_functions,
};
