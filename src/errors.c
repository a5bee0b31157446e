/*
 * errors.c - reason texts from OpenSSL's error queue.
 *
 * LuaSec reports the oldest error without clearing the queue first, so a
 * stale error from an earlier call leaks into a later message. Every
 * operation here clears before and drains after.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "errors.h"

void sslua_err_clear(void)
{
  ERR_clear_error();
}

const char *sslua_err_reason(char *buf, size_t len, const char *fallback)
{
  const char *data = NULL;
  int flags = 0;
  unsigned long code = ERR_peek_error_data(&data, &flags);
  const char *reason = code ? ERR_reason_error_string(code) : NULL;

  if (code != 0 && ERR_SYSTEM_ERROR(code)) {
    /* A system call failed (fopen of a directory, say): OpenSSL 3 keeps
     * the errno as the reason and has no text for it; strerror does. */
    snprintf(buf, len, "%s", strerror(ERR_GET_REASON(code)));
  } else if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CALLBACK_FAILED
      && (flags & ERR_TXT_STRING) && data != NULL && *data != '\0') {
    /* Our callbacks say why they failed (e.g. the Lua error): keep it. */
    snprintf(buf, len, "%s (%s)", reason, data);
  } else if (code && reason == NULL) {
    /* Unknown reason codes still deserve a stable, searchable text. */
    snprintf(buf, len, "error:%08lX", code);
  } else {
    snprintf(buf, len, "%s", reason ? reason : fallback);
  }
  ERR_clear_error();
  return buf;
}

void sslua_failure_finish(sslua_failure *f)
{
  const char *text;
  if (!sslua_failure_is_verify(f) || f->verify_code == X509_V_OK)
    return;
  text = X509_verify_cert_error_string(f->verify_code);
  if (f->depth > 0 && f->subject[0] != '\0')
    sslua_failure_explain(f, "%s at depth %d: %s", text, f->depth, f->subject);
  else
    sslua_failure_explain(f, "%s", text);
}

int sslua_failure_is_verify(const sslua_failure *f)
{
  return f->kind == SSLUA_FAIL_TLS && ERR_GET_LIB(f->code) == ERR_LIB_SSL &&
         ERR_GET_REASON(f->code) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

void sslua_failure_explain(sslua_failure *f, const char *fmt, ...)
{
  char why[SSLUA_FAILURE_TEXT];
  size_t used = strlen(f->message);
  va_list ap;

  if (f->explained)
    return;
  va_start(ap, fmt);
  /* clang's analyzer, inlining this variadic function into its callers in
   * this file, loses the va_start above and reports ap uninitialised. */
  vsnprintf(why, sizeof(why), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
  va_end(ap);
  f->explained = 1;
  snprintf(f->message + used, sizeof(f->message) - used, " (%s)", why);
}
