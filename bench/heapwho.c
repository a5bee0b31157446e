/*
 * bench/heapwho.c - who holds the heap: an LD_PRELOAD accounting of live
 * malloc'd bytes by the library that asked for them.
 *
 *   cc -shared -fPIC -O2 bench/heapwho.c -o build/bench/heapwho.so -ldl
 *   LD_PRELOAD=build/bench/heapwho.so lua5.3 bench/memory.lua ...
 *
 * Every allocation is charged to the first caller on its stack outside
 * libc and OpenSSL's allocator wrappers (CRYPTO_malloc and friends live
 * in libcrypto, so an SSL_new shows as libssl, a Lua string as lua5.3).
 * Whenever the program opens /proc/self/statm (the memory drivers do,
 * to read RSS), one line goes to stderr:
 *
 *   heapwho live=N blocks=M in_use=U free=F lua5.3=B/b/T libssl.so.3=B/b/T ...
 *
 * live bytes, live blocks and bytes ever allocated per owner (the last
 * minus the first is garbage made and freed since), so two snapshots subtract into what
 * the connections opened between them hold. Block bytes are what was
 * asked for; in_use adds malloc's headers and rounding (mallinfo2), and
 * free is memory inside the heap that no block holds (holes left by
 * freed blocks, which RSS still counts once touched).
 * Not thread-safe beyond a lock; for measurements, never for production.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OWNERS    32
#define SLOTS     (1u << 20)     /* live blocks tracked (open addressing) */
#define DEPTH     8

typedef struct { void *p; size_t size; int owner; } slot;

static slot *table;
static char owner_name[OWNERS][64];
static long owner_bytes[OWNERS], owner_blocks[OWNERS], owner_total[OWNERS];
static int owners;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside;     /* our own bookkeeping allocates nothing, backtrace may */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static FILE *(*real_fopen)(const char *, const char *);

/* dlsym's own calloc before real_calloc is known: a small static arena. */
static char boot[4096];
static size_t boot_used;

static void init(void)
{
  if (real_malloc != NULL)
    return;
  real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  real_fopen = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
}

static unsigned hash(const void *p)
{
  return (unsigned)(((uintptr_t)p >> 4) * 2654435761u) & (SLOTS - 1);
}

/* Whose allocation this is: the first frame that is neither libc, this
 * file, nor libcrypto's allocation wrappers. */
static int find_owner(void)
{
  void *frames[DEPTH];
  int n, i, k;
  inside = 1;
  n = backtrace(frames, DEPTH);
  for (i = 2; i < n; i++) {
    Dl_info info;
    const char *base;
    if (!dladdr(frames[i], &info) || info.dli_fname == NULL)
      continue;
    base = strrchr(info.dli_fname, '/');
    base = base ? base + 1 : info.dli_fname;
    if (strncmp(base, "libc.so", 7) == 0 || strstr(base, "heapwho") != NULL)
      continue;
    if (info.dli_sname != NULL && strncmp(info.dli_sname, "CRYPTO_", 7) == 0)
      continue;
    for (k = 0; k < owners; k++)
      if (strcmp(owner_name[k], base) == 0)
        break;
    if (k == owners && owners < OWNERS)
      snprintf(owner_name[owners++], sizeof(owner_name[0]), "%s", base);
    inside = 0;
    return k < OWNERS ? k : OWNERS - 1;
  }
  inside = 0;
  return OWNERS - 1;
}

static void track(void *p, size_t size)
{
  unsigned h;
  int owner;
  if (p == NULL || inside)
    return;
  owner = find_owner();
  pthread_mutex_lock(&lock);
  if (table == NULL) {
    inside = 1;
    table = (slot *)real_calloc(SLOTS, sizeof(slot));
    inside = 0;
  }
  for (h = hash(p); table[h].p != NULL; h = (h + 1) & (SLOTS - 1)) {}
  table[h].p = p;
  table[h].size = size;
  table[h].owner = owner;
  owner_bytes[owner] += (long)size;
  owner_blocks[owner]++;
  owner_total[owner] += (long)size;
  pthread_mutex_unlock(&lock);
}

/* Backward-shift deletion keeps probe chains intact. */
static void untrack(void *p)
{
  unsigned h, j;
  if (p == NULL || table == NULL)
    return;
  pthread_mutex_lock(&lock);
  for (h = hash(p); table[h].p != NULL && table[h].p != p; h = (h + 1) & (SLOTS - 1)) {}
  if (table[h].p == p) {
    owner_bytes[table[h].owner] -= (long)table[h].size;
    owner_blocks[table[h].owner]--;
    table[h].p = NULL;
    for (j = (h + 1) & (SLOTS - 1); table[j].p != NULL; j = (j + 1) & (SLOTS - 1)) {
      unsigned home = hash(table[j].p);
      if (((j - home) & (SLOTS - 1)) >= ((j - h) & (SLOTS - 1))) {
        table[h] = table[j];
        table[j].p = NULL;
        h = j;
      }
    }
  }
  pthread_mutex_unlock(&lock);
}

void *malloc(size_t size)
{
  void *p;
  init();
  p = real_malloc(size);
  track(p, size);
  return p;
}

void *calloc(size_t n, size_t size)
{
  void *p;
  if (real_calloc == NULL) {        /* dlsym asking, during init */
    size_t want = (n * size + 15) & ~(size_t)15;
    p = boot + boot_used;
    boot_used += want;
    return boot_used <= sizeof(boot) ? p : NULL;
  }
  p = real_calloc(n, size);
  track(p, n * size);
  return p;
}

void *realloc(void *old, size_t size)
{
  void *p;
  init();
  untrack(old);
  p = real_realloc(old, size);
  if (p == NULL && size != 0)
    track(old, size);               /* failed: the old block lives on (size approximate) */
  else
    track(p, size);
  return p;
}

void free(void *p)
{
  if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
    return;
  init();
  untrack(p);
  real_free(p);
}

static void report(void)
{
  long live = 0, blocks = 0;
  int k;
  struct mallinfo2 mi = mallinfo2();
  pthread_mutex_lock(&lock);
  for (k = 0; k < OWNERS; k++)
    live += owner_bytes[k], blocks += owner_blocks[k];
  /* in_use: what malloc counts as allocated (headers and rounding
   * included); free: chunks free inside the heap (holes, touched or not). */
  fprintf(stderr, "heapwho live=%ld blocks=%ld in_use=%zu free=%zu", live, blocks,
          mi.uordblks, mi.fordblks);
  for (k = 0; k < owners; k++)
    fprintf(stderr, " %s=%ld/%ld/%ld", owner_name[k], owner_bytes[k], owner_blocks[k],
            owner_total[k]);
  fprintf(stderr, "\n");
  pthread_mutex_unlock(&lock);
}

FILE *fopen(const char *path, const char *mode)
{
  init();
  if (strcmp(path, "/proc/self/statm") == 0)
    report();
  return real_fopen(path, mode);
}

/* What liblua's io.open calls on 64-bit glibc. */
FILE *fopen64(const char *path, const char *mode)
{
  return fopen(path, mode);
}
