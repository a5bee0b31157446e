/*
 * x509.c - the `SSL:Certificate` object and the ssl.x509 module.
 *
 * Module
 *   x509.load(data [, "pem"|"der"])  -> cert | nil, "error loading certificate (reason)"
 *       Without a format: the first PEM certificate in data, else DER.
 *
 * Methods (every one returns nil, "closed" once the object was freed by
 * __close/__gc; a receiver of another type raises like LuaSec):
 *   pem()                 -> PEM text of the certificate
 *   pubkey()              -> PEM public key, type, bits; type is "RSA", "DSA",
 *                            "DH", "EC", "ED25519", "ED448", "X25519", "X448",
 *                            else OpenSSL's name for the key type
 *   digest([alg])         -> lowercase hex fingerprint; alg is any OpenSSL
 *                            digest name, case-insensitive, default "sha1";
 *                            unknown -> nil, "digest algorithm not supported (alg)"
 *   subject() / issuer()  -> { {oid="2.5.4.6", name="countryName", value="DE"}, ... }
 *                            in the order the DN is encoded
 *   extensions()          -> table keyed by extension OID, each entry with the
 *                            extension's name and its decoded fields; the
 *                            shape per extension is documented in x509_ext.h
 *   notbefore() / notafter() -> "Nov 27 02:19:52 2026 GMT"
 *   validat(t)            -> notBefore <= t <= notAfter (RFC 5280 and LuaSec are
 *                            inclusive at both ends); t in seconds, float allowed
 *   serial()              -> uppercase hex
 *   setencode(e)          -> true if e starts with "ai5" (raw string bytes, the
 *                            default) or "utf8" (converted to UTF-8), else false;
 *                            affects strings from subject/issuer/extensions
 *   issued(cert, ...)     -> true if this certificate, as the only trust anchor
 *                            (partial chains allowed, so an intermediate works),
 *                            verifies cert with the extra certificates as untrusted
 *                            intermediates at the current time; else nil, verify-error-text
 *   getsignaturename()    -> short name such as "RSA-SHA256", "ecdsa-with-SHA256", "ED25519"
 *   checkhost(name [, flag...]) -> boolean (X509_check_host); flags:
 *                            no_wildcards, no_partial_wildcards, multi_label_wildcards,
 *                            single_label_subdomains, never_check_subject;
 *                            unknown flag -> nil, "invalid flag (x)"
 *   checkip(ip)           -> boolean (X509_check_ip_asc); malformed ip -> nil, message
 * Metamethods: __tostring "X509 certificate: 0x...", __eq (X509_cmp == 0),
 * __gc and __close (free the certificate; later calls report "closed").
 */
#include <string.h>
#include <limits.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "compat.h"
#include "errors.h"
#include "x509.h"
#include "x509_asn1.h"
#include "x509_ext.h"

typedef struct {
  X509 *cert;   /* NULL once freed */
  int   encode; /* enum sslua_x509_encoding */
} x509_obj;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int fail_ssl(lua_State *L, const char *fallback)
{
  char reason[256];
  return sslua_fail(L, "%s", sslua_err_reason(reason, sizeof reason, fallback));
}

static int closed(lua_State *L)
{
  return sslua_fail(L, "closed");
}

static int bio_fail(lua_State *L, BIO *bio, const char *fallback)
{
  BIO_free(bio);
  return fail_ssl(L, fallback);
}

/* ------------------------------------------------------------------ */
/* The userdata                                                        */

static x509_obj *self(lua_State *L)
{
  return (x509_obj *)luaL_checkudata(L, 1, SSLUA_X509_META);
}

X509 *sslua_x509_check(lua_State *L, int idx)
{
  x509_obj *obj = (x509_obj *)luaL_checkudata(L, idx, SSLUA_X509_META);

  if (obj->cert == NULL)
    luaL_argerror(L, idx, "closed certificate");
  return obj->cert;
}

X509 *sslua_x509_test(lua_State *L, int idx)
{
  x509_obj *obj = (x509_obj *)luaL_testudata(L, idx, SSLUA_X509_META);

  return obj ? obj->cert : NULL;
}

static void x509_register(lua_State *L);

void sslua_x509_push(lua_State *L, X509 *cert)
{
  x509_obj *obj;

  x509_register(L);
  obj = (x509_obj *)lua_newuserdata(L, sizeof *obj);
  obj->cert = NULL;
  obj->encode = SSLUA_ENC_AI5;
  luaL_setmetatable(L, SSLUA_X509_META);
  if (cert != NULL && X509_up_ref(cert))
    obj->cert = cert;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/* Certificates are never encrypted; refuse rather than prompt a terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
  (void)buf; (void)size; (void)rwflag; (void)u;
  return -1;
}

static X509 *load_pem(const char *data, size_t len)
{
  BIO *bio = BIO_new_mem_buf(data, (int)len);
  X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, no_password, NULL) : NULL;

  BIO_free(bio);
  return cert;
}

static X509 *load_der(const char *data, size_t len)
{
  const unsigned char *p = (const unsigned char *)data;

  return d2i_X509(NULL, &p, (long)len);
}

/* PEM first; DER only when the data holds no PEM block at all, so a
 * damaged PEM certificate reports the PEM problem. */
static X509 *load_any(const char *data, size_t len)
{
  X509 *cert = load_pem(data, len);
  unsigned long err = ERR_peek_last_error();

  if (cert != NULL || ERR_GET_LIB(err) != ERR_LIB_PEM
      || ERR_GET_REASON(err) != PEM_R_NO_START_LINE)
    return cert;
  ERR_clear_error();
  return load_der(data, len);
}

static const struct {
  const char *name;
  X509 *(*load)(const char *data, size_t len);
} formats[] = {
  { "pem", load_pem },
  { "der", load_der },
  { NULL, NULL }
};

static int mod_load(lua_State *L)
{
  size_t len;
  const char *data = luaL_checklstring(L, 1, &len);
  const char *format = luaL_optstring(L, 2, NULL);
  X509 *(*load)(const char *, size_t) = load_any;
  X509 *cert;
  int i;

  for (i = 0; format != NULL && formats[i].name != NULL; i++)
    if (strcmp(format, formats[i].name) == 0)
      load = formats[i].load;
  if (format != NULL && load == load_any)
    return sslua_fail(L, "invalid format (%s)", format);
  if (len > INT_MAX)
    return sslua_fail(L, "error loading certificate (data too large)");
  /* The object first: once loaded, the certificate must have an owner
   * before Lua may raise (out of memory). */
  sslua_x509_push(L, NULL);
  ERR_clear_error();
  cert = load(data, len);
  if (cert == NULL) {
    char reason[256];
    return sslua_fail(L, "error loading certificate (%s)",
                      sslua_err_reason(reason, sizeof reason, "no certificate found"));
  }
  ERR_clear_error();
  ((x509_obj *)lua_touserdata(L, -1))->cert = cert;
  return 1;
}

/* ------------------------------------------------------------------ */
/* pem, pubkey, digest, serial, dates, signature name                  */

static int meth_pem(lua_State *L)
{
  X509 *cert = self(L)->cert;
  BIO *bio;

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  bio = BIO_new(BIO_s_mem());
  if (bio == NULL || !PEM_write_bio_X509(bio, cert))
    return bio_fail(L, bio, "cannot encode certificate");
  return sslua_push_bio_text(L, bio);
}

static const struct {
  int id;
  const char *name;
} key_types[] = {
  { EVP_PKEY_RSA, "RSA" },         { EVP_PKEY_DSA, "DSA" },
  { EVP_PKEY_DH, "DH" },           { EVP_PKEY_DHX, "DH" },
  { EVP_PKEY_EC, "EC" },           { EVP_PKEY_ED25519, "ED25519" },
  { EVP_PKEY_ED448, "ED448" },     { EVP_PKEY_X25519, "X25519" },
  { EVP_PKEY_X448, "X448" },       { 0, NULL }
};

static const char *key_type(const EVP_PKEY *key)
{
  int id = EVP_PKEY_get_base_id(key);
  const char *name;
  int i;

  for (i = 0; key_types[i].name != NULL; i++)
    if (key_types[i].id == id)
      return key_types[i].name;
  name = EVP_PKEY_get0_type_name(key);
  return name ? name : "Unknown";
}

static int meth_pubkey(lua_State *L)
{
  X509 *cert = self(L)->cert;
  EVP_PKEY *key;
  BIO *bio;

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  key = X509_get0_pubkey(cert);
  if (key == NULL)
    return fail_ssl(L, "cannot decode public key");
  bio = BIO_new(BIO_s_mem());
  if (bio == NULL || !PEM_write_bio_PUBKEY(bio, key))
    return bio_fail(L, bio, "cannot encode public key");
  sslua_push_bio_text(L, bio);
  lua_pushstring(L, key_type(key));
  lua_pushinteger(L, EVP_PKEY_get_bits(key));
  return 3;
}

static int meth_digest(lua_State *L)
{
  X509 *cert = self(L)->cert;
  const char *alg = luaL_optstring(L, 2, "sha1");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD *type;
  int ok;

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  type = EVP_MD_fetch(NULL, alg, NULL);
  if (type == NULL || EVP_MD_get_size(type) <= 0
      || EVP_MD_get_size(type) > EVP_MAX_MD_SIZE) {
    EVP_MD_free(type);
    ERR_clear_error();
    return sslua_fail(L, "digest algorithm not supported (%s)", alg);
  }
  ok = X509_digest(cert, type, md, &n);
  EVP_MD_free(type);
  if (!ok) {   /* LuaSec's template */
    char reason[256];
    return sslua_fail(L, "error processing the certificate (%s)",
                      sslua_err_reason(reason, sizeof reason, "digest failed"));
  }
  sslua_push_hex(L, md, n, SSLUA_HEX_LOWER);
  return 1;
}

static int meth_serial(lua_State *L)
{
  X509 *cert = self(L)->cert;

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  if (!sslua_push_asn1_integer_hex(L, X509_get0_serialNumber(cert)))
    return fail_ssl(L, "invalid serial number");
  return 1;
}

static int push_time(lua_State *L, const ASN1_TIME *t)
{
  BIO *bio;

  ERR_clear_error();
  bio = BIO_new(BIO_s_mem());
  if (bio == NULL || !ASN1_TIME_print(bio, t))
    return bio_fail(L, bio, "invalid time");
  return sslua_push_bio_text(L, bio);
}

static int meth_notbefore(lua_State *L)
{
  X509 *cert = self(L)->cert;

  return cert ? push_time(L, X509_get0_notBefore(cert)) : closed(L);
}

static int meth_notafter(lua_State *L)
{
  X509 *cert = self(L)->cert;

  return cert ? push_time(L, X509_get0_notAfter(cert)) : closed(L);
}

/* Seconds since the Unix epoch of an ASN.1 time; returns 0 if invalid. */
static int time_seconds(const ASN1_TIME *t, double *out)
{
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0, secs = 0;
  int ok = epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, t);

  ASN1_TIME_free(epoch);
  *out = (double)days * 86400.0 + (double)secs;
  return ok;
}

static int meth_validat(lua_State *L)
{
  X509 *cert = self(L)->cert;
  double t = (double)luaL_checknumber(L, 2);
  double from, until;

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  if (!time_seconds(X509_get0_notBefore(cert), &from)
      || !time_seconds(X509_get0_notAfter(cert), &until))
    return fail_ssl(L, "invalid validity period");
  lua_pushboolean(L, from <= t && t <= until);
  return 1;
}

static int meth_getsignaturename(lua_State *L)
{
  X509 *cert = self(L)->cert;
  const X509_ALGOR *alg = NULL;
  const ASN1_OBJECT *oid = NULL;
  int nid;

  if (cert == NULL)
    return closed(L);
  nid = X509_get_signature_nid(cert);
  if (nid != NID_undef && OBJ_nid2sn(nid) != NULL) {
    lua_pushstring(L, OBJ_nid2sn(nid));
    return 1;
  }
  X509_get0_signature(NULL, &alg, cert);
  X509_ALGOR_get0(&oid, NULL, NULL, alg);
  sslua_push_oid(L, oid);
  return 1;
}

/* ------------------------------------------------------------------ */
/* subject, issuer, setencode                                          */

static void push_name(lua_State *L, const X509_NAME *name, int enc)
{
  int i, n = X509_NAME_entry_count(name);

  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT *oid = X509_NAME_ENTRY_get_object(e);

    lua_createtable(L, 0, 3);
    sslua_push_oid(L, oid);
    lua_setfield(L, -2, "oid");
    sslua_push_object_long_name(L, oid);
    lua_setfield(L, -2, "name");
    sslua_push_asn1_string(L, X509_NAME_ENTRY_get_data(e), enc);
    lua_setfield(L, -2, "value");
    lua_rawseti(L, -2, i + 1);
  }
}

static int meth_subject(lua_State *L)
{
  x509_obj *obj = self(L);

  if (obj->cert == NULL)
    return closed(L);
  push_name(L, X509_get_subject_name(obj->cert), obj->encode);
  return 1;
}

static int meth_issuer(lua_State *L)
{
  x509_obj *obj = self(L);

  if (obj->cert == NULL)
    return closed(L);
  push_name(L, X509_get_issuer_name(obj->cert), obj->encode);
  return 1;
}

static const struct {
  const char *prefix;
  int encode;
} encodings[] = {
  { "ai5", SSLUA_ENC_AI5 },
  { "utf8", SSLUA_ENC_UTF8 },
  { NULL, 0 }
};

static int meth_setencode(lua_State *L)
{
  x509_obj *obj = self(L);
  const char *name = luaL_checkstring(L, 2);
  int i;

  if (obj->cert == NULL)
    return closed(L);
  for (i = 0; encodings[i].prefix != NULL; i++) {
    if (strncmp(name, encodings[i].prefix, strlen(encodings[i].prefix)) == 0) {
      obj->encode = encodings[i].encode;
      lua_pushboolean(L, 1);
      return 1;
    }
  }
  lua_pushboolean(L, 0);
  return 1;
}

/* ------------------------------------------------------------------ */
/* extensions (decoded in x509_ext.c)                                  */

static int meth_extensions(lua_State *L)
{
  x509_obj *obj = self(L);

  if (obj->cert == NULL)
    return closed(L);
  sslua_x509_push_extensions(L, obj->cert, obj->encode);
  return 1;
}

/* ------------------------------------------------------------------ */
/* issued, checkhost, checkip                                          */

/* Verifies cert against `anchor` alone, with the certificates at stack
 * indices first..last (already type-checked) as untrusted intermediates. */
static int verify_with(lua_State *L, X509 *anchor, X509 *cert, int first, int last)
{
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  int ok = 0, err = X509_V_ERR_UNSPECIFIED, i;

  ERR_clear_error();
  for (i = first; untrusted != NULL && i <= last; i++)
    if (!sk_X509_push(untrusted, sslua_x509_test(L, i)))
      break;
  if (store != NULL && ctx != NULL && untrusted != NULL && i > last
      && X509_STORE_add_cert(store, anchor)
      && X509_STORE_CTX_init(ctx, store, cert, untrusted)) {
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
    ok = X509_verify_cert(ctx) == 1;
    err = X509_STORE_CTX_get_error(ctx);
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  X509_STORE_free(store);
  ERR_clear_error();
  if (ok) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (err == X509_V_OK)
    err = X509_V_ERR_UNSPECIFIED;
  return sslua_fail(L, "%s", X509_verify_cert_error_string(err));
}

static int meth_issued(lua_State *L)
{
  X509 *anchor = self(L)->cert;
  X509 *cert;
  int i, top;

  if (anchor == NULL)
    return closed(L);
  cert = sslua_x509_check(L, 2);
  top = lua_gettop(L);
  for (i = 3; i <= top; i++)
    sslua_x509_check(L, i);
  /* As its own sole anchor a certificate would always "verify" under a
   * partial chain; it issued itself only if it is self-signed. */
  if (X509_cmp(anchor, cert) == 0 && X509_self_signed(cert, 1) != 1)
    return sslua_fail(L, "%s", X509_verify_cert_error_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT));
  return verify_with(L, anchor, cert, 3, top);
}

static const struct {
  const char *name;
  unsigned int flag;
} host_flags[] = {
  { "no_wildcards", X509_CHECK_FLAG_NO_WILDCARDS },
  { "no_partial_wildcards", X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS },
  { "multi_label_wildcards", X509_CHECK_FLAG_MULTI_LABEL_WILDCARDS },
  { "single_label_subdomains", X509_CHECK_FLAG_SINGLE_LABEL_SUBDOMAINS },
  { "never_check_subject", X509_CHECK_FLAG_NEVER_CHECK_SUBJECT },
  { NULL, 0 }
};

/* ORs the flag names at first..top into *flags; returns the index of an
 * unknown name, or 0. */
static int parse_host_flags(lua_State *L, int first, unsigned int *flags)
{
  int i, j, top = lua_gettop(L);

  for (i = first; i <= top; i++) {
    const char *name = luaL_checkstring(L, i);

    for (j = 0; host_flags[j].name != NULL; j++)
      if (strcmp(name, host_flags[j].name) == 0)
        break;
    if (host_flags[j].name == NULL)
      return i;
    *flags |= host_flags[j].flag;
  }
  return 0;
}

/* X509_check_* result: 1 match, 0 no match, negative for bad input. */
static int push_check(lua_State *L, int rc, const char *what, const char *input)
{
  /* OpenSSL answers "no match" when it could not decode the names (out
   * of memory, say); the error it queued tells that from a real no. */
  if (rc == 0 && ERR_peek_error() != 0)
    return fail_ssl(L, "check failed");
  ERR_clear_error();
  if (rc < 0)
    return sslua_fail(L, "%s (%s)", what, input);
  lua_pushboolean(L, rc == 1);
  return 1;
}

static int meth_checkhost(lua_State *L)
{
  X509 *cert = self(L)->cert;
  size_t len;
  const char *name = luaL_checklstring(L, 2, &len);
  unsigned int flags = 0;
  int bad;

  if (cert == NULL)
    return closed(L);
  bad = parse_host_flags(L, 3, &flags);
  if (bad)
    return sslua_fail(L, "invalid flag (%s)", lua_tostring(L, bad));
  ERR_clear_error();
  return push_check(L, X509_check_host(cert, name, len, flags, NULL),
                    "invalid host name", name);
}

static int meth_checkip(lua_State *L)
{
  X509 *cert = self(L)->cert;
  const char *ip = luaL_checkstring(L, 2);

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  return push_check(L, X509_check_ip_asc(cert, ip, 0), "invalid IP address", ip);
}

/* ------------------------------------------------------------------ */
/* Metamethods and registration                                        */

static int meta_free(lua_State *L)
{
  x509_obj *obj = self(L);

  X509_free(obj->cert);
  obj->cert = NULL;
  return 0;
}

static int meta_tostring(lua_State *L)
{
  x509_obj *obj = self(L);

  lua_pushfstring(L, "X509 certificate: %p%s", (void *)obj,
                  obj->cert ? "" : " (closed)");
  return 1;
}

static int meta_eq(lua_State *L)
{
  X509 *a = sslua_x509_test(L, 1);
  X509 *b = sslua_x509_test(L, 2);

  lua_pushboolean(L, a != NULL && b != NULL && X509_cmp(a, b) == 0);
  return 1;
}

static const luaL_Reg methods[] = {
  { "digest", meth_digest },
  { "extensions", meth_extensions },
  { "getsignaturename", meth_getsignaturename },
  { "issued", meth_issued },
  { "issuer", meth_issuer },
  { "notafter", meth_notafter },
  { "notbefore", meth_notbefore },
  { "pem", meth_pem },
  { "pubkey", meth_pubkey },
  { "serial", meth_serial },
  { "setencode", meth_setencode },
  { "subject", meth_subject },
  { "validat", meth_validat },
  { "checkhost", meth_checkhost },
  { "checkip", meth_checkip },
  { NULL, NULL }
};

static const luaL_Reg meta[] = {
  { "__gc", meta_free },
  { "__close", meta_free },
  { "__tostring", meta_tostring },
  { "__eq", meta_eq },
  { NULL, NULL }
};

/* Registers the metatable once, so objects can be pushed even before
 * luaopen_ssl_x509 ran. */
static void x509_register(lua_State *L)
{
  int missing;

  luaL_getmetatable(L, SSLUA_X509_META);
  missing = lua_isnil(L, -1);
  lua_pop(L, 1);
  if (missing)
    sslua_newclass(L, SSLUA_X509_META, methods, meta);
}

static const luaL_Reg functions[] = {
  { "load", mod_load },
  { NULL, NULL }
};

int luaopen_ssl_x509(lua_State *L)
{
  x509_register(L);
  luaL_newlib(L, functions);
  return 1;
}
