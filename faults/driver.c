/*
 * faults/driver.c - a Lua 5.3 host whose allocations can be made to fail.
 *
 *   driver SCRIPT [ARG...]
 *
 * One countdown serves both allocators: OpenSSL's (CRYPTO_set_mem_functions,
 * installed before OpenSSL allocates anything) and the Lua state's lua_Alloc.
 * faults.arm(n) makes the n-th allocation from then on fail, whichever
 * library asks. The module (ssl.core, ssl.context, ssl.x509, ssl.config) is
 * linked in and preloaded; ssl.lua and LuaSocket come from LUA_PATH and
 * LUA_CPATH as usual. The script gets a global table `faults`:
 *
 *   faults.arm(n)      the n-th allocation from now fails (0: none)
 *   faults.disarm()    -> fired (boolean), allocations counted since arm
 *   faults.site()      -> "openssl"|"lua", where the last injected failure was
 *   faults.leaks()     -> true when LeakSanitizer finds unreachable memory now
 *   faults.label(text) what a crash report names as the current step
 *   faults.random(k [, seed])  from now on each allocation fails with
 *                      probability 1/k (0: off), reproducibly from seed;
 *                      returns how many failures it injected so far
 *
 * Two rules of the allocators shape the countdown:
 *  - Lua never lets a shrinking realloc fail (lmem.c asserts it), so only
 *    allocations and growing reallocs count;
 *  - Lua answers a failed allocation with an emergency collection and one
 *    retry, so when the failure lands in Lua the retry fails too: otherwise
 *    most injected Lua failures would never be seen by the code under test.
 *
 * One allocation is never failed: on OpenSSL 3.0, the hash insert inside
 * SSL_CTX_add_session (see spares_session_cache_insert).
 *
 * FAULTS_SITES=FILE appends one line per injected failure: the label, the
 * allocator, and the call site (OpenSSL's file:line, or for Lua the first
 * return address outside liblua and this file, as object+offset).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../fuzz/preload.h"

/* Present when built with -fsanitize=address (weak: absent otherwise). */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static struct {
  unsigned long countdown;   /* 0: off; 1: the next allocation fails */
  unsigned long counted;     /* allocations since arm */
  int fired;
  int lua_retry;             /* the next Lua allocation is Lua's retry */
  unsigned long one_in;      /* random mode: 1/one_in of allocations fail */
  unsigned long long rng;    /* xorshift64 state */
  unsigned long random_fired;
  char site[512];
  char label[256];
  FILE *sites;
  int spare_cache_insert;    /* OpenSSL 3.0: see spares_session_cache_insert */
  unsigned long spared;      /* allocations it left out while injecting */
} inj;

/* Counts one allocation; true when this one must fail. */
static int must_fail(void)
{
  if (inj.one_in != 0) {
    inj.rng ^= inj.rng << 13;
    inj.rng ^= inj.rng >> 7;
    inj.rng ^= inj.rng << 17;
    if (inj.rng % inj.one_in != 0)
      return 0;
    inj.random_fired++;
    return 1;
  }
  if (inj.countdown == 0)
    return 0;
  inj.counted++;
  if (--inj.countdown != 0)
    return 0;
  inj.fired = 1;
  return 1;
}

static void note_site(const char *kind)
{
  if (inj.sites != NULL) {
    fprintf(inj.sites, "%s\t%s\t%s\n", inj.label, kind, inj.site);
    fflush(inj.sites);
  }
}

/* ------------------------------------------------------------------ */
/* OpenSSL                                                             */

/* OpenSSL 3.0's SSL_CTX_add_session (3.0.19 run, 3.0.22 read), when its
 * hash insert fails for want of memory, gives back the cache's reference
 * to the session but still links it into the cache's list: the list keeps
 * the session after its owner frees it, and the cache is corrupt for the
 * rest of the process (at SSL_CTX_free: sessions lost, a double free or an
 * endless walk, by what became of that memory; faults/session_cache_oom.c
 * shows it without the module). No code of the module runs there (OpenSSL
 * calls it when a server handshake ends), so on 3.0 the allocations of
 * that insert (lhash.c, called from SSL_CTX_add_session) are never failed
 * and do not count. 3.5 and 3.6 keep such a session out of the list. */
static int spares_session_cache_insert(const char *file)
{
  void *frames[12];
  int n, i;

  if (!inj.spare_cache_insert || file == NULL || strstr(file, "lhash.c") == NULL)
    return 0;
  n = backtrace(frames, 12);
  for (i = 0; i < n; i++) {
    Dl_info info;
    if (dladdr(frames[i], &info) != 0 && info.dli_sname != NULL &&
        strcmp(info.dli_sname, "SSL_CTX_add_session") == 0) {
      inj.spared++;
      return 1;
    }
  }
  return 0;
}

/* Injection is on, and this allocation may be failed. */
static int injecting(const char *file)
{
  return (inj.countdown != 0 || inj.one_in != 0) && !spares_session_cache_insert(file);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
  if (n == 0)
    return NULL;
  if (injecting(file) && must_fail()) {
    snprintf(inj.site, sizeof(inj.site), "%s:%d", file ? file : "?", line);
    note_site("openssl");
    return NULL;
  }
  return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
  if (p == NULL)
    return ossl_malloc(n, file, line);
  if (n == 0) {
    free(p);
    return NULL;
  }
  if (injecting(file) && must_fail()) {
    snprintf(inj.site, sizeof(inj.site), "%s:%d", file ? file : "?", line);
    note_site("openssl");
    return NULL;
  }
  return realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
  (void)file;
  (void)line;
  free(p);
}

/* ------------------------------------------------------------------ */
/* Lua                                                                 */

static int in_object(void *addr, const char *needle)
{
  Dl_info info;
  return dladdr(addr, &info) != 0 && info.dli_fname != NULL &&
         strstr(info.dli_fname, needle) != NULL;
}

/* The first caller of liblua's allocation path, as object+offset: the
 * frames up to liblua are this allocator's, the liblua ones after it are
 * Lua's own, the next one called into Lua (our module, LuaSocket, ...). */
static void lua_site(void)
{
  void *frames[64];
  int n = backtrace(frames, 64), i = 0;
  while (i < n && !in_object(frames[i], "liblua"))
    i++;
  while (i < n && in_object(frames[i], "liblua"))
    i++;
  if (i < n) {
    Dl_info info;
    if (dladdr(frames[i], &info) != 0 && info.dli_fname != NULL) {
      const char *base = strrchr(info.dli_fname, '/');
      snprintf(inj.site, sizeof(inj.site), "%s+0x%lx", base ? base + 1 : info.dli_fname,
               (unsigned long)((char *)frames[i] - (char *)info.dli_fbase) - 1);
      return;
    }
  }
  snprintf(inj.site, sizeof(inj.site), "lua-vm");
}

static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL || nsize > osize) {
    if (inj.lua_retry) {
      inj.lua_retry = 0;
      return NULL;
    }
    if (must_fail()) {
      inj.lua_retry = 1;
      lua_site();
      note_site("lua");
      return NULL;
    }
  }
  return realloc(ptr, nsize);
}

/* ------------------------------------------------------------------ */
/* the faults table                                                    */

static int f_arm(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  inj.fired = 0;
  inj.counted = 0;
  inj.lua_retry = 0;
  inj.site[0] = '\0';
  inj.countdown = n > 0 ? (unsigned long)n : 0;
  return 0;
}

static int f_disarm(lua_State *L)
{
  inj.countdown = 0;
  inj.lua_retry = 0;
  lua_pushboolean(L, inj.fired);
  lua_pushinteger(L, (lua_Integer)inj.counted);
  return 2;
}

static int f_site(lua_State *L)
{
  lua_pushstring(L, inj.site);
  return 1;
}

static int f_leaks(lua_State *L)
{
  lua_pushboolean(L, __lsan_do_recoverable_leak_check != NULL &&
                     __lsan_do_recoverable_leak_check() != 0);
  return 1;
}

static int f_label(lua_State *L)
{
  snprintf(inj.label, sizeof(inj.label), "%s", luaL_checkstring(L, 1));
  return 0;
}

static int f_random(lua_State *L)
{
  lua_Integer k = luaL_checkinteger(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    inj.rng = (unsigned long long)luaL_checkinteger(L, 2) ^ 0x9E3779B97F4A7C15ULL;
  }
  if (inj.rng == 0)
    inj.rng = 88172645463325252ULL;
  inj.lua_retry = 0;
  inj.one_in = k > 0 ? (unsigned long)k : 0;
  lua_pushinteger(L, (lua_Integer)inj.random_fired);
  return 1;
}

static int f_sanitized(lua_State *L)
{
  lua_pushboolean(L, __lsan_do_recoverable_leak_check != NULL);
  return 1;
}

static const luaL_Reg faults_lib[] = {
  { "arm", f_arm }, { "disarm", f_disarm }, { "site", f_site },
  { "leaks", f_leaks }, { "label", f_label }, { "sanitized", f_sanitized },
  { "random", f_random },
  { NULL, NULL }
};

static void on_death(void)
{
  fprintf(stderr, "faults: died during %s (last injected site: %s)\n",
          inj.label[0] ? inj.label : "setup", inj.site[0] ? inj.site : "none");
}

int main(int argc, char **argv)
{
  lua_State *L;
  int i, status;
  void *warm[2];

  /* Before anything else: OpenSSL refuses once it has allocated. */
  if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
    fprintf(stderr, "faults: CRYPTO_set_mem_functions refused (OpenSSL already allocated)\n");
    return 2;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARG...]\n", argv[0]);
    return 2;
  }
  inj.spare_cache_insert = (OpenSSL_version_num() >> 20) == 0x300;   /* 3.0.x */
  backtrace(warm, 2);   /* loads the unwinder now, not inside an allocation */
  if (__sanitizer_set_death_callback != NULL)
    __sanitizer_set_death_callback(on_death);
  if (getenv("FAULTS_SITES") != NULL)
    inj.sites = fopen(getenv("FAULTS_SITES"), "a");

  L = lua_newstate(lua_alloc, NULL);
  if (L == NULL)
    return 2;
  luaL_openlibs(L);
  preload_sslua(L);
  luaL_newlib(L, faults_lib);
  lua_setglobal(L, "faults");

  lua_createtable(L, argc, 0);
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");

  status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK) {
    for (i = 2; i < argc; i++)
      lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 1, 0);
  }
  if (status != LUA_OK) {
    fprintf(stderr, "faults: %s\n", lua_tostring(L, -1));
  } else if (lua_isinteger(L, -1)) {
    status = (int)lua_tointeger(L, -1);
  }
  /* C modules stay loaded (no dlclose at lua_close): LeakSanitizer's
   * report at exit must still be able to name their frames. */
  lua_getfield(L, LUA_REGISTRYINDEX, "_CLIBS");
  if (lua_getmetatable(L, -1)) {
    lua_pushnil(L);
    lua_setfield(L, -2, "__gc");
  }
  lua_settop(L, 0);
  lua_close(L);
  if (inj.sites != NULL)
    fclose(inj.sites);
  if (inj.spared != 0)
    fprintf(stderr, "spared: %lu allocations of SSL_CTX_add_session's hash insert, left out "
            "of the countdown (OpenSSL 3.0)\n", inj.spared);
  return status;
}
