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
 *   extensions()          -> table keyed by extension OID; every entry has
 *                            name = OpenSSL's long name, plus per extension:
 *     2.5.29.17 subjectAltName (LuaSec's shape), 2.5.29.18 issuerAltName (same):
 *       dNSName = {...}, rfc822Name = {...}, uniformResourceIdentifier = {...},
 *       iPAddress = {"127.0.0.1", "::1"},
 *       [otherName type OID] = {name = "Microsoft User Principal Name", "value", ...}
 *       (x400Address, directoryName, ediPartyName, registeredID are left out)
 *     2.5.29.19 basicConstraints:   ca = boolean, pathlen = integer or absent
 *     2.5.29.15 keyUsage:           array part {"digitalSignature", "keyEncipherment", ...}
 *     2.5.29.37 extendedKeyUsage:   array part {"serverAuth", "1.2.3.4.5", ...}
 *                                   (OpenSSL short name, else the OID)
 *     2.5.29.14 subjectKeyIdentifier:   keyid = "7A91..." (uppercase hex)
 *     2.5.29.35 authorityKeyIdentifier: keyid = hex, serial = hex,
 *                                   issuer = {"CN=...,O=...", ...} (RFC 2253), each if present
 *     2.5.29.31 cRLDistributionPoints, 2.5.29.46 freshestCRL:
 *                                   array part of full-name URIs
 *     1.3.6.1.5.5.7.1.1 authorityInfoAccess, 1.3.6.1.5.5.7.1.11 subjectInfoAccess:
 *                                   ocsp = {uri...}, caIssuers = {uri...},
 *                                   other methods under their short name or OID
 *     any other extension: name only.
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
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "compat.h"
#include "error.h"
#include "x509.h"

enum { ENC_AI5, ENC_UTF8 };

typedef struct {
  X509 *cert;   /* NULL once freed */
  int   encode; /* ENC_AI5 or ENC_UTF8 */
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

/* Pushes the contents of a memory BIO and frees it. */
static int push_bio(lua_State *L, BIO *bio)
{
  char *data = NULL;
  long n = BIO_get_mem_data(bio, &data);

  lua_pushlstring(L, data ? data : "", n > 0 ? (size_t)n : 0);
  BIO_free(bio);
  return 1;
}

static int bio_fail(lua_State *L, BIO *bio, const char *fallback)
{
  BIO_free(bio);
  return fail_ssl(L, fallback);
}

static void push_hex(lua_State *L, const unsigned char *p, size_t n,
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

#define HEX_LOWER "0123456789abcdef"
#define HEX_UPPER "0123456789ABCDEF"

/* Numeric OID text (numeric != 0) or OpenSSL's long name for obj. */
static void push_objname(lua_State *L, const ASN1_OBJECT *obj, int numeric)
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
  lua_pushstring(L, big);
  OPENSSL_free(big);
}

/* OpenSSL's short name ("serverAuth") if it knows the OID, else the OID. */
static void push_shortname(lua_State *L, const ASN1_OBJECT *obj)
{
  int nid = OBJ_obj2nid(obj);

  if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
    lua_pushstring(L, OBJ_nid2sn(nid));
  else
    push_objname(L, obj, 1);
}

/* Raw bytes (ENC_AI5) or UTF-8 (ENC_UTF8; raw bytes if conversion fails). */
static void push_asn1_string(lua_State *L, const ASN1_STRING *s, int enc)
{
  if (enc == ENC_UTF8) {
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n >= 0) {
      lua_pushlstring(L, (const char *)utf8, (size_t)n);
      OPENSSL_free(utf8);
      return;
    }
    ERR_clear_error();
  }
  lua_pushlstring(L, (const char *)ASN1_STRING_get0_data(s),
                  (size_t)ASN1_STRING_length(s));
}

/* Uppercase hex of an ASN.1 INTEGER; returns 0 (nothing pushed) on failure. */
static int push_integer_hex(lua_State *L, const ASN1_INTEGER *i)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN(i, NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;

  BN_free(bn);
  if (hex == NULL)
    return 0;
  lua_pushstring(L, hex);
  OPENSSL_free(hex);
  return 1;
}

/* Table at -2, value at -1: appends the value to the table's array part. */
static void append(lua_State *L)
{
  lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
}

/* Table at -2, key at -1: replaces the key by t[key], created if absent. */
static void subtable_k(lua_State *L)
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

static void subtable(lua_State *L, const char *key)
{
  lua_pushstring(L, key);
  subtable_k(L);
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
  obj->encode = ENC_AI5;
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
  ERR_clear_error();
  cert = load(data, len);
  if (cert == NULL) {
    char reason[256];
    return sslua_fail(L, "error loading certificate (%s)",
                      sslua_err_reason(reason, sizeof reason, "no certificate found"));
  }
  ERR_clear_error();
  sslua_x509_push(L, cert);
  X509_free(cert);
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
  return push_bio(L, bio);
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
  push_bio(L, bio);
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
  if (!ok)
    return fail_ssl(L, "digest failed");
  push_hex(L, md, n, HEX_LOWER);
  return 1;
}

static int meth_serial(lua_State *L)
{
  X509 *cert = self(L)->cert;

  if (cert == NULL)
    return closed(L);
  ERR_clear_error();
  if (!push_integer_hex(L, X509_get0_serialNumber(cert)))
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
  return push_bio(L, bio);
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
  push_objname(L, oid, 1);
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
    push_objname(L, oid, 1);
    lua_setfield(L, -2, "oid");
    push_objname(L, oid, 0);
    lua_setfield(L, -2, "name");
    push_asn1_string(L, X509_NAME_ENTRY_get_data(e), enc);
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
  { "ai5", ENC_AI5 },
  { "utf8", ENC_UTF8 },
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
/* extensions: general names (LuaSec's subjectAltName shape)           */

static const struct {
  int type;
  const char *key;
} name_keys[] = {
  { GEN_DNS, "dNSName" },
  { GEN_EMAIL, "rfc822Name" },
  { GEN_URI, "uniformResourceIdentifier" },
  { 0, NULL }
};

/* Appends the string under key to the table at -1. */
static void add_string(lua_State *L, const char *key, const ASN1_STRING *s,
                       int enc)
{
  subtable(L, key);
  push_asn1_string(L, s, enc);
  append(L);
  lua_pop(L, 1);
}

static void add_ip(lua_State *L, const ASN1_OCTET_STRING *ip)
{
  char text[INET6_ADDRSTRLEN];
  int len = ASN1_STRING_length(ip);
  int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC;

  if (af == AF_UNSPEC
      || inet_ntop(af, ASN1_STRING_get0_data(ip), text, sizeof text) == NULL)
    return;
  subtable(L, "iPAddress");
  lua_pushstring(L, text);
  append(L);
  lua_pop(L, 1);
}

/* Pushes an otherName value: strings (and string-like types) as their
 * bytes, OIDs as text; returns 0 for types without a string form. */
static int push_asn1_type(lua_State *L, const ASN1_TYPE *value, int enc)
{
  switch (ASN1_TYPE_get(value)) {
  case 0:
  case V_ASN1_BOOLEAN:
  case V_ASN1_NULL:
    return 0;
  case V_ASN1_OBJECT:
    push_objname(L, value->value.object, 1);
    return 1;
  default:
    push_asn1_string(L, value->value.asn1_string, enc);
    return 1;
  }
}

static void add_othername(lua_State *L, const GENERAL_NAME *gn, int enc)
{
  ASN1_OBJECT *oid = NULL;
  ASN1_TYPE *value = NULL;

  if (!GENERAL_NAME_get0_otherName(gn, &oid, &value))
    return;
  push_objname(L, oid, 1);
  subtable_k(L);
  push_objname(L, oid, 0);
  lua_setfield(L, -2, "name");
  if (push_asn1_type(L, value, enc))
    append(L);
  lua_pop(L, 1);
}

static void add_general_name(lua_State *L, const GENERAL_NAME *gn, int enc)
{
  int type, i;
  void *value = GENERAL_NAME_get0_value(gn, &type);

  if (type == GEN_OTHERNAME) {
    add_othername(L, gn, enc);
    return;
  }
  if (type == GEN_IPADD) {
    add_ip(L, (const ASN1_OCTET_STRING *)value);
    return;
  }
  for (i = 0; name_keys[i].key != NULL; i++)
    if (name_keys[i].type == type)
      add_string(L, name_keys[i].key, (const ASN1_STRING *)value, enc);
}

/* Appends the URIs among names to the array part of the table at -1. */
static void add_uris(lua_State *L, const GENERAL_NAMES *names, int enc)
{
  int i, type;

  for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    void *value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &type);

    if (type == GEN_URI) {
      push_asn1_string(L, (const ASN1_STRING *)value, enc);
      append(L);
    }
  }
}

/* ------------------------------------------------------------------ */
/* extensions: one pusher per extension type, filling the table at -1  */

static void ext_altnames(lua_State *L, X509_EXTENSION *ext, int enc)
{
  GENERAL_NAMES *names = X509V3_EXT_d2i(ext);
  int i;

  if (names == NULL)
    return;
  for (i = 0; i < sk_GENERAL_NAME_num(names); i++)
    add_general_name(L, sk_GENERAL_NAME_value(names, i), enc);
  GENERAL_NAMES_free(names);
}

static void ext_basic_constraints(lua_State *L, X509_EXTENSION *ext, int enc)
{
  BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i(ext);
  int64_t pathlen;

  (void)enc;
  if (bc == NULL)
    return;
  lua_pushboolean(L, bc->ca);
  lua_setfield(L, -2, "ca");
  if (bc->pathlen != NULL && ASN1_INTEGER_get_int64(&pathlen, bc->pathlen)) {
    lua_pushinteger(L, (lua_Integer)pathlen);
    lua_setfield(L, -2, "pathlen");
  }
  BASIC_CONSTRAINTS_free(bc);
}

/* RFC 5280 KeyUsage bit names, bit 0 first. */
static const char *const key_usages[] = {
  "digitalSignature", "nonRepudiation", "keyEncipherment",
  "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
  "encipherOnly", "decipherOnly", NULL
};

static void ext_key_usage(lua_State *L, X509_EXTENSION *ext, int enc)
{
  ASN1_BIT_STRING *bits = X509V3_EXT_d2i(ext);
  int i;

  (void)enc;
  if (bits == NULL)
    return;
  for (i = 0; key_usages[i] != NULL; i++) {
    if (ASN1_BIT_STRING_get_bit(bits, i)) {
      lua_pushstring(L, key_usages[i]);
      append(L);
    }
  }
  ASN1_BIT_STRING_free(bits);
}

static void ext_ext_key_usage(lua_State *L, X509_EXTENSION *ext, int enc)
{
  EXTENDED_KEY_USAGE *eku = X509V3_EXT_d2i(ext);
  int i;

  (void)enc;
  if (eku == NULL)
    return;
  for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
    push_shortname(L, sk_ASN1_OBJECT_value(eku, i));
    append(L);
  }
  EXTENDED_KEY_USAGE_free(eku);
}

static void set_hex(lua_State *L, const char *key, const ASN1_STRING *s)
{
  push_hex(L, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
           HEX_UPPER);
  lua_setfield(L, -2, key);
}

static void ext_subject_keyid(lua_State *L, X509_EXTENSION *ext, int enc)
{
  ASN1_OCTET_STRING *keyid = X509V3_EXT_d2i(ext);

  (void)enc;
  if (keyid == NULL)
    return;
  set_hex(L, "keyid", keyid);
  ASN1_OCTET_STRING_free(keyid);
}

/* Appends each directoryName among names, in RFC 2253 form. */
static void add_dirnames(lua_State *L, const GENERAL_NAMES *names)
{
  int i, type;

  for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    void *value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &type);
    BIO *bio;

    if (type != GEN_DIRNAME || (bio = BIO_new(BIO_s_mem())) == NULL)
      continue;
    if (X509_NAME_print_ex(bio, (const X509_NAME *)value, 0, XN_FLAG_RFC2253) >= 0) {
      push_bio(L, bio);
      append(L);
    } else {
      BIO_free(bio);
    }
  }
}

static void ext_authority_keyid(lua_State *L, X509_EXTENSION *ext, int enc)
{
  AUTHORITY_KEYID *akid = X509V3_EXT_d2i(ext);

  (void)enc;
  if (akid == NULL)
    return;
  if (akid->keyid != NULL)
    set_hex(L, "keyid", akid->keyid);
  if (akid->serial != NULL && push_integer_hex(L, akid->serial))
    lua_setfield(L, -2, "serial");
  if (akid->issuer != NULL) {
    subtable(L, "issuer");
    add_dirnames(L, akid->issuer);
    lua_pop(L, 1);
  }
  AUTHORITY_KEYID_free(akid);
}

static void ext_crl_points(lua_State *L, X509_EXTENSION *ext, int enc)
{
  CRL_DIST_POINTS *points = X509V3_EXT_d2i(ext);
  int i;

  if (points == NULL)
    return;
  for (i = 0; i < sk_DIST_POINT_num(points); i++) {
    const DIST_POINT *dp = sk_DIST_POINT_value(points, i);

    if (dp->distpoint != NULL && dp->distpoint->type == 0)
      add_uris(L, dp->distpoint->name.fullname, enc);
  }
  CRL_DIST_POINTS_free(points);
}

static void push_access_method(lua_State *L, const ASN1_OBJECT *method)
{
  if (OBJ_obj2nid(method) == NID_ad_OCSP)
    lua_pushliteral(L, "ocsp");
  else
    push_shortname(L, method);
}

static void ext_info_access(lua_State *L, X509_EXTENSION *ext, int enc)
{
  AUTHORITY_INFO_ACCESS *info = X509V3_EXT_d2i(ext);
  int i, type;

  if (info == NULL)
    return;
  for (i = 0; i < sk_ACCESS_DESCRIPTION_num(info); i++) {
    const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(info, i);
    void *uri = GENERAL_NAME_get0_value(ad->location, &type);

    if (type != GEN_URI)
      continue;
    push_access_method(L, ad->method);
    subtable_k(L);
    push_asn1_string(L, (const ASN1_STRING *)uri, enc);
    append(L);
    lua_pop(L, 1);
  }
  AUTHORITY_INFO_ACCESS_free(info);
}

static const struct {
  int nid;
  void (*push)(lua_State *L, X509_EXTENSION *ext, int enc);
} ext_pushers[] = {
  { NID_subject_alt_name, ext_altnames },
  { NID_issuer_alt_name, ext_altnames },
  { NID_basic_constraints, ext_basic_constraints },
  { NID_key_usage, ext_key_usage },
  { NID_ext_key_usage, ext_ext_key_usage },
  { NID_subject_key_identifier, ext_subject_keyid },
  { NID_authority_key_identifier, ext_authority_keyid },
  { NID_crl_distribution_points, ext_crl_points },
  { NID_freshest_crl, ext_crl_points },
  { NID_info_access, ext_info_access },
  { NID_sinfo_access, ext_info_access },
  { NID_undef, NULL }
};

/* Adds ret[oid] = {name = ..., <fields>} to the table at -1. */
static void push_extension(lua_State *L, X509_EXTENSION *ext, int enc)
{
  const ASN1_OBJECT *oid = X509_EXTENSION_get_object(ext);
  int nid = OBJ_obj2nid(oid);
  int i;

  push_objname(L, oid, 1);
  subtable_k(L);
  push_objname(L, oid, 0);
  lua_setfield(L, -2, "name");
  for (i = 0; ext_pushers[i].push != NULL; i++)
    if (ext_pushers[i].nid == nid)
      ext_pushers[i].push(L, ext, enc);
  lua_pop(L, 1);
}

static int meth_extensions(lua_State *L)
{
  x509_obj *obj = self(L);
  int i, n;

  if (obj->cert == NULL)
    return closed(L);
  ERR_clear_error();
  n = X509_get_ext_count(obj->cert);
  lua_newtable(L);
  for (i = 0; i < n; i++)
    push_extension(L, X509_get_ext(obj->cert, i), obj->encode);
  ERR_clear_error();
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
