/*
 * x509_ext.c - decoders for the certificate extensions extensions()
 * reports, each filling the extension's entry of the result table; a
 * table from extension NID to decoder picks the one to run. The table's
 * shape is documented in x509_ext.h.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "x509_asn1.h"
#include "x509_ext.h"

/* ------------------------------------------------------------------ */
/* General names (LuaSec's subjectAltName shape)                      */

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
  sslua_push_subtable(L, key);
  sslua_push_asn1_string(L, s, enc);
  sslua_table_append(L);
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
  sslua_push_subtable(L, "iPAddress");
  lua_pushstring(L, text);
  sslua_table_append(L);
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
    sslua_push_oid(L, value->value.object);
    return 1;
  default:
    sslua_push_asn1_string(L, value->value.asn1_string, enc);
    return 1;
  }
}

static void add_othername(lua_State *L, const GENERAL_NAME *gn, int enc)
{
  ASN1_OBJECT *oid = NULL;
  ASN1_TYPE *value = NULL;

  if (!GENERAL_NAME_get0_otherName(gn, &oid, &value))
    return;
  sslua_push_oid(L, oid);
  sslua_key_to_subtable(L);
  sslua_push_object_long_name(L, oid);
  lua_setfield(L, -2, "name");
  if (push_asn1_type(L, value, enc))
    sslua_table_append(L);
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
      sslua_push_asn1_string(L, (const ASN1_STRING *)value, enc);
      sslua_table_append(L);
    }
  }
}

/* ------------------------------------------------------------------ */
/* One pusher per extension type, filling the table at -1             */

static void ext_altnames(lua_State *L, void *value, int enc)
{
  GENERAL_NAMES *names = value;
  int i;

  for (i = 0; i < sk_GENERAL_NAME_num(names); i++)
    add_general_name(L, sk_GENERAL_NAME_value(names, i), enc);
}

static void ext_basic_constraints(lua_State *L, void *value, int enc)
{
  BASIC_CONSTRAINTS *bc = value;
  int64_t pathlen;

  (void)enc;
  lua_pushboolean(L, bc->ca);
  lua_setfield(L, -2, "ca");
  if (bc->pathlen != NULL && ASN1_INTEGER_get_int64(&pathlen, bc->pathlen)) {
    lua_pushinteger(L, (lua_Integer)pathlen);
    lua_setfield(L, -2, "pathlen");
  }
}

/* RFC 5280 KeyUsage bit names, bit 0 first. */
static const char *const key_usages[] = {
  "digitalSignature", "nonRepudiation", "keyEncipherment",
  "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
  "encipherOnly", "decipherOnly", NULL
};

static void ext_key_usage(lua_State *L, void *value, int enc)
{
  ASN1_BIT_STRING *bits = value;
  int i;

  (void)enc;
  for (i = 0; key_usages[i] != NULL; i++) {
    if (ASN1_BIT_STRING_get_bit(bits, i)) {
      lua_pushstring(L, key_usages[i]);
      sslua_table_append(L);
    }
  }
}

static void ext_ext_key_usage(lua_State *L, void *value, int enc)
{
  EXTENDED_KEY_USAGE *eku = value;
  int i;

  (void)enc;
  for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
    sslua_push_object_short_name(L, sk_ASN1_OBJECT_value(eku, i));
    sslua_table_append(L);
  }
}

static void set_hex(lua_State *L, const char *key, const ASN1_STRING *s)
{
  sslua_push_hex(L, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
           SSLUA_HEX_UPPER);
  lua_setfield(L, -2, key);
}

static void ext_subject_keyid(lua_State *L, void *value, int enc)
{
  (void)enc;
  set_hex(L, "keyid", (ASN1_OCTET_STRING *)value);
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
      sslua_push_bio_text(L, bio);
      sslua_table_append(L);
    } else {
      BIO_free(bio);
    }
  }
}

static void ext_authority_keyid(lua_State *L, void *value, int enc)
{
  AUTHORITY_KEYID *akid = value;

  (void)enc;
  if (akid->keyid != NULL)
    set_hex(L, "keyid", akid->keyid);
  if (akid->serial != NULL && sslua_push_asn1_integer_hex(L, akid->serial))
    lua_setfield(L, -2, "serial");
  if (akid->issuer != NULL) {
    sslua_push_subtable(L, "issuer");
    add_dirnames(L, akid->issuer);
    lua_pop(L, 1);
  }
}

static void ext_crl_points(lua_State *L, void *value, int enc)
{
  CRL_DIST_POINTS *points = value;
  int i;

  for (i = 0; i < sk_DIST_POINT_num(points); i++) {
    const DIST_POINT *dp = sk_DIST_POINT_value(points, i);

    if (dp->distpoint != NULL && dp->distpoint->type == 0)
      add_uris(L, dp->distpoint->name.fullname, enc);
  }
}

static void push_access_method(lua_State *L, const ASN1_OBJECT *method)
{
  if (OBJ_obj2nid(method) == NID_ad_OCSP)
    lua_pushliteral(L, "ocsp");
  else
    sslua_push_object_short_name(L, method);
}

static void ext_info_access(lua_State *L, void *value, int enc)
{
  AUTHORITY_INFO_ACCESS *info = value;
  int i, type;

  for (i = 0; i < sk_ACCESS_DESCRIPTION_num(info); i++) {
    const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(info, i);
    void *uri = GENERAL_NAME_get0_value(ad->location, &type);

    if (type != GEN_URI)
      continue;
    push_access_method(L, ad->method);
    sslua_key_to_subtable(L);
    sslua_push_asn1_string(L, (const ASN1_STRING *)uri, enc);
    sslua_table_append(L);
    lua_pop(L, 1);
  }
}

/* Each fills the table at -1 from the decoded extension, which it does
 * not own: push_decoded frees it, also when the pusher raises. */
typedef void (*ext_pusher)(lua_State *L, void *value, int enc);

static const struct {
  int nid;
  ext_pusher push;
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

typedef struct {
  ext_pusher push;
  void *value;
  int enc;
} ext_call;

/* Protected (argument 2: the entry table): Lua may raise out of memory
 * while the decoded value belongs to no one but push_decoded. */
static int run_pusher(lua_State *L)
{
  ext_call *call = (ext_call *)lua_touserdata(L, 1);
  call->push(L, call->value, call->enc);
  return 0;
}

static void free_decoded(const X509V3_EXT_METHOD *method, void *value)
{
  if (method->it != NULL)
    ASN1_item_free((ASN1_VALUE *)value, ASN1_ITEM_ptr(method->it));
  else if (method->ext_free != NULL)
    method->ext_free(value);
}

/* Decodes ext and runs push on it over the table at -1; the decoded
 * value is freed before an error of the pusher goes on. */
static void push_decoded(lua_State *L, X509_EXTENSION *ext, ext_pusher push, int enc)
{
  const X509V3_EXT_METHOD *method = X509V3_EXT_get(ext);
  ext_call call;
  int status;

  lua_pushcfunction(L, run_pusher);
  lua_pushlightuserdata(L, &call);
  lua_pushvalue(L, -3);
  if (method == NULL || (call.value = X509V3_EXT_d2i(ext)) == NULL) {
    lua_pop(L, 3);
    return;
  }
  call.push = push;
  call.enc = enc;
  status = lua_pcall(L, 2, 0, 0);
  free_decoded(method, call.value);
  if (status != 0)
    lua_error(L);
}

/* Adds ret[oid] = {name = ..., <fields>} to the table at -1. */
static void push_extension(lua_State *L, X509_EXTENSION *ext, int enc)
{
  const ASN1_OBJECT *oid = X509_EXTENSION_get_object(ext);
  int nid = OBJ_obj2nid(oid);
  int i;

  sslua_push_oid(L, oid);
  sslua_key_to_subtable(L);
  sslua_push_object_long_name(L, oid);
  lua_setfield(L, -2, "name");
  for (i = 0; ext_pushers[i].push != NULL; i++)
    if (ext_pushers[i].nid == nid)
      push_decoded(L, ext, ext_pushers[i].push, enc);
  lua_pop(L, 1);
}

void sslua_x509_push_extensions(lua_State *L, X509 *cert, int enc)
{
  int i, n;

  ERR_clear_error();
  n = X509_get_ext_count(cert);
  lua_newtable(L);
  for (i = 0; i < n; i++)
    push_extension(L, X509_get_ext(cert, i), enc);
  ERR_clear_error();
}
