/*
 * faults/failshim.c - makes chosen OpenSSL calls fail, for tests only.
 *
 * Built as a shared library and put in LD_PRELOAD, it interposes the
 * OpenSSL functions below; each passes through to OpenSSL except the call
 * named by SSLUA_FAIL, which returns that function's failure value without
 * calling OpenSSL:
 *
 *   SSLUA_FAIL=NAME        the first call of NAME fails
 *   SSLUA_FAIL=NAME:K      the K-th call fails (K = 1, 2, ...)
 *   SSLUA_FAIL=NAME:*      every call fails
 *   SSLUA_FAIL=NAME:K/own  likewise, counting only calls made from outside
 *                          OpenSSL's own libraries (libssl calls some of
 *                          these itself, and newer versions call more:
 *                          3.5's SSL_CTX_new sets its default groups with
 *                          SSL_CTX_set1_groups_list)
 *
 * Functions that are macros over SSL_ctrl / SSL_CTX_ctrl are named by the
 * macro (SSL_set_tlsext_host_name, SSL_CTX_set_min_proto_version, ...):
 * only calls with that control command count. When the named call has
 * failed, "failshim: NAME failed" goes to stderr, so a test can tell the
 * branch it meant to reach from one it reached by accident.
 * No production code knows about this library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

static struct {
  int parsed;
  char name[128];
  long which;      /* 0: every call */
  int own;         /* count only calls from outside libssl/libcrypto */
  long calls;
} plan;

static void parse(void)
{
  const char *spec = getenv("SSLUA_FAIL"), *colon;
  plan.parsed = 1;
  if (spec == NULL || *spec == '\0')
    return;
  colon = strchr(spec, ':');
  snprintf(plan.name, sizeof(plan.name), "%.*s",
           (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
  plan.which = 1;
  if (colon != NULL) {
    plan.which = colon[1] == '*' ? 0 : atol(colon + 1);
    plan.own = strstr(colon, "/own") != NULL;
  }
}

/* Whether the code at `caller` belongs to OpenSSL's libraries. */
static int from_openssl(const void *caller)
{
  Dl_info info;
  const char *base;
  if (caller == NULL || dladdr(caller, &info) == 0 || info.dli_fname == NULL)
    return 0;
  base = strrchr(info.dli_fname, '/');
  base = base ? base + 1 : info.dli_fname;
  return strncmp(base, "libssl.", 7) == 0 || strncmp(base, "libcrypto.", 10) == 0;
}

/* True when this call of `name`, made from `caller`, must fail. */
static int fails_from(const char *name, const void *caller)
{
  if (!plan.parsed)
    parse();
  if (plan.name[0] == '\0' || strcmp(plan.name, name) != 0)
    return 0;
  if (plan.own && from_openssl(caller))
    return 0;
  plan.calls++;
  if (plan.which != 0 && plan.calls != plan.which)
    return 0;
  fprintf(stderr, "failshim: %s failed\n", name);
  return 1;
}

static void *real(const char *symbol)
{
  void *fn = dlsym(RTLD_NEXT, symbol);
  if (fn == NULL) {
    fprintf(stderr, "failshim: no %s\n", symbol);
    abort();
  }
  return fn;
}

/* One interposed function: its name, its failure value, its call. */
#define SHIM(ret, name, failure, params, args)                  \
  ret name params                                                \
  {                                                              \
    static ret (*next) params;                                   \
    if (fails_from(#name, __builtin_return_address(0)))         \
      return failure;                                            \
    if (next == NULL)                                            \
      *(void **)&next = real(#name);                             \
    return next args;                                            \
  }

SHIM(SSL_CTX *, SSL_CTX_new, NULL, (const SSL_METHOD *m), (m))
SHIM(SSL *, SSL_new, NULL, (SSL_CTX *ctx), (ctx))
SHIM(SSL_CTX *, SSL_set_SSL_CTX, NULL, (SSL *s, SSL_CTX *ctx), (s, ctx))
SHIM(BIO *, BIO_new, NULL, (const BIO_METHOD *m), (m))
SHIM(BIO *, BIO_new_mem_buf, NULL, (const void *buf, int len), (buf, len))
SHIM(int, SSL_CTX_set_ex_data, 0, (SSL_CTX *ctx, int i, void *v), (ctx, i, v))
SHIM(int, SSL_set_ex_data, 0, (SSL *s, int i, void *v), (s, i, v))
SHIM(int, X509_STORE_add_cert, 0, (X509_STORE *st, X509 *x), (st, x))
SHIM(int, X509_STORE_add_crl, 0, (X509_STORE *st, X509_CRL *x), (st, x))
SHIM(int, SSL_CTX_use_psk_identity_hint, 0, (SSL_CTX *ctx, const char *h), (ctx, h))
SHIM(int, SSL_CTX_dane_enable, -1, (SSL_CTX *ctx), (ctx))
SHIM(int, SSL_dane_enable, -1, (SSL *s, const char *d), (s, d))
SHIM(int, SSL_CTX_set_default_verify_paths, 0, (SSL_CTX *ctx), (ctx))
SHIM(int, SSL_set_session, 0, (SSL *s, SSL_SESSION *sess), (s, sess))
SHIM(int, SSL_CTX_set0_tmp_dh_pkey, 0, (SSL_CTX *ctx, EVP_PKEY *k), (ctx, k))
SHIM(int, X509_VERIFY_PARAM_set1, 0, (X509_VERIFY_PARAM *to, const X509_VERIFY_PARAM *from), (to, from))
SHIM(int, X509_VERIFY_PARAM_set1_host, 0, (X509_VERIFY_PARAM *p, const char *n, size_t l), (p, n, l))
SHIM(int, X509_digest, 0, (const X509 *x, const EVP_MD *t, unsigned char *md, unsigned int *n), (x, t, md, n))
SHIM(int, PEM_write_bio_X509, 0, (BIO *b, const X509 *x), (b, x))
SHIM(int, i2d_SSL_SESSION, 0, (const SSL_SESSION *s, unsigned char **pp), (s, pp))
SHIM(int, SSL_set_fd, 0, (SSL *s, int fd), (s, fd))
SHIM(int, SSL_CTX_use_certificate, 0, (SSL_CTX *ctx, X509 *x), (ctx, x))
SHIM(int, SSL_CTX_use_PrivateKey, 0, (SSL_CTX *ctx, EVP_PKEY *k), (ctx, k))
SHIM(int, SSL_CTX_use_certificate_chain_file, 0, (SSL_CTX *ctx, const char *f), (ctx, f))
SHIM(int, SSL_CTX_set_alpn_protos, 1, (SSL_CTX *ctx, const unsigned char *p, unsigned int l), (ctx, p, l))
SHIM(OCSP_CERTID *, OCSP_cert_to_id, NULL, (const EVP_MD *d, const X509 *s, const X509 *i), (d, s, i))
SHIM(int, SSL_export_keying_material, 0,
     (SSL *s, unsigned char *out, size_t olen, const char *label, size_t llen,
      const unsigned char *ctx, size_t clen, int use),
     (s, out, olen, label, llen, ctx, clen, use))

/* The control commands behind the macros, by the macro's name. */
typedef struct { const char *name; int cmd; } ctrl_name;

static const ctrl_name ssl_ctrls[] = {
  { "SSL_set_tlsext_host_name",        SSL_CTRL_SET_TLSEXT_HOSTNAME },
  { "SSL_set_tlsext_status_ocsp_resp", SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP },
  { NULL, 0 }
}, ctx_ctrls[] = {
  { "SSL_CTX_set_min_proto_version",   SSL_CTRL_SET_MIN_PROTO_VERSION },
  { "SSL_CTX_set_max_proto_version",   SSL_CTRL_SET_MAX_PROTO_VERSION },
  { "SSL_CTX_add0_chain_cert",         SSL_CTRL_CHAIN_CERT },
  { "SSL_CTX_clear_chain_certs",       SSL_CTRL_CHAIN },
  { "SSL_CTX_set1_groups_list",        SSL_CTRL_SET_GROUPS_LIST },
  { NULL, 0 }
};

static int ctrl_fails(const ctrl_name *table, int cmd, const void *caller)
{
  int i;
  for (i = 0; table[i].name != NULL; i++)
    if (table[i].cmd == cmd)
      return fails_from(table[i].name, caller);
  return 0;
}

long SSL_ctrl(SSL *s, int cmd, long larg, void *parg)
{
  static long (*next)(SSL *, int, long, void *);
  if (ctrl_fails(ssl_ctrls, cmd, __builtin_return_address(0)))
    return 0;
  if (next == NULL)
    *(void **)&next = real("SSL_ctrl");
  return next(s, cmd, larg, parg);
}

long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg)
{
  static long (*next)(SSL_CTX *, int, long, void *);
  if (ctrl_fails(ctx_ctrls, cmd, __builtin_return_address(0)))
    return 0;
  if (next == NULL)
    *(void **)&next = real("SSL_CTX_ctrl");
  return next(ctx, cmd, larg, parg);
}
