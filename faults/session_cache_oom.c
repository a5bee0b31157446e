/*
 * faults/session_cache_oom.c - OpenSSL alone (no sslua, no Lua): what one
 * failed allocation inside SSL_CTX_add_session does to the session cache.
 *
 *   faults/session-cache-oom [OPENSSL_PREFIX]   builds and runs it
 *
 * The cache keeps each session twice, in a hash (lhash) and in a list
 * ordered by expiry, and owns one reference for both. When the hash insert
 * fails for want of memory, OpenSSL 3.0's SSL_CTX_add_session (checked:
 * 3.0.19 here, 3.0.20 and 3.0.22 source) gives back the cache's reference
 * but still links the session into the list. The list then points at a
 * session that its last owner frees. OpenSSL 3.5 and 3.6 (3.5.7, 3.6.3
 * source) link a session only when the insert succeeded.
 *
 * What happens next depends on who gets the freed memory. This program
 * plays the course whose traces the allocation sweep's session scenario
 * left on 3.0 (only indirect leaks at exit, sessions and their locks: 928
 * and 56 bytes, 492 on average):
 *   1. session A is cached; session C's insert fails (the one allocation
 *      made to fail here: the hash node);
 *   2. B1 and B2 are cached, each in front of C;
 *   3. C's last owner frees it: B1's and A's list neighbour is now a freed
 *      block; a new session E gets that block (same size) and is cached
 *      in front;
 *   4. SSL_CTX_free walks the list from the oldest end: A, then what A
 *      points to, C's block, now E, which reads as the head: the walk ends.
 *      B1 and B2 are never reached: they are still in the hash, but
 *      SSL_CTX_free frees the hash without what it holds. They point at
 *      each other, so LeakSanitizer reports them (and their locks) as
 *      indirect leaks.
 * Built with LeakSanitizer alone, whose allocator hands a freed block to
 * the next allocation of its size. Had nobody taken C's block, the walk
 * would not end: C's links were cleared when it was freed, so unlinking
 * it does nothing and it stays the oldest entry.
 *
 * Exit status: 0 when nothing went wrong; LeakSanitizer's (23) when the
 * cache lost sessions; 3 when E did not get C's block (nothing shown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

static int fail_next;   /* the next OpenSSL allocation fails */
static SSL_CTX *kept;   /* reachable at exit: not a leak */

static void *fail_malloc(size_t n, const char *file, int line)
{
  if (fail_next) {
    fail_next = 0;
    printf("failed the allocation at %s:%d\n", file, line);
    return NULL;
  }
  return malloc(n);
}

static void *fail_realloc(void *p, size_t n, const char *file, int line)
{
  if (p == NULL)
    return fail_malloc(n, file, line);
  return realloc(p, n);
}

static void plain_free(void *p, const char *file, int line)
{
  (void)file;
  (void)line;
  free(p);
}

/* A new session (id: 32 times idbyte) offered to the cache, as a server
 * does at the end of a full handshake; the caller keeps its reference. */
static SSL_SESSION *cached(SSL_CTX *ctx, unsigned char idbyte, int fail_insert)
{
  unsigned char id[32];
  SSL_SESSION *s = SSL_SESSION_new();

  memset(id, idbyte, sizeof(id));
  if (s == NULL || !SSL_SESSION_set1_id(s, id, sizeof(id))) {
    fprintf(stderr, "session setup failed\n");
    exit(2);
  }
  fail_next = fail_insert;
  SSL_CTX_add_session(ctx, s);
  fail_next = 0;
  printf("session %02x at %p; the cache holds %ld\n", idbyte, (void *)s,
         SSL_CTX_sess_number(ctx));
  return s;
}

int main(void)
{
  SSL_CTX *ctx;
  SSL_SESSION *a, *b1, *b2, *c, *e;
  void *c_block;

  if (!CRYPTO_set_mem_functions(fail_malloc, fail_realloc, plain_free))
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);   /* LeakSanitizer ends with _exit */
  ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL)
    return 2;
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  printf("%s\n", OpenSSL_version(OPENSSL_VERSION));

  a = cached(ctx, 0xa0, 0);
  c = cached(ctx, 0xc0, 1);    /* its hash insert fails */
  b1 = cached(ctx, 0xb1, 0);
  b2 = cached(ctx, 0xb2, 0);
  c_block = c;
  SSL_SESSION_free(c);         /* the last reference: C is freed */
  e = cached(ctx, 0xe0, 0);
  if ((void *)e != c_block) {
    /* On 3.0, SSL_CTX_free would now walk the list forever (C's links were
     * cleared when it was freed); keep the cache reachable and say so. */
    printf("E did not get C's block: nothing shown\n");
    kept = ctx;
    return 3;
  }
  printf("E has C's block\n");
  SSL_SESSION_free(a);
  SSL_SESSION_free(b1);
  SSL_SESSION_free(b2);
  SSL_SESSION_free(e);
  SSL_CTX_free(ctx);           /* frees every session the cache can find */
  return 0;
}
