/*
 * inspect.c - questions about an established connection: what the
 * handshake negotiated (info), the certificates on each side, the
 * verification result, Finished messages and exported keying material.
 *
 * Every method answers `nil, "closed"` (getpeerverification: `false,
 * "closed"`) unless the handshake is done, so no state reaches a freed or
 * half-built SSL.
 */
#include <limits.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "connection.h"
#include "inspect.h"
#include "verify.h"
#include "x509.h"

/* The connection at 1 if its handshake is done, else NULL. */
static sslua_conn *connected(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  return c->state == SSLUA_CONN_CONNECTED ? c : NULL;
}

/* Copies the value after `key=` in a description line into the table. */
static void set_description_field(lua_State *L, const char *desc,
                                  const char *key, const char *field)
{
  const char *p = strstr(desc, key);
  size_t len;
  if (p == NULL)
    return;
  p += strlen(key);
  len = strcspn(p, " \n");
  lua_pushlstring(L, p, len);
  lua_setfield(L, -2, field);
}

/* The key exchange group by its TLS name (x25519, secp256r1, ffdhe2048,
 * X25519MLKEM768, ...); absent when none was used (RSA key transport). */
static void push_group(lua_State *L, SSL *ssl)
{
#if OPENSSL_VERSION_NUMBER >= 0x30200000L
  const char *name = SSL_get0_group_name(ssl);
#else
  int nid = SSL_get_negotiated_group(ssl);
  const char *name = nid != 0 ? SSL_group_to_name(ssl, nid) : NULL;
#endif
  if (name != NULL) {
    lua_pushstring(L, name);
    lua_setfield(L, -2, "group");
  }
  ERR_clear_error();
}

/* The key exchange, authentication, encryption and MAC come from the
 * cipher's description line ("Kx=ECDH Au=RSA Enc=AESGCM(256) Mac=AEAD"),
 * as in LuaSec, so the texts match what users already see. */
static void push_info(lua_State *L, SSL *ssl)
{
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  char desc[256] = "";
  int alg_bits = 0, bits;

  lua_newtable(L);
  lua_pushstring(L, SSL_get_version(ssl));
  lua_setfield(L, -2, "protocol");
  if (cipher == NULL)
    return;
  SSL_CIPHER_description(cipher, desc, (int)sizeof(desc));
  bits = SSL_CIPHER_get_bits(cipher, &alg_bits);
  lua_pushstring(L, SSL_CIPHER_get_name(cipher));
  lua_setfield(L, -2, "cipher");
  /* Numbers, not integers, as LuaSec pushes them (256.0 on Lua 5.3+). */
  lua_pushnumber(L, (lua_Number)bits);
  lua_setfield(L, -2, "bits");
  lua_pushnumber(L, (lua_Number)alg_bits);
  lua_setfield(L, -2, "algbits");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "export");
  set_description_field(L, desc, "Kx=", "key");
  set_description_field(L, desc, "Au=", "authentication");
  set_description_field(L, desc, "Enc=", "encryption");
  set_description_field(L, desc, "Mac=", "mac");
  /* compression stays nil: OpenSSL 3 never negotiates it. */
  push_group(L, ssl);
}

static int conn_info(lua_State *L)
{
  sslua_conn *c = connected(L);
  int field = !lua_isnoneornil(L, 2);
  if (c == NULL)
    return sslua_fail(L, "closed");
  lua_settop(L, 2);
  push_info(L, c->ssl);
  if (field) {
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* certificates                                                        */

/* One view of a chain for both roles: leaf first, then the rest. OpenSSL
 * includes the leaf in the peer chain only on the client side. */
typedef struct {
  X509 *leaf;
  STACK_OF(X509) *rest;
  int skip;           /* entries of `rest` to skip (a leaf already counted) */
} chain_view;

static int chain_length(const chain_view *v)
{
  int rest = v->rest ? sk_X509_num(v->rest) - v->skip : 0;
  if (v->leaf == NULL)
    return 0;
  return 1 + (rest > 0 ? rest : 0);
}

static X509 *chain_at(const chain_view *v, int i)   /* 0-based */
{
  if (i < 0 || i >= chain_length(v))
    return NULL;
  return i == 0 ? v->leaf : sk_X509_value(v->rest, i - 1 + v->skip);
}

static void peer_view(SSL *ssl, chain_view *v)
{
  v->leaf = SSL_get0_peer_certificate(ssl);
  v->rest = SSL_get_peer_cert_chain(ssl);
  v->skip = (!SSL_is_server(ssl) && v->rest && sk_X509_num(v->rest) > 0) ? 1 : 0;
}

static void local_view(SSL *ssl, chain_view *v)
{
  v->leaf = SSL_get_certificate(ssl);
  v->rest = NULL;
  v->skip = 0;
  if (v->leaf != NULL)
    SSL_get0_chain_certs(ssl, &v->rest);
}

typedef void (*view_fn)(SSL *, chain_view *);

/* conn:getpeercertificate([n]) / conn:getlocalcertificate([n]) */
static int certificate_at(lua_State *L, view_fn view)
{
  sslua_conn *c = connected(L);
  lua_Integer n = luaL_optinteger(L, 2, 1);
  chain_view v;
  X509 *cert;

  if (c == NULL)
    return sslua_fail(L, "closed");
  if (n < 1)
    return sslua_fail(L, "invalid certificate index");
  view(c->ssl, &v);
  cert = n <= INT_MAX ? chain_at(&v, (int)(n - 1)) : NULL;
  if (cert == NULL)
    return sslua_fail(L, "no certificate at index %d", (int)(n > INT_MAX ? INT_MAX : n));
  sslua_x509_push(L, cert);
  return 1;
}

/* conn:getpeerchain() / conn:getlocalchain(): {} when there is none. */
static int whole_chain(lua_State *L, view_fn view)
{
  sslua_conn *c = connected(L);
  chain_view v;
  int i, n;

  if (c == NULL)
    return sslua_fail(L, "closed");
  view(c->ssl, &v);
  n = chain_length(&v);
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    sslua_x509_push(L, chain_at(&v, i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int conn_getpeercertificate(lua_State *L)  { return certificate_at(L, peer_view); }
static int conn_getlocalcertificate(lua_State *L) { return certificate_at(L, local_view); }
static int conn_getpeerchain(lua_State *L)        { return whole_chain(L, peer_view); }
static int conn_getlocalchain(lua_State *L)       { return whole_chain(L, local_view); }

/* conn:getpeerverification() -> true | false, reason | false, {per depth}.
 * After a failed handshake too (until close), so the reason can be read. */
static int conn_getpeerverification(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  long result;

  if (c->ssl == NULL || (c->state != SSLUA_CONN_CONNECTED && c->state != SSLUA_CONN_FAILED))
    return sslua_fail_false(L, "closed");
  if (sslua_verify_push_errors(L, c)) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  result = SSL_get_verify_result(c->ssl);
  if (result == X509_V_OK && c->state == SSLUA_CONN_FAILED)
    return sslua_fail_false(L, "%s", sslua_conn_failure_message(c));   /* failed before verifying */
  if (result == X509_V_OK)
    return sslua_ok(L);
  lua_pushboolean(L, 0);
  lua_pushstring(L, X509_verify_cert_error_string(result));
  return 2;
}

/* ------------------------------------------------------------------ */
/* Finished messages and exporters                                     */

typedef size_t (*finished_fn)(const SSL *, void *, size_t);

static int finished(lua_State *L, finished_fn get)
{
  sslua_conn *c = connected(L);
  unsigned char buf[EVP_MAX_MD_SIZE];
  size_t len;

  if (c == NULL)
    return sslua_fail(L, "closed");
  len = get(c->ssl, buf, sizeof(buf));
  if (len == 0)
    return sslua_fail(L, "no finished message");
  lua_pushlstring(L, (const char *)buf, len > sizeof(buf) ? sizeof(buf) : len);
  return 1;
}

static int conn_getfinished(lua_State *L)     { return finished(L, SSL_get_finished); }
static int conn_getpeerfinished(lua_State *L) { return finished(L, SSL_get_peer_finished); }

#define EXPORT_MAX 65536

/* conn:exportkeyingmaterial(label, length [, context]) (RFC 5705/8446) */
static int conn_exportkeyingmaterial(lua_State *L)
{
  sslua_conn *c = connected(L);
  size_t label_len, context_len = 0;
  const char *label = luaL_checklstring(L, 2, &label_len);
  lua_Integer len = luaL_checkinteger(L, 3);
  const char *context = luaL_optlstring(L, 4, NULL, &context_len);
  unsigned char *out;
  int ok;

  if (c == NULL)
    return sslua_fail(L, "closed");
  if (len <= 0 || len > EXPORT_MAX)
    return sslua_fail(L, "invalid keying material length (%d)", (int)(len > EXPORT_MAX ? EXPORT_MAX + 1 : len));
  out = (unsigned char *)lua_newuserdata(L, (size_t)len);
  ERR_clear_error();
  ok = SSL_export_keying_material(c->ssl, out, (size_t)len, label, label_len,
                                  (const unsigned char *)context, context_len,
                                  context != NULL);
  ERR_clear_error();
  if (ok != 1)
    return sslua_fail(L, "error exporting keying material");
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

static const luaL_Reg methods[] = {
  { "exportkeyingmaterial", conn_exportkeyingmaterial },
  { "getfinished",          conn_getfinished },
  { "getlocalcertificate",  conn_getlocalcertificate },
  { "getlocalchain",        conn_getlocalchain },
  { "getpeercertificate",   conn_getpeercertificate },
  { "getpeerchain",         conn_getpeerchain },
  { "getpeerfinished",      conn_getpeerfinished },
  { "getpeerverification",  conn_getpeerverification },
  { "info",                 conn_info },
  { NULL, NULL }
};

const sslua_feature sslua_inspect_feature = {
  .name = "inspect",
  .methods = methods,
};
