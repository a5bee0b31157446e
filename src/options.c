/*
 * options.c - every option name LuaSec knows, in one table.
 *
 * LuaSec generates its list from the OpenSSL headers it was built with;
 * we list its 53 names explicitly so every one is accepted on every
 * OpenSSL 3, and record whether this build acts on it. A name whose
 * macro is absent or 0 here is accepted and reported as having no effect.
 * Names that only newer OpenSSLs define (certificate compression and the
 * rest, 3.2 and later) exist only in builds whose headers have them, as
 * with LuaSec: elsewhere they are unknown ("invalid option").
 */
#include <string.h>
#include <openssl/ssl.h>

#include "options.h"

/* OP(name, MACRO): bits from the header when defined, else 0. */
#define OP_BITS(m) ((uint64_t)(m))
#define OP(n, m)      { n, OP_BITS(m), (m) ? SSLUA_EFFECT_YES : SSLUA_EFFECT_NONE }
#define OP_DTLS(n, m) { n, OP_BITS(m), SSLUA_EFFECT_DTLS }
#define OP_ZERO(n)    { n, 0, SSLUA_EFFECT_NONE }

/* Names OpenSSL 3 dropped entirely from its headers would break the build
 * if referenced; they all were defined as 0 before, so list them as such. */
#ifndef SSL_OP_EPHEMERAL_RSA
#define SSL_OP_EPHEMERAL_RSA 0
#endif
#ifndef SSL_OP_ENABLE_KTLS
#define SSL_OP_ENABLE_KTLS 0
#endif
#ifndef SSL_OP_CLEANSE_PLAINTEXT
#define SSL_OP_CLEANSE_PLAINTEXT 0
#endif
#ifndef SSL_OP_IGNORE_UNEXPECTED_EOF
#define SSL_OP_IGNORE_UNEXPECTED_EOF 0
#endif
#ifndef SSL_OP_ALLOW_CLIENT_RENEGOTIATION
#define SSL_OP_ALLOW_CLIENT_RENEGOTIATION 0
#endif
#ifndef SSL_OP_DISABLE_TLSEXT_CA_NAMES
#define SSL_OP_DISABLE_TLSEXT_CA_NAMES 0
#endif

const sslua_option sslua_options[] = {
  OP("all",                                   SSL_OP_ALL),
  OP("allow_client_renegotiation",            SSL_OP_ALLOW_CLIENT_RENEGOTIATION),
  OP("allow_no_dhe_kex",                      SSL_OP_ALLOW_NO_DHE_KEX),
  OP("allow_unsafe_legacy_renegotiation",     SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION),
  OP("cipher_server_preference",              SSL_OP_CIPHER_SERVER_PREFERENCE),
  /* Sends DTLS1_BAD_VER: only a DTLS client ever acts on it. */
  OP_DTLS("cisco_anyconnect",                 SSL_OP_CISCO_ANYCONNECT),
  OP("cleanse_plaintext",                     SSL_OP_CLEANSE_PLAINTEXT),
  OP_DTLS("cookie_exchange",                  SSL_OP_COOKIE_EXCHANGE),
  OP("cryptopro_tlsext_bug",                  SSL_OP_CRYPTOPRO_TLSEXT_BUG),
  OP("disable_tlsext_ca_names",               SSL_OP_DISABLE_TLSEXT_CA_NAMES),
  OP("dont_insert_empty_fragments",           SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS),
  OP("enable_ktls",                           SSL_OP_ENABLE_KTLS),
#ifdef SSL_OP_ENABLE_KTLS_TX_ZEROCOPY_SENDFILE
  OP("enable_ktls_tx_zerocopy_sendfile",      SSL_OP_ENABLE_KTLS_TX_ZEROCOPY_SENDFILE),
#endif
  OP("enable_middlebox_compat",               SSL_OP_ENABLE_MIDDLEBOX_COMPAT),
  OP("ephemeral_rsa",                         SSL_OP_EPHEMERAL_RSA),
  OP("ignore_unexpected_eof",                 SSL_OP_IGNORE_UNEXPECTED_EOF),
  OP("legacy_server_connect",                 SSL_OP_LEGACY_SERVER_CONNECT),
  OP("microsoft_big_sslv3_buffer",            SSL_OP_MICROSOFT_BIG_SSLV3_BUFFER),
  OP("microsoft_sess_id_bug",                 SSL_OP_MICROSOFT_SESS_ID_BUG),
  OP("msie_sslv2_rsa_padding",                SSL_OP_MSIE_SSLV2_RSA_PADDING),
  OP("netscape_ca_dn_bug",                    SSL_OP_NETSCAPE_CA_DN_BUG),
  OP("netscape_challenge_bug",                SSL_OP_NETSCAPE_CHALLENGE_BUG),
  OP("netscape_demo_cipher_change_bug",       SSL_OP_NETSCAPE_DEMO_CIPHER_CHANGE_BUG),
  OP("netscape_reuse_cipher_change_bug",      SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG),
#ifdef SSL_OP_NO_RX_CERTIFICATE_COMPRESSION
  OP("no_rx_certificate_compression",         SSL_OP_NO_RX_CERTIFICATE_COMPRESSION),
#endif
#ifdef SSL_OP_NO_TX_CERTIFICATE_COMPRESSION
  OP("no_tx_certificate_compression",         SSL_OP_NO_TX_CERTIFICATE_COMPRESSION),
#endif
  OP("no_anti_replay",                        SSL_OP_NO_ANTI_REPLAY),
  OP("no_compression",                        SSL_OP_NO_COMPRESSION),
  /* These share bits with no_tlsv1/no_tlsv1_2: on a TLS context LuaSec
   * silently disabled TLS 1.0/1.2 with them. Ours are DTLS-only no-ops. */
  OP_DTLS("no_dtls_mask",                     SSL_OP_NO_DTLS_MASK),
  OP_DTLS("no_dtlsv1",                        SSL_OP_NO_DTLSv1),
  OP_DTLS("no_dtlsv1_2",                      SSL_OP_NO_DTLSv1_2),
  OP("no_encrypt_then_mac",                   SSL_OP_NO_ENCRYPT_THEN_MAC),
  OP("no_extended_master_secret",             SSL_OP_NO_EXTENDED_MASTER_SECRET),
  OP_DTLS("no_query_mtu",                     SSL_OP_NO_QUERY_MTU),
  OP("no_renegotiation",                      SSL_OP_NO_RENEGOTIATION),
  OP("no_session_resumption_on_renegotiation", SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION),
  OP("no_ssl_mask",                           SSL_OP_NO_SSL_MASK),
  OP("no_sslv2",                              SSL_OP_NO_SSLv2),
  OP("no_sslv3",                              SSL_OP_NO_SSLv3),
  OP("no_ticket",                             SSL_OP_NO_TICKET),
  OP("no_tlsv1",                              SSL_OP_NO_TLSv1),
  OP("no_tlsv1_1",                            SSL_OP_NO_TLSv1_1),
  OP("no_tlsv1_2",                            SSL_OP_NO_TLSv1_2),
  OP("no_tlsv1_3",                            SSL_OP_NO_TLSv1_3),
  OP("pkcs1_check_1",                         SSL_OP_PKCS1_CHECK_1),
  OP("pkcs1_check_2",                         SSL_OP_PKCS1_CHECK_2),
#ifdef SSL_OP_PREFER_NO_DHE_KEX
  OP("prefer_no_dhe_kex",                     SSL_OP_PREFER_NO_DHE_KEX),
#endif
  OP("prioritize_chacha",                     SSL_OP_PRIORITIZE_CHACHA),
  OP("safari_ecdhe_ecdsa_bug",                SSL_OP_SAFARI_ECDHE_ECDSA_BUG),
  OP("single_dh_use",                         SSL_OP_SINGLE_DH_USE),
  OP("single_ecdh_use",                       SSL_OP_SINGLE_ECDH_USE),
  OP("ssleay_080_client_dh_bug",              SSL_OP_SSLEAY_080_CLIENT_DH_BUG),
  OP("sslref2_reuse_cert_type_bug",           SSL_OP_SSLREF2_REUSE_CERT_TYPE_BUG),
  OP("tls_block_padding_bug",                 SSL_OP_TLS_BLOCK_PADDING_BUG),
  OP("tls_d5_bug",                            SSL_OP_TLS_D5_BUG),
  OP("tls_rollback_bug",                      SSL_OP_TLS_ROLLBACK_BUG),
  OP("tlsext_padding",                        SSL_OP_TLSEXT_PADDING),
  { NULL, 0, SSLUA_EFFECT_NONE }
};

/* "sslv3" and "sslv2" are deliberately absent: Debian's OpenSSL 3 has no
 * SSLv3, so no handshake could succeed; newcontext rejects them by name. */
const sslua_protocol sslua_protocols[] = {
  { "any",     0,              0,              0 },
  { "sslv23",  0,              0,              0 },
  { "tlsv1",   TLS1_VERSION,   TLS1_VERSION,   1 },
  { "tlsv1_1", TLS1_1_VERSION, TLS1_1_VERSION, 1 },
  { "tlsv1_2", TLS1_2_VERSION, TLS1_2_VERSION, 1 },
  { "tlsv1_3", TLS1_3_VERSION, TLS1_3_VERSION, 1 },
  { NULL, 0, 0, 0 }
};

const sslua_flag sslua_verify_flags[] = {
  { "none",                 SSL_VERIFY_NONE },
  { "peer",                 SSL_VERIFY_PEER },
  { "client_once",          SSL_VERIFY_CLIENT_ONCE },
  { "fail_if_no_peer_cert", SSL_VERIFY_FAIL_IF_NO_PEER_CERT },
  { NULL, 0 }
};

const sslua_option *sslua_option_find(const char *name)
{
  const sslua_option *o;
  for (o = sslua_options; o->name != NULL; o++)
    if (strcmp(o->name, name) == 0)
      return o;
  return NULL;
}

const sslua_protocol *sslua_protocol_find(const char *name)
{
  const sslua_protocol *p;
  for (p = sslua_protocols; p->name != NULL; p++)
    if (strcmp(p->name, name) == 0)
      return p;
  return NULL;
}

const sslua_flag *sslua_flag_find(const sslua_flag *table, const char *name)
{
  for (; table->name != NULL; table++)
    if (strcmp(table->name, name) == 0)
      return table;
  return NULL;
}

const char *sslua_effect_name(sslua_effect effect)
{
  switch (effect) {
  case SSLUA_EFFECT_YES:  return "effective";
  case SSLUA_EFFECT_DTLS: return "dtls-only";
  default:                return "none";
  }
}
