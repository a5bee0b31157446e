/*
 * options.h - the name tables that drive parameter parsing: protocol
 * names, verify flags and SSL_OP_* option names, each with what it does
 * on the OpenSSL this module was built against.
 */
#ifndef SSLUA_OPTIONS_H
#define SSLUA_OPTIONS_H

#include <stdint.h>

/* How an option name acts on a TLS context with this OpenSSL. */
typedef enum {
  SSLUA_EFFECT_YES,   /* sets bits OpenSSL acts on */
  SSLUA_EFFECT_NONE,  /* defined as 0 here: accepted for compatibility only */
  SSLUA_EFFECT_DTLS   /* only meaningful for DTLS; not applied to TLS contexts */
} sslua_effect;

typedef struct {
  const char *name;
  uint64_t    bits;
  sslua_effect effect;
} sslua_option;

typedef struct {
  const char *name;
  int min_version;   /* 0 = OpenSSL's lowest */
  int max_version;   /* 0 = OpenSSL's highest */
  int listed;        /* shown in ssl.config.protocols */
} sslua_protocol;

typedef struct {
  const char *name;
  int flag;
} sslua_flag;

extern const sslua_option   sslua_options[];    /* NULL-terminated */
extern const sslua_protocol sslua_protocols[];  /* NULL-terminated */
extern const sslua_flag     sslua_verify_flags[];

const sslua_option   *sslua_option_find(const char *name);
const sslua_protocol *sslua_protocol_find(const char *name);
const sslua_flag     *sslua_flag_find(const sslua_flag *table, const char *name);
const char           *sslua_effect_name(sslua_effect effect);

#endif
