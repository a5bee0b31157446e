/*
 * context.h - the SSL:Context object: one SSL_CTX built from newcontext's
 * parameters, shared by every connection wrapped with it.
 */
#ifndef SSLUA_CONTEXT_H
#define SSLUA_CONTEXT_H

#include <openssl/ssl.h>
#include "compat.h"

#define SSLUA_CONTEXT_META "SSL:Context"

typedef enum {
  SSLUA_MODE_UNSET = 0,
  SSLUA_MODE_CLIENT,
  SSLUA_MODE_SERVER
} sslua_mode;

/* Lua callbacks a context holds (in its user value: see context.c). */
enum {
  SSLUA_REF_ALPN,       /* server ALPN selection function */
  SSLUA_REF_PSK,        /* PSK client or server function */
  SSLUA_REF_DHPARAM,    /* dhparam function */
  SSLUA_REF_VERIFY,     /* verify callback */
  SSLUA_REF_KEYLOG,     /* keylog path (string) or function (keylog.c) */
  SSLUA_REF_OCSP,       /* server OCSP response or function (ocsp.c) */
  SSLUA_CTX_NREFS
};

typedef struct {
  SSL_CTX      *ctx;        /* NULL once closed */
  sslua_mode    mode;
  int           verify;     /* SSL_VERIFY_* bits given to setverify */
  int           verifyext;  /* SSLUA_VERIFYEXT_* bits (verify.h) */
  int           refs[SSLUA_CTX_NREFS];  /* LUA_NOREF/LUA_REFNIL when unset */
  unsigned char *alpn;      /* server's ALPN list, wire format, owned */
  size_t        alpn_len;
  int           alpn_strict; /* no ALPN match ends a server's handshake */
} sslua_context;

/* The live context at idx, or a Lua argument error ("invalid context"). */
sslua_context *sslua_context_check(lua_State *L, int idx);
/* The context at idx or NULL, without raising. */
sslua_context *sslua_context_test(lua_State *L, int idx);
/* The context an SSL_CTX belongs to; NULL once that context was closed. */
sslua_context *sslua_context_from_ssl_ctx(const SSL_CTX *ctx);

/* Stores the value at idx as callback `slot` (replacing any old one). */
void sslua_context_setref(lua_State *L, sslua_context *c, int slot, int idx);
/* Pushes callback `slot`, or nil; returns its Lua type. */
int  sslua_context_pushref(lua_State *L, const sslua_context *c, int slot);

/* A key's passphrase: the string or function at stack `index` of L (0:
 * none, which fails with "password required" rather than prompting).
 * sslua_password_cb is OpenSSL's pem_password_cb over it; on failure the
 * reason is left in `error`. */
typedef struct {
  lua_State *L;
  int        index;
  char       error[256];
} sslua_password;
int sslua_password_cb(char *buf, int size, int rwflag, void *u);

int luaopen_ssl_context(lua_State *L);

#endif
