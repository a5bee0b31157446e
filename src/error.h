/*
 * error.h - turning OpenSSL's error queue into the short reason texts
 * LuaSec users match on, always from a queue we cleared ourselves.
 */
#ifndef SSLUA_ERROR_H
#define SSLUA_ERROR_H

#include <stddef.h>

/* Call before an OpenSSL operation whose failure we will report. */
void sslua_err_clear(void);

/* Copies the reason of the oldest queued error into buf (never "(null)",
 * `fallback` when the queue is empty) and empties the queue. */
const char *sslua_err_reason(char *buf, size_t len, const char *fallback);

#endif
