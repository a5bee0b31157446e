/*
 * credentials.c - what newcontext loads from memory instead of files.
 *
 *   context.loadkeydata(ctx, pem_or_der [, password])
 *   context.loadcertdata(ctx, pem_chain | der | x509)   leaf first
 *   context.loadcadata(ctx, pem_bundle | der | x509)     trust anchors (+ CRLs)
 *   context.loadsystemca(ctx)                            OpenSSL's default paths
 *   context.loadpkcs12(ctx, path_or_bytes, password, in_memory)
 *
 * Each returns true or false plus LuaSec's message template, with the
 * reason from a cleared error queue and "memory" where a file name would
 * be. Whether a string is a path or data is decided in ssl.lua (an
 * existing path always wins), so these functions take data only, except
 * loadpkcs12, which reads a path itself when told it is one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "context.h"
#include "credentials.h"
#include "error.h"
#include "x509.h"

#define REASON_LEN 256

static int is_pem(const char *data, size_t len)
{
  static const char tag[] = "-----BEGIN";
  size_t n = sizeof(tag) - 1, i;
  for (i = 0; i + n <= len; i++)
    if (memcmp(data + i, tag, n) == 0)
      return 1;
  return 0;
}

/* The context at 1 (open) and a memory BIO over the string at 2; NULL
 * after pushing `false, message`. */
static BIO *data_arg(lua_State *L, sslua_context **c, const char *what, int *pem)
{
  size_t len;
  const char *data;
  BIO *bio;

  *c = sslua_context_check(L, 1);
  if ((*c)->ctx == NULL) {
    sslua_fail_false(L, "closed");
    return NULL;
  }
  if (lua_type(L, 2) != LUA_TSTRING) {
    sslua_fail_false(L, "error loading %s (memory: string or x509 expected, got %s)",
                     what, luaL_typename(L, 2));
    return NULL;
  }
  data = lua_tolstring(L, 2, &len);
  *pem = is_pem(data, len);
  sslua_err_clear();
  if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
    sslua_fail_false(L, "error loading %s (memory: not enough memory)", what);
  return bio;
}

static int fail_reason(lua_State *L, const char *what, const char *fallback)
{
  char why[REASON_LEN];
  return sslua_fail_false(L, "error loading %s (memory: %s)", what,
                          sslua_err_reason(why, sizeof(why), fallback));
}

/* ------------------------------------------------------------------ */
/* private key                                                         */

/* PEM or DER, plain or encrypted (PKCS#8), any key type OpenSSL knows. */
static EVP_PKEY *decode_key(BIO *bio, sslua_password *src)
{
  EVP_PKEY *key = NULL;
  OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&key, NULL, NULL, NULL,
                                                         EVP_PKEY_KEYPAIR, NULL, NULL);
  if (dctx == NULL)
    return NULL;
  OSSL_DECODER_CTX_set_pem_password_cb(dctx, sslua_password_cb, src);
  if (OSSL_DECODER_from_bio(dctx, bio) != 1) {
    EVP_PKEY_free(key);
    key = NULL;
  }
  OSSL_DECODER_CTX_free(dctx);
  return key;
}

static int ctx_loadkeydata(lua_State *L)
{
  sslua_context *c;
  sslua_password src;
  EVP_PKEY *key;
  int pem, ok;
  BIO *bio = data_arg(L, &c, "private key", &pem);

  if (bio == NULL)
    return 2;
  memset(&src, 0, sizeof(src));
  src.L = L;
  if (lua_type(L, 3) == LUA_TSTRING || lua_type(L, 3) == LUA_TFUNCTION)
    src.index = 3;
  else if (!lua_isnoneornil(L, 3)) {
    BIO_free(bio);
    return sslua_fail_false(L, "invalid password type");
  }
  key = decode_key(bio, &src);
  BIO_free(bio);
  if (c->ctx == NULL) {            /* the password function closed it */
    EVP_PKEY_free(key);
    return sslua_fail_false(L, "closed");
  }
  if (key == NULL && src.error[0] != '\0') {
    ERR_clear_error();
    return sslua_fail_false(L, "error loading private key (memory: %s)", src.error);
  }
  if (key == NULL)
    return fail_reason(L, "private key", "no private key found");
  ok = SSL_CTX_use_PrivateKey(c->ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1)
    return fail_reason(L, "private key", "unusable key");
  lua_pushboolean(L, 1);
  return 1;
}

/* ------------------------------------------------------------------ */
/* certificate chain                                                   */

/* The leaf, then (PEM only) the chain certificates that follow it. */
static int use_chain(SSL_CTX *ctx, BIO *bio, int pem)
{
  X509 *cert = pem ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) : d2i_X509_bio(bio, NULL);
  int ok = cert != NULL && SSL_CTX_use_certificate(ctx, cert) == 1 &&
           SSL_CTX_clear_chain_certs(ctx) == 1;

  X509_free(cert);
  while (ok && pem && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    ok = SSL_CTX_add0_chain_cert(ctx, cert) == 1;
    if (!ok)
      X509_free(cert);
  }
  if (ok)
    ERR_clear_error();   /* the end of the PEM data, not an error */
  return ok;
}

static int ctx_loadcertdata(lua_State *L)
{
  X509 *obj = sslua_x509_test(L, 2);
  sslua_context *c;
  int pem, ok;
  BIO *bio;

  if (obj != NULL) {
    c = sslua_context_check(L, 1);
    if (c->ctx == NULL)
      return sslua_fail_false(L, "closed");
    sslua_err_clear();
    ok = SSL_CTX_use_certificate(c->ctx, obj) == 1 && SSL_CTX_clear_chain_certs(c->ctx) == 1;
  } else {
    if ((bio = data_arg(L, &c, "certificate", &pem)) == NULL)
      return 2;
    ok = use_chain(c->ctx, bio, pem);
    BIO_free(bio);
  }
  if (!ok)
    return fail_reason(L, "certificate", "no certificate found");
  lua_pushboolean(L, 1);
  return 1;
}

/* ------------------------------------------------------------------ */
/* trust                                                               */

/* Adds every certificate and CRL of a PEM bundle; returns how many. */
static int add_pem_bundle(X509_STORE *store, BIO *bio)
{
  STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
  int i, added = 0;

  for (i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
    X509_INFO *info = sk_X509_INFO_value(infos, i);
    if (info->x509 != NULL && X509_STORE_add_cert(store, info->x509) == 1)
      added++;
    if (info->crl != NULL && X509_STORE_add_crl(store, info->crl) == 1)
      added++;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  return added;
}

static int add_der(X509_STORE *store, BIO *bio)
{
  X509 *cert = d2i_X509_bio(bio, NULL);
  int ok = cert != NULL && X509_STORE_add_cert(store, cert) == 1;
  X509_free(cert);
  return ok;
}

static int ctx_loadcadata(lua_State *L)
{
  X509 *obj = sslua_x509_test(L, 2);
  sslua_context *c;
  int pem, ok;
  BIO *bio;

  if (obj != NULL) {
    c = sslua_context_check(L, 1);
    if (c->ctx == NULL)
      return sslua_fail_false(L, "closed");
    sslua_err_clear();
    ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx), obj) == 1;
  } else {
    if ((bio = data_arg(L, &c, "CA locations", &pem)) == NULL)
      return 2;
    ok = pem ? add_pem_bundle(SSL_CTX_get_cert_store(c->ctx), bio) > 0
             : add_der(SSL_CTX_get_cert_store(c->ctx), bio);
    BIO_free(bio);
  }
  if (!ok)
    return fail_reason(L, "CA locations", "no certificate found");
  ERR_clear_error();
  lua_pushboolean(L, 1);
  return 1;
}

/* cafile = "system": OpenSSL's default file and directory (on Debian
 * /usr/lib/ssl/cert.pem and /usr/lib/ssl/certs, i.e. /etc/ssl/certs),
 * or SSL_CERT_FILE / SSL_CERT_DIR when set. */
static int ctx_loadsystemca(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  char why[REASON_LEN];

  if (c->ctx == NULL)
    return sslua_fail_false(L, "closed");
  sslua_err_clear();
  if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
    return sslua_fail_false(L, "error loading CA locations (system: %s)",
                            sslua_err_reason(why, sizeof(why), "unusable store"));
  ERR_clear_error();
  lua_pushboolean(L, 1);
  return 1;
}

/* ------------------------------------------------------------------ */
/* PKCS#12                                                             */

/* The bundle at 2: read from the path, or the bytes themselves. */
static PKCS12 *read_pkcs12(lua_State *L, int in_memory, char *why, size_t len)
{
  const char *data = luaL_checkstring(L, 2);
  size_t size = lua_rawlen(L, 2);
  PKCS12 *p12;
  BIO *bio;

  errno = 0;
  bio = in_memory ? BIO_new_mem_buf(data, (int)size) : BIO_new_file(data, "rb");
  if (bio == NULL) {
    snprintf(why, len, "%s", in_memory ? "not enough memory" : strerror(errno ? errno : ENOENT));
    ERR_clear_error();
    return NULL;
  }
  p12 = d2i_PKCS12_bio(bio, NULL);
  BIO_free(bio);
  if (p12 == NULL)
    sslua_err_reason(why, len, "not a PKCS#12 bundle");
  return p12;
}

/* The password that opens the bundle into buf: empty when the bundle has
 * none, else the caller's (string or function at 3). NULL with `why`. */
static const char *unlock(lua_State *L, PKCS12 *p12, char *buf, int size, char *why, size_t len)
{
  sslua_password src;
  int n;

  if (!PKCS12_mac_present(p12) || PKCS12_verify_mac(p12, "", 0) == 1 ||
      PKCS12_verify_mac(p12, NULL, 0) == 1) {
    ERR_clear_error();
    buf[0] = '\0';
    return buf;
  }
  memset(&src, 0, sizeof(src));
  src.L = L;
  if (lua_type(L, 3) == LUA_TSTRING || lua_type(L, 3) == LUA_TFUNCTION)
    src.index = 3;
  if ((n = sslua_password_cb(buf, size - 1, 0, &src)) < 0) {
    snprintf(why, len, "%s", src.error);
    return NULL;
  }
  buf[n] = '\0';
  ERR_clear_error();
  if (PKCS12_verify_mac(p12, buf, n) != 1) {
    sslua_err_reason(why, len, "mac verify failure");
    return NULL;
  }
  return buf;
}

/* Leaf, key and the bundle's other certificates as the chain. */
static int use_bundle(SSL_CTX *ctx, PKCS12 *p12, const char *pass, char *why, size_t len)
{
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *chain = NULL;
  int ok = PKCS12_parse(p12, pass, &key, &cert, &chain) == 1;

  if (ok && (key == NULL || cert == NULL)) {
    snprintf(why, len, "%s", key == NULL ? "no private key found" : "no certificate found");
    ok = 0;
  } else if (!ok || SSL_CTX_use_cert_and_key(ctx, cert, key, chain, 1) != 1) {
    sslua_err_reason(why, len, "unusable bundle");
    ok = 0;
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(chain, X509_free);
  return ok;
}

static int ctx_loadpkcs12(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int in_memory = lua_toboolean(L, 4);
  const char *name = in_memory ? "memory" : luaL_checkstring(L, 2);
  char why[REASON_LEN], pass[1024];
  const char *pw = NULL;
  PKCS12 *p12;
  int ok = 0;

  if (c->ctx == NULL)
    return sslua_fail_false(L, "closed");
  if (!lua_isnoneornil(L, 3) && lua_type(L, 3) != LUA_TSTRING && lua_type(L, 3) != LUA_TFUNCTION)
    return sslua_fail_false(L, "invalid password type");
  sslua_err_clear();
  if ((p12 = read_pkcs12(L, in_memory, why, sizeof(why))) != NULL &&
      (pw = unlock(L, p12, pass, (int)sizeof(pass), why, sizeof(why))) != NULL)
    ok = c->ctx != NULL && use_bundle(c->ctx, p12, pw, why, sizeof(why));
  PKCS12_free(p12);
  OPENSSL_cleanse(pass, sizeof(pass));
  if (c->ctx == NULL)              /* the password function closed it */
    return sslua_fail_false(L, "closed");
  if (!ok)
    return sslua_fail_false(L, "error loading PKCS#12 (%s: %s)", name, why);
  lua_pushboolean(L, 1);
  return 1;
}

const luaL_Reg sslua_credentials_context_functions[] = {
  { "loadcadata",   ctx_loadcadata },
  { "loadcertdata", ctx_loadcertdata },
  { "loadkeydata",  ctx_loadkeydata },
  { "loadpkcs12",   ctx_loadpkcs12 },
  { "loadsystemca", ctx_loadsystemca },
  { NULL, NULL }
};
