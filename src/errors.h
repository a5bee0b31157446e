/*
 * errors.h - turning OpenSSL's error queue into the short reason texts
 * LuaSec users match on, always from a queue we cleared ourselves, and
 * the record of why a connection failed.
 */
#ifndef SSLUA_ERRORS_H
#define SSLUA_ERRORS_H

#include <stddef.h>

/* Call before an OpenSSL operation whose failure we will report. */
void sslua_err_clear(void);

/* Copies the reason of the oldest queued error into buf (never "(null)",
 * `fallback` when the queue is empty) and empties the queue. */
const char *sslua_err_reason(char *buf, size_t len, const char *fallback);

/* What broke a stream for good. */
typedef enum {
  SSLUA_FAIL_NONE = 0,
  SSLUA_FAIL_TLS,       /* OpenSSL error, code in `code` */
  SSLUA_FAIL_SYSTEM     /* socket error, errno in `sys_errno` */
} sslua_fail_kind;

#define SSLUA_FAILURE_TEXT 256

/* Why a connection failed: the message its calls return, and the facts
 * behind it for error objects. Features that know more about a failure
 * (verification, OCSP, ...) add to it through their `explain` hook. */
typedef struct {
  sslua_fail_kind kind;
  unsigned long   code;          /* OpenSSL error code, 0 if none */
  int             sys_errno;     /* socket error */
  long            verify_code;   /* X509_V_ERR_* of a failed verification, else 0 */
  int             depth;         /* chain depth of that error, -1 when unknown */
  int             explained;     /* a feature has added its why to `message` */
  int             first_record;  /* it came before anything the peer sent was understood */
  char            subject[128];  /* the certificate whose verification failed, "" if unknown */
  char            message[SSLUA_FAILURE_TEXT];
} sslua_failure;

/* Whether f is OpenSSL's "certificate verify failed". */
int sslua_failure_is_verify(const sslua_failure *f);

/* After the features: a verification nobody explained gets OpenSSL's
 * verify error text, and the depth and subject where it failed if not
 * the leaf: "certificate verify failed (unable to get local issuer
 * certificate at depth 1: CN=Intermediate)". */
void sslua_failure_finish(sslua_failure *f);

/* Appends " (why)" to f->message and marks it explained; `fmt` is the
 * text inside the parentheses. Does nothing once it is explained. */
void sslua_failure_explain(sslua_failure *f, const char *fmt, ...);

#endif
