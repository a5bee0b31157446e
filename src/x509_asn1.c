/*
 * x509_asn1.c - ASN.1 values (names, strings, integers, bytes) turned into
 * Lua values, and the two table helpers the certificate tables are built
 * with, and pushing what OpenSSL allocated without losing it when Lua
 * runs out of memory. Shared by x509.c and x509_ext.c (and session.c).
 */
#include <string.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "x509_asn1.h"

void sslua_push_hex(lua_State *L, const unsigned char *p, size_t n,
                    const char *digits)
{
  luaL_Buffer b;
  size_t i;

  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    luaL_addchar(&b, digits[p[i] >> 4]);
    luaL_addchar(&b, digits[p[i] & 15]);
  }
  luaL_pushresult(&b);
}

/* Numeric OID text (numeric != 0) or OpenSSL's long name for obj; a name
 * longer than the stack buffer is fetched again into one that fits. */
static void push_object_text(lua_State *L, const ASN1_OBJECT *obj, int numeric)
{
  char small[128];
  char *big;
  int n = OBJ_obj2txt(small, sizeof small, obj, numeric);

  if (n < 0)
    n = 0;
  if ((size_t)n < sizeof small) {
    lua_pushlstring(L, small, (size_t)n);
    return;
  }
  big = OPENSSL_malloc((size_t)n + 1);
  if (big == NULL) {
    lua_pushstring(L, small);
    return;
  }
  OBJ_obj2txt(big, n + 1, obj, numeric);
  sslua_push_freed(L, big, (size_t)n);
}

void sslua_push_oid(lua_State *L, const ASN1_OBJECT *obj)
{
  push_object_text(L, obj, 1);
}

void sslua_push_object_long_name(lua_State *L, const ASN1_OBJECT *obj)
{
  push_object_text(L, obj, 0);
}

void sslua_push_object_short_name(lua_State *L, const ASN1_OBJECT *obj)
{
  int nid = OBJ_obj2nid(obj);

  if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
    lua_pushstring(L, OBJ_nid2sn(nid));
  else
    sslua_push_oid(L, obj);
}

void sslua_push_asn1_string(lua_State *L, const ASN1_STRING *s, int enc)
{
  if (enc == SSLUA_ENC_UTF8) {
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n >= 0) {
      sslua_push_freed(L, utf8, (size_t)n);
      return;
    }
    ERR_clear_error();
  }
  lua_pushlstring(L, (const char *)ASN1_STRING_get0_data(s),
                  (size_t)ASN1_STRING_length(s));
}

int sslua_push_asn1_integer_hex(lua_State *L, const ASN1_INTEGER *i)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN(i, NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;

  BN_free(bn);
  if (hex == NULL)
    return 0;
  sslua_push_freed(L, hex, strlen(hex));
  return 1;
}

/* Protected: copies the bytes at argument 1 (length: argument 2). */
static int push_copy(lua_State *L)
{
  lua_pushlstring(L, (const char *)lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
  return 1;
}

/* Pushes a copy of data; 0 when that raised, with the error pushed:
 * the caller frees what it holds, then raises it again. */
static int push_copy_protected(lua_State *L, const void *data, size_t len)
{
  lua_pushcfunction(L, push_copy);
  lua_pushlightuserdata(L, (void *)data);
  lua_pushinteger(L, (lua_Integer)len);
  return lua_pcall(L, 2, 1, 0) == 0;
}

void sslua_push_freed(lua_State *L, void *data, size_t len)
{
  int ok = push_copy_protected(L, data, len);
  OPENSSL_free(data);
  if (!ok)
    lua_error(L);
}

int sslua_push_bio_text(lua_State *L, BIO *bio)
{
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);
  int ok = push_copy_protected(L, data ? data : "", n > 0 ? (size_t)n : 0);

  BIO_free(bio);
  if (!ok)
    lua_error(L);
  return 1;
}

void sslua_table_append(lua_State *L)
{
  lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
}

void sslua_key_to_subtable(lua_State *L)
{
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_istable(L, -1)) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_insert(L, -3);
  lua_rawset(L, -4);
}

void sslua_push_subtable(lua_State *L, const char *key)
{
  lua_pushstring(L, key);
  sslua_key_to_subtable(L);
}
