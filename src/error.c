/*
 * error.c - reason texts from OpenSSL's error queue.
 *
 * LuaSec reports the oldest error without clearing the queue first, so a
 * stale error from an earlier call leaks into a later message. Every
 * operation here clears before and drains after.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>

#include "error.h"

void sslua_err_clear(void)
{
  ERR_clear_error();
}

const char *sslua_err_reason(char *buf, size_t len, const char *fallback)
{
  unsigned long code = ERR_peek_error();
  const char *reason = code ? ERR_reason_error_string(code) : NULL;

  if (code && reason == NULL) {
    /* Unknown reason codes still deserve a stable, searchable text. */
    snprintf(buf, len, "error:%08lX", code);
  } else {
    snprintf(buf, len, "%s", reason ? reason : fallback);
  }
  ERR_clear_error();
  return buf;
}
