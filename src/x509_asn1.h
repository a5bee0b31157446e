/*
 * x509_asn1.h - small ASN.1 -> Lua value helpers shared by the certificate
 * object (x509.c) and its extension decoders (x509_ext.c).
 *
 * Every push helper leaves exactly one value on the stack unless it says
 * otherwise; none of them raises for bad certificate data.
 */
#ifndef SSLUA_X509_ASN1_H
#define SSLUA_X509_ASN1_H

#include <stddef.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>

#include "compat.h"

/* How certificate strings reach Lua (setencode): the raw bytes as encoded
 * ("ai5", the default), or converted to UTF-8 ("utf8"). */
enum sslua_x509_encoding { SSLUA_ENC_AI5, SSLUA_ENC_UTF8 };

/* Digit sets for sslua_push_hex. */
#define SSLUA_HEX_LOWER "0123456789abcdef"
#define SSLUA_HEX_UPPER "0123456789ABCDEF"

/* Pushes the n bytes at p as hex text written with `digits`. */
void sslua_push_hex(lua_State *L, const unsigned char *p, size_t n,
                    const char *digits);

/* Pushes the dotted numeric form of obj ("2.5.4.3"). */
void sslua_push_oid(lua_State *L, const ASN1_OBJECT *obj);

/* Pushes OpenSSL's long name for obj ("commonName"), else its OID. */
void sslua_push_object_long_name(lua_State *L, const ASN1_OBJECT *obj);

/* Pushes OpenSSL's short name for obj ("serverAuth"), else its OID. */
void sslua_push_object_short_name(lua_State *L, const ASN1_OBJECT *obj);

/* Pushes s as its raw bytes (SSLUA_ENC_AI5) or as UTF-8 (SSLUA_ENC_UTF8;
 * the raw bytes when the conversion fails). */
void sslua_push_asn1_string(lua_State *L, const ASN1_STRING *s, int enc);

/* Pushes an ASN.1 INTEGER as uppercase hex; returns 0 (nothing pushed)
 * when it cannot be converted. */
int sslua_push_asn1_integer_hex(lua_State *L, const ASN1_INTEGER *i);

/* Pushes a copy of data (len bytes) and frees data with OPENSSL_free,
 * also when the push raises (out of memory). */
void sslua_push_freed(lua_State *L, void *data, size_t len);

/* Pushes the contents of a memory BIO and frees the BIO, also when the
 * push raises (out of memory). Returns 1. */
int sslua_push_bio_text(lua_State *L, BIO *bio);

/* Table at -2, value at -1: pops the value into the table's array part. */
void sslua_table_append(lua_State *L);

/* Table at -2, key at -1: replaces the key by t[key], a table created
 * (and stored) when absent. */
void sslua_key_to_subtable(lua_State *L);

/* Table at -1: pushes t[key], a table created (and stored) when absent. */
void sslua_push_subtable(lua_State *L, const char *key);

#endif
