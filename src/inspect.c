/*
 * inspect.c - conn:info([field]): what the handshake negotiated.
 *
 * The key exchange, authentication, encryption and MAC come from the
 * cipher's OpenSSL description line ("Kx=ECDH Au=RSA Enc=AESGCM(256)
 * Mac=AEAD"), as in LuaSec, so the texts match what users already see.
 */
#include <string.h>
#include <openssl/ssl.h>

#include "connection.h"
#include "inspect.h"

/* The connection at 1 if its handshake is done, else NULL. */
static sslua_conn *connected(lua_State *L)
{
  sslua_conn *c = sslua_conn_check(L, 1);
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
  lua_pushinteger(L, bits);
  lua_setfield(L, -2, "bits");
  lua_pushinteger(L, alg_bits);
  lua_setfield(L, -2, "algbits");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "export");
  set_description_field(L, desc, "Kx=", "key");
  set_description_field(L, desc, "Au=", "authentication");
  set_description_field(L, desc, "Enc=", "encryption");
  set_description_field(L, desc, "Mac=", "mac");
  /* compression stays nil: OpenSSL 3 never negotiates it. */
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

const luaL_Reg sslua_inspect_methods[] = {
  { "info", conn_info },
  { NULL, NULL }
};
