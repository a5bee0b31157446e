/*
 * alpn_fuzz.c - libFuzzer harness for the pure ALPN functions:
 * sslua_alpn_wire (names -> RFC 7301 wire list) and sslua_alpn_match
 * (server preference order against the client's list).
 *
 * Input: byte 0 = number of names n (n % 40); then n names, each a length
 * byte followed by that many bytes (length 0xFF with flag bit means a
 * "not a string" entry; short input truncates); the rest is a raw client
 * wire list given to sslua_alpn_match as it is (may be malformed).
 *
 * Invariants checked against an independent model:
 *   wire: success iff every name is a string of 1..255 bytes and the total
 *         is <= 65533; on failure the FIRST bad name picks the message;
 *         the output is exactly len||name for each name;
 *   match: the result points inside the client list, at a name of it, and
 *         equals the first server name (in server order) that occurs among
 *         the client's names, both lists read up to their first malformed
 *         entry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "alpn.h"

#define CHECK(c) do { if (!(c)) { \
  fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #c); \
  abort(); } } while (0)

/* Number of well-formed names at the start of a wire list. */
static size_t wellformed(const unsigned char *p, size_t len, const unsigned char **names,
                         unsigned char *lens, size_t max)
{
  size_t n = 0, i = 0;
  while (i < len && p[i] != 0 && len - i - 1 >= p[i] && n < max) {
    names[n] = p + i + 1;
    lens[n] = p[i];
    n++;
    i += 1 + (size_t)p[i];
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *names[64];
  static size_t lens[64];
  /* Big names are built from this pattern (up to 300 bytes). */
  static char big[300];
  size_t n, i, pos = 1, total = 0;
  const char *expect_err = NULL;
  unsigned char *out = NULL;
  size_t outlen = 0;
  const char *err = NULL;
  int ok;

  if (size < 1) return 0;
  memset(big, 'b', sizeof(big));
  n = data[0] % 40;
  for (i = 0; i < n; i++) {
    size_t l;
    if (pos >= size) { names[i] = ""; lens[i] = 0; continue; }
    l = data[pos++];
    if (l == 0xFF && pos < size && (data[pos] & 1)) {     /* not a string */
      names[i] = NULL; lens[i] = 0; pos++;
    } else if (l >= 0xF0) {                               /* long names */
      names[i] = big; lens[i] = 250 + (l - 0xF0) * 5;     /* 250..325 */
      if (lens[i] > sizeof(big)) lens[i] = sizeof(big);
    } else {
      if (l > size - pos) l = size - pos;
      names[i] = (const char *)data + pos; lens[i] = l; pos += l;
    }
  }
  /* model of sslua_alpn_wire */
  if (n == 0) expect_err = SSLUA_ALPN_ERR_NONE;
  for (i = 0; i < n && expect_err == NULL; i++) {
    if (names[i] == NULL) expect_err = SSLUA_ALPN_ERR_PARAM;
    else if (lens[i] == 0) expect_err = SSLUA_ALPN_ERR_EMPTY;
    else if (lens[i] > 255) expect_err = SSLUA_ALPN_ERR_LONG;
    else total += 1 + lens[i];
  }
  if (expect_err == NULL && total > 65533) expect_err = SSLUA_ALPN_ERR_TOOLONG;

  ok = sslua_alpn_wire(names, lens, n, &out, &outlen, &err);
  if (expect_err != NULL) {
    CHECK(!ok && out == NULL && outlen == 0);
    CHECK(err != NULL && strcmp(err, expect_err) == 0);
    return 0;
  }
  CHECK(ok && out != NULL && outlen == total);
  {
    size_t o = 0;
    for (i = 0; i < n; i++) {
      CHECK(out[o] == lens[i]);
      CHECK(memcmp(out + o + 1, names[i], lens[i]) == 0);
      o += 1 + lens[i];
    }
  }

  /* match against the rest of the input, used raw as the client list */
  {
    const unsigned char *client = data + (pos < size ? pos : size);
    size_t client_len = size - (pos < size ? pos : size);
    static const unsigned char *sn[40000], *cn[40000];
    static unsigned char sl[40000], cl[40000];
    size_t ns = wellformed(out, outlen, sn, sl, 40000);
    size_t nc = wellformed(client, client_len, cn, cl, 40000);
    const unsigned char *m = NULL, *res = NULL;
    unsigned char mlen = 0, reslen = 0;
    size_t a, b;
    for (a = 0; a < ns && m == NULL; a++)
      for (b = 0; b < nc && m == NULL; b++)
        if (sl[a] == cl[b] && memcmp(sn[a], cn[b], sl[a]) == 0) { m = cn[b]; mlen = cl[b]; }
    ok = sslua_alpn_match(out, outlen, client, client_len, &res, &reslen);
    CHECK(ok == (m != NULL));
    if (ok) {
      CHECK(res >= client && res + reslen <= client + client_len);
      CHECK(res == m && reslen == mlen);
    }
    /* the client list against itself: its first well-formed name */
    ok = sslua_alpn_match(client, client_len, client, client_len, &res, &reslen);
    CHECK(ok == (nc > 0));
    if (ok) CHECK(res == cn[0] && reslen == cl[0]);
  }
  OPENSSL_free(out);
  return 0;
}
