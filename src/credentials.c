/*
 * credentials.c - keys, certificates and trust for a context: from files
 * (LuaSec's key, certificate, cafile, capath), from memory, from PKCS#12
 * bundles and from the system's CA store.
 *
 *   context.loadkey(ctx, path [, password])     PEM private key
 *   context.loadcert(ctx, path)                  PEM chain, leaf first
 *   context.checkkey(ctx)                        the key matches the leaf
 *   context.locations(ctx, cafile, capath)       trust anchors
 *   context.loadkeydata(ctx, pem_or_der [, password])
 *   context.loadcertdata(ctx, pem_chain | der | x509)   leaf first
 *   context.loadcadata(ctx, pem_bundle | der | x509)     trust anchors (+ CRLs)
 *   context.loadsystemca(ctx)                            OpenSSL's default paths
 *   context.loadpkcs12(ctx, path_or_bytes, password, in_memory)
 *
 * Each returns true, or false plus LuaSec's message "error loading <what>
 * (<reason>)" - the reason from a cleared error queue or strerror, alone
 * in the parentheses - and, for files, the path as a third value. The
 * *data functions take data only: whether a string is a path or data is
 * decided in ssl.lua (an existing path always wins); loadpkcs12 reads a
 * path itself when told it is one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "context.h"
#include "credentials.h"
#include "errors.h"
#include "x509.h"

#define REASON_LEN 256

/* `false, "error loading <what> (<reason>)", source`: LuaSec's message,
 * with OpenSSL's or strerror's reason alone in the parentheses (programs
 * such as Prosody parse it), and the file it came from as a third value
 * (absent for data in memory) for error objects. */
static int load_failed(lua_State *L, const char *what, const char *source, const char *reason)
{
  lua_pushboolean(L, 0);
  lua_pushfstring(L, "error loading %s (%s)", what, reason);
  if (source == NULL)
    return 2;
  lua_pushstring(L, source);
  return 3;
}

/* ------------------------------------------------------------------ */
/* passphrases                                                         */

/* A key's passphrase: the string or function the caller gave, held by a
 * closure at stack `index` of L (0: none, which fails with "password
 * required" rather than prompting on a terminal). On failure the reason
 * is left in `error`. */
typedef struct {
  lua_State *L;
  int        index;
  char       error[REASON_LEN];
  char      *buf;        /* where the protected call copies the passphrase */
  int        size;
  int        len;        /* its length, -1 on failure */
} password_source;

static int password_call(lua_State *L);

/* Takes the passphrase at index 3 (string or function), if any; 0 when
 * the value there is of another type. The closure that will produce it
 * is made here, where a Lua error may still be raised, and left on the
 * stack for password_cb. */
static int password_arg(lua_State *L, password_source *src)
{
  memset(src, 0, sizeof(*src));
  src->L = L;
  if (lua_type(L, 3) == LUA_TSTRING || lua_type(L, 3) == LUA_TFUNCTION) {
    luaL_checkstack(L, 4, "password");
    lua_pushvalue(L, 3);
    lua_pushcclosure(L, password_call, 1);
    src->index = lua_gettop(L);
  } else if (!lua_isnoneornil(L, 3)) {
    return 0;
  }
  return 1;
}

/* Protected: the string, or what the function returns. */
static int password_call(lua_State *L)
{
  password_source *src = (password_source *)lua_touserdata(L, 1);
  size_t len = 0;
  const char *pw;

  lua_pushvalue(L, lua_upvalueindex(1));
  if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) != 0) {
    snprintf(src->error, sizeof(src->error), "password callback failed: %s",
             lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error object)");
    return 0;
  }
  /* A non-string result is an empty passphrase, as in LuaSec. */
  pw = (lua_type(L, -1) == LUA_TSTRING) ? lua_tolstring(L, -1, &len) : "";
  if (len > (size_t)src->size)
    len = (size_t)src->size;
  memcpy(src->buf, pw, len);
  src->len = (int)len;
  return 0;
}

/* OpenSSL's pem_password_cb over a password_source. */
static int password_cb(char *buf, int size, int rwflag, void *u)
{
  password_source *src = (password_source *)u;

  (void)rwflag;
  if (src->index == 0) {
    snprintf(src->error, sizeof(src->error), "password required");
    return -1;
  }
  src->buf = buf;
  src->size = size;
  src->len = -1;
  if (!sslua_run_prepared(src->L, src->index, src))
    snprintf(src->error, sizeof(src->error), "not enough memory");
  return src->len;
}

/* ------------------------------------------------------------------ */
/* files                                                               */

/* Opens a file for reading, or leaves strerror text in `why`. */
static BIO *open_file(const char *path, char *why, size_t len)
{
  BIO *bio;
  errno = 0;
  bio = BIO_new_file(path, "r");
  if (bio == NULL) {
    snprintf(why, len, "%s", strerror(errno ? errno : ENOENT));
    ERR_clear_error();
  }
  return bio;
}

/* context.loadkey(ctx, file [, password]) */
static int ctx_loadkey(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  password_source src;
  char why[REASON_LEN];
  EVP_PKEY *key;
  BIO *bio;

  SSLUA_CHECK_OPEN(L, c);
  if (!password_arg(L, &src))
    return sslua_fail_false(L, "invalid password type");
  sslua_err_clear();
  if ((bio = open_file(path, why, sizeof(why))) == NULL)
    return load_failed(L, "private key", path, why);
  key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, &src);
  BIO_free(bio);
  if (c->ctx == NULL) {            /* the password function closed it */
    EVP_PKEY_free(key);
    return sslua_fail_false(L, "closed");
  }
  if (key == NULL) {
    if (src.error[0] == '\0')
      sslua_err_reason(src.error, sizeof(src.error), "no private key found");
    ERR_clear_error();
    return load_failed(L, "private key", path, src.error);
  }
  if (SSL_CTX_use_PrivateKey(c->ctx, key) != 1) {
    EVP_PKEY_free(key);
    return load_failed(L, "private key", path,
                       sslua_err_reason(why, sizeof(why), "unusable key"));
  }
  EVP_PKEY_free(key);
  return sslua_ok(L);
}

/* context.loadcert(ctx, file): a PEM chain, leaf first. */
static int ctx_loadcert(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  char why[REASON_LEN];
  BIO *bio;

  SSLUA_CHECK_OPEN(L, c);
  sslua_err_clear();
  if ((bio = open_file(path, why, sizeof(why))) == NULL)
    return load_failed(L, "certificate", path, why);
  BIO_free(bio);
  if (SSL_CTX_use_certificate_chain_file(c->ctx, path) != 1)
    return load_failed(L, "certificate", path,
                       sslua_err_reason(why, sizeof(why), "no certificate found"));
  return sslua_ok(L);
}

/* context.checkkey(ctx) -> boolean: the last identity's key matches. */
static int ctx_checkkey(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  int ok;
  SSLUA_CHECK_OPEN(L, c);
  ok = SSL_CTX_check_private_key(c->ctx) == 1;
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

/* context.locations(ctx, cafile, capath): a missing capath is an error,
 * where LuaSec (and OpenSSL) accepted it silently. */
static int ctx_locations(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  const char *cafile = luaL_optstring(L, 2, NULL);
  const char *capath = luaL_optstring(L, 3, NULL);
  char why[REASON_LEN];
  struct stat st;

  SSLUA_CHECK_OPEN(L, c);
  sslua_err_clear();
  if (cafile != NULL) {
    BIO *bio = open_file(cafile, why, sizeof(why));
    if (bio == NULL)
      return load_failed(L, "CA locations", cafile, why);
    BIO_free(bio);
    if (SSL_CTX_load_verify_locations(c->ctx, cafile, NULL) != 1)
      return load_failed(L, "CA locations", cafile,
                         sslua_err_reason(why, sizeof(why), "no certificate found"));
  }
  if (capath != NULL) {
    if (stat(capath, &st) != 0)
      return load_failed(L, "CA locations", capath, strerror(errno));
    if (!S_ISDIR(st.st_mode))
      return load_failed(L, "CA locations", capath, strerror(ENOTDIR));
    if (SSL_CTX_load_verify_locations(c->ctx, NULL, capath) != 1)
      return load_failed(L, "CA locations", capath,
                         sslua_err_reason(why, sizeof(why), "unusable directory"));
  }
  return sslua_ok(L);
}

/* ------------------------------------------------------------------ */
/* memory                                                              */

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
    sslua_fail_false(L, "closed");   /* SSLUA_CHECK_OPEN, for a pointer result */
    return NULL;
  }
  if (lua_type(L, 2) != LUA_TSTRING) {
    lua_pushboolean(L, 0);
    lua_pushfstring(L, "error loading %s (string or x509 expected, got %s)",
                    what, luaL_typename(L, 2));
    return NULL;
  }
  data = lua_tolstring(L, 2, &len);
  *pem = is_pem(data, len);
  sslua_err_clear();
  if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
    (void)load_failed(L, what, NULL, "not enough memory");
  return bio;
}

static int fail_reason(lua_State *L, const char *what, const char *fallback)
{
  char why[REASON_LEN];
  return load_failed(L, what, NULL, sslua_err_reason(why, sizeof(why), fallback));
}

/* ------------------------------------------------------------------ */
/* private key                                                         */

/* PEM or DER, plain or encrypted (PKCS#8), any key type OpenSSL knows. */
static EVP_PKEY *decode_key(BIO *bio, password_source *src)
{
  EVP_PKEY *key = NULL;
  OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&key, NULL, NULL, NULL,
                                                         EVP_PKEY_KEYPAIR, NULL, NULL);
  if (dctx == NULL)
    return NULL;
  OSSL_DECODER_CTX_set_pem_password_cb(dctx, password_cb, src);
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
  password_source src;
  EVP_PKEY *key;
  int pem, ok;
  BIO *bio = data_arg(L, &c, "private key", &pem);

  if (bio == NULL)
    return 2;
  if (!password_arg(L, &src)) {
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
    return load_failed(L, "private key", NULL, src.error);
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

static int use_leaf_object(SSL_CTX *ctx, X509 *cert)
{
  return SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_clear_chain_certs(ctx) == 1;
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

static int add_anchor_object(SSL_CTX *ctx, X509 *cert)
{
  return X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert) == 1;
}

static int add_anchor_data(SSL_CTX *ctx, BIO *bio, int pem)
{
  X509_STORE *store = SSL_CTX_get_cert_store(ctx);
  return pem ? add_pem_bundle(store, bio) > 0 : add_der(store, bio);
}

/* Certificates given as an x509 object or as PEM/DER data, and what to do
 * with each form. */
typedef struct {
  const char *what;                              /* for messages */
  int (*use_object)(SSL_CTX *ctx, X509 *cert);
  int (*use_data)(SSL_CTX *ctx, BIO *bio, int pem);
} cert_loader;

static int load_certificates(lua_State *L, const cert_loader *how)
{
  X509 *obj = sslua_x509_test(L, 2);
  sslua_context *c;
  int pem, ok;
  BIO *bio;

  if (obj != NULL) {
    c = sslua_context_check(L, 1);
    SSLUA_CHECK_OPEN(L, c);
    sslua_err_clear();
    ok = how->use_object(c->ctx, obj);
  } else {
    if ((bio = data_arg(L, &c, how->what, &pem)) == NULL)
      return 2;
    ok = how->use_data(c->ctx, bio, pem);
    BIO_free(bio);
  }
  if (!ok)
    return fail_reason(L, how->what, "no certificate found");
  ERR_clear_error();
  return sslua_ok(L);
}

/* context.loadcertdata(ctx, pem_chain | der | x509): leaf first */
static int ctx_loadcertdata(lua_State *L)
{
  static const cert_loader chain = { "certificate", use_leaf_object, use_chain };
  return load_certificates(L, &chain);
}

/* context.loadcadata(ctx, pem_bundle | der | x509): trust anchors, CRLs */
static int ctx_loadcadata(lua_State *L)
{
  static const cert_loader anchors = { "CA locations", add_anchor_object, add_anchor_data };
  return load_certificates(L, &anchors);
}

/* cafile = "system": OpenSSL's default file and directory (on Debian
 * /usr/lib/ssl/cert.pem and /usr/lib/ssl/certs, i.e. /etc/ssl/certs),
 * or SSL_CERT_FILE / SSL_CERT_DIR when set. */
static int ctx_loadsystemca(lua_State *L)
{
  sslua_context *c = sslua_context_check(L, 1);
  char why[REASON_LEN];

  SSLUA_CHECK_OPEN(L, c);
  sslua_err_clear();
  if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
    return load_failed(L, "CA locations", NULL,
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
  password_source src;
  int n;

  if (!PKCS12_mac_present(p12) || PKCS12_verify_mac(p12, "", 0) == 1 ||
      PKCS12_verify_mac(p12, NULL, 0) == 1) {
    ERR_clear_error();
    buf[0] = '\0';
    return buf;
  }
  (void)password_arg(L, &src);   /* its type was checked by the caller */
  if ((n = password_cb(buf, size - 1, 0, &src)) < 0) {
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

  SSLUA_CHECK_OPEN(L, c);
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
    return load_failed(L, "PKCS#12", in_memory ? NULL : name, why);
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg context_functions[] = {
  { "checkkey",     ctx_checkkey },
  { "loadcert",     ctx_loadcert },
  { "loadkey",      ctx_loadkey },
  { "locations",    ctx_locations },
  { "loadcadata",   ctx_loadcadata },
  { "loadcertdata", ctx_loadcertdata },
  { "loadkeydata",  ctx_loadkeydata },
  { "loadpkcs12",   ctx_loadpkcs12 },
  { "loadsystemca", ctx_loadsystemca },
  { NULL, NULL }
};

const sslua_feature sslua_credentials_feature = {
  .name = "credentials",
  .context_functions = context_functions,
};
