/*
 * bench/ref.c - the C reference for the benchmarks in bench/.
 *
 * Blocking sockets and OpenSSL called directly, doing the same work as the
 * Lua drivers (bench/handshake.lua, bulk.lua, memory.lua): the same context
 * settings as a Lua context built with options = "all" (session cache off,
 * partial writes, moving write buffer), the same chunk sizes and the same
 * loops. It is both the yardstick (measured against the Lua drivers) and
 * the fast peer that drives them.
 *
 *   ref hs    role=client|server port=P tls=1.2|1.3 key=rsa|ecdsa count=N certs=DIR
 *   ref bulk  role=recv  pattern=16384|65536|*a|*l bytes=N port=P tls= key= certs=
 *             role=send  bytes=N port=P ...          (client; the measured sides)
 *             role=source|sink port=0 bytes=N ...    (server; the fast peers)
 *   ref mem   role=client|server count=N port=P ...  (idle connections, RSS)
 *   release=1 (any mode): SSL_MODE_RELEASE_BUFFERS, record buffers freed when empty
 *
 * Servers print "ready port=N" once listening; every mode ends with one
 * "result k=v ..." line on stdout. Anything wrong exits 1 with a message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define CHUNK     ((size_t)1 << 20) /* what a sender hands to one write: 1 MiB */
#define LINE_LEN  64              /* *l lines: 63 bytes and "\n" */
#define SINK_READ 16384           /* the fast receiver's read size */

/* ------------------------------------------------------------ options */

typedef struct {
  const char *mode, *role, *tls, *key, *certs, *pattern;
  long port, count, wait, release;
  long long bytes;
} opts;

typedef struct { const char *name; size_t off; char type; } opt_field;

static const opt_field fields[] = {
  { "role",    offsetof(opts, role),    's' },
  { "tls",     offsetof(opts, tls),     's' },
  { "key",     offsetof(opts, key),     's' },
  { "certs",   offsetof(opts, certs),   's' },
  { "pattern", offsetof(opts, pattern), 's' },
  { "port",    offsetof(opts, port),    'l' },
  { "count",   offsetof(opts, count),   'l' },
  { "wait",    offsetof(opts, wait),    'l' },
  { "release", offsetof(opts, release), 'l' },
  { "bytes",   offsetof(opts, bytes),   'L' },
};

static void die(const char *what)
{
  fprintf(stderr, "ref: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static void set_field(opts *o, const char *arg)
{
  const char *eq = strchr(arg, '=');
  size_t i, n = eq ? (size_t)(eq - arg) : 0;
  for (i = 0; eq && i < sizeof(fields) / sizeof(fields[0]); i++) {
    char *at = (char *)o + fields[i].off;
    if (strlen(fields[i].name) != n || strncmp(fields[i].name, arg, n) != 0)
      continue;
    if (fields[i].type == 's') *(const char **)at = eq + 1;
    else if (fields[i].type == 'l') *(long *)at = strtol(eq + 1, NULL, 10);
    else *(long long *)at = strtoll(eq + 1, NULL, 10);
    return;
  }
  fprintf(stderr, "ref: unknown argument %s\n", arg);
  exit(2);
}

static opts parse(int argc, char **argv)
{
  opts o = { "", "", "1.3", "rsa", "build/certs", "16384", 0, 1, 1, 0, 0 };
  int i;
  if (argc < 2) die("usage: ref hs|bulk|mem key=value...");
  o.mode = argv[1];
  for (i = 2; i < argc; i++) set_field(&o, argv[i]);
  return o;
}

/* ------------------------------------------------------------ clocks */

static double clock_of(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void) { return clock_of(CLOCK_MONOTONIC); }
static double cpu(void)  { return clock_of(CLOCK_PROCESS_CPUTIME_ID); }

/* Resident set size in bytes, from /proc/self/statm (pages). */
static long rss_bytes(void)
{
  long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2) die("statm");
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------ sockets */

static struct sockaddr_in loopback(long port)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* Listens on 127.0.0.1:port (0: any free port) and says which port. */
static int listen_on(long port)
{
  struct sockaddr_in a = loopback(port);
  socklen_t len = sizeof(a);
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1024) != 0)
    die("bind/listen");
  getsockname(fd, (struct sockaddr *)&a, &len);
  printf("ready port=%d\n", ntohs(a.sin_port));
  fflush(stdout);
  return fd;
}

static int connect_to(long port)
{
  struct sockaddr_in a = loopback(port);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) die("connect");
  return fd;
}

/* ------------------------------------------------------------ TLS */

static SSL_CTX *make_ctx(const opts *o, int server)
{
  char path[512];
  int version = strcmp(o->tls, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  SSL_CTX_set_options(ctx, SSL_OP_ALL);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* release=1: OpenSSL frees its record buffers whenever they are empty
   * (the least an idle connection can hold; costs throughput). */
  if (o->release)
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (server) {
    snprintf(path, sizeof(path), "%s/server-%s-chain.pem", o->certs, o->key);
    if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) die(path);
    snprintf(path, sizeof(path), "%s/server-%s.key", o->certs, o->key);
    if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1) die(path);
  } else {
    snprintf(path, sizeof(path), "%s/ca.pem", o->certs);
    if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) die(path);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  }
  return ctx;
}

/* A TLS connection over fd after a completed handshake, or NULL. */
static SSL *handshake(SSL_CTX *ctx, int fd, int server)
{
  SSL *ssl = SSL_new(ctx);
  if (ssl == NULL) die("SSL_new");
  SSL_set_fd(ssl, fd);
  int ret = server ? SSL_accept(ssl) : SSL_connect(ssl);
  if (ret == 1) return ssl;
  fprintf(stderr, "ref: handshake failed (SSL error %d, %s)\n",
          SSL_get_error(ssl, ret), strerror(errno));
  ERR_print_errors_fp(stderr);
  SSL_free(ssl);
  close(fd);
  return NULL;
}

/* close_notify once without waiting, as conn:close() does. */
static void tls_close(SSL *ssl)
{
  int fd = SSL_get_fd(ssl);
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
}

static SSL *accept_tls(SSL_CTX *ctx, int lfd)
{
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) die("accept");
  return handshake(ctx, fd, 1);
}

static SSL *connect_tls(SSL_CTX *ctx, long port)
{
  SSL *ssl = handshake(ctx, connect_to(port), 0);
  if (ssl == NULL) die("handshake");
  return ssl;
}

static void print_session(SSL *ssl)
{
  printf("protocol=%s cipher=%s ", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

/* Writes all of buf; with partial writes on, SSL_write stops after each
 * record, so this loops exactly like a Lua send() of the same string. */
static void write_all(SSL *ssl, const char *buf, size_t len)
{
  size_t done = 0;
  while (done < len) {
    int n = SSL_write(ssl, buf + done, (int)(len - done));
    if (n <= 0) die("SSL_write");
    done += (size_t)n;
  }
}

/* Fills buf with exactly len bytes, as receive(len) does; 0 at a clean end. */
static int read_exact(SSL *ssl, char *buf, size_t len)
{
  size_t got = 0;
  while (got < len) {
    int n = SSL_read(ssl, buf + got, (int)(len - got));
    if (n <= 0) return 0;
    got += (size_t)n;
  }
  return 1;
}

/* Reads until the peer closes (or anything fails). */
static void drain(SSL *ssl)
{
  char buf[256];
  while (SSL_read(ssl, buf, sizeof(buf)) > 0) {}
}

/* ------------------------------------------------------------ handshakes */

/* One handshake "transaction", the same in every driver: the server
 * accepts, completes the handshake and closes (close_notify, then close);
 * the client connects, completes the handshake, reads until the server's
 * close_notify (which also takes in TLS 1.3 session tickets) and closes.
 * The server closing first means neither side ever closes with unread data
 * (which would reset the connection under the other's ticket writes).
 * wait=0 closes the client at once: only for `openssl s_server`, which
 * waits for its client to close first. */

/* count = 0: serve until killed (for s_time, which is time-bound). */
static int hs_server(const opts *o)
{
  SSL_CTX *ctx = make_ctx(o, 1);
  int lfd = listen_on(o->port);
  long i, ok = 0;
  double w0 = 0, c0 = cpu();
  for (i = 0; o->count == 0 || i < o->count; i++) {
    SSL *ssl = accept_tls(ctx, lfd);
    if (i == 0) w0 = wall(), c0 = cpu();
    if (ssl == NULL) continue;
    ok++;
    tls_close(ssl);
  }
  printf("result impl=ref count=%ld ok=%ld wall=%.6f cpu=%.6f\n",
         i, ok, wall() - w0, cpu() - c0);
  return ok == i ? 0 : 1;
}

static int hs_client(const opts *o)
{
  SSL_CTX *ctx = make_ctx(o, 0);
  double w0 = wall(), c0 = cpu();
  long i;
  printf("result impl=ref ");
  for (i = 0; i < o->count; i++) {
    SSL *ssl = connect_tls(ctx, o->port);
    if (i == 0) print_session(ssl);
    if (o->wait) drain(ssl);
    tls_close(ssl);
  }
  printf("count=%ld ok=%ld wall=%.6f cpu=%.6f\n", i, i, wall() - w0, cpu() - c0);
  return 0;
}

/* ------------------------------------------------------------ bulk */

/* 1 MiB of 64-byte lines, what every sender writes. */
static char *line_chunk(void)
{
  char *buf = malloc(CHUNK);
  size_t i;
  if (buf == NULL) die("malloc");
  for (i = 0; i < CHUNK; i++)
    buf[i] = (i % LINE_LEN == LINE_LEN - 1) ? '\n' : (char)('a' + i % 26);
  return buf;
}

static int bulk_source(const opts *o, SSL_CTX *ctx)
{
  char *buf = line_chunk();
  SSL *ssl = accept_tls(ctx, listen_on(o->port));
  long long sent;
  double w0 = wall(), c0 = cpu();
  if (ssl == NULL) die("handshake");
  for (sent = 0; sent < o->bytes; sent += CHUNK)
    write_all(ssl, buf, CHUNK);
  SSL_shutdown(ssl);
  drain(ssl);
  printf("result impl=ref bytes=%lld wall=%.6f cpu=%.6f\n", sent, wall() - w0, cpu() - c0);
  return 0;
}

static int bulk_sink(const opts *o, SSL_CTX *ctx)
{
  static char buf[SINK_READ];
  SSL *ssl = accept_tls(ctx, listen_on(o->port));
  long long got;
  double w0 = wall(), c0 = cpu();
  if (ssl == NULL) die("handshake");
  for (got = 0; got < o->bytes; got += SINK_READ)
    if (!read_exact(ssl, buf, SINK_READ)) die("sink: short read");
  write_all(ssl, "ok\n", 3);
  drain(ssl);
  printf("result impl=ref bytes=%lld wall=%.6f cpu=%.6f\n", got, wall() - w0, cpu() - c0);
  return 0;
}

static long long recv_count(SSL *ssl, long long total, size_t size)
{
  char *buf = malloc(size);
  long long got = 0;
  if (buf == NULL) die("malloc");
  while (got < total && read_exact(ssl, buf, size)) got += (long long)size;
  free(buf);
  return got;
}

/* receive("*a"): everything up to close_notify, in one growing buffer. */
static long long recv_all(SSL *ssl)
{
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    int n;
    if (len == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (bigger == NULL) die("realloc");
      buf = bigger;
    }
    if (buf == NULL) die("malloc");
    n = SSL_read(ssl, buf + len, (int)(cap - len));
    if (n <= 0) break;
    len += (size_t)n;
  }
  free(buf);
  return (long long)len;
}

/* receive("*l") in a loop: each line copied out of a 16 KiB read buffer,
 * as a Lua string would be, counted with its "\n". */
static long long recv_lines(SSL *ssl, long long total)
{
  static char rbuf[16384], line[65536];
  size_t pos = 0, end = 0, llen = 0;
  long long got = 0;
  while (got < total) {
    char *nl;
    size_t take;
    if (pos == end) {
      int n = SSL_read(ssl, rbuf, sizeof(rbuf));
      if (n <= 0) break;
      pos = 0, end = (size_t)n;
    }
    nl = memchr(rbuf + pos, '\n', end - pos);
    take = nl ? (size_t)(nl - (rbuf + pos)) : end - pos;
    if (llen + take > sizeof(line)) die("line too long");
    memcpy(line + llen, rbuf + pos, take);
    llen += take;
    pos += take + (nl != NULL);
    if (nl) got += (long long)llen + 1, llen = 0;
  }
  return got;
}

static int bulk_recv(const opts *o, SSL_CTX *ctx)
{
  SSL *ssl = connect_tls(ctx, o->port);
  long long got;
  double w0 = wall(), c0 = cpu();
  if (strcmp(o->pattern, "*a") == 0) got = recv_all(ssl);
  else if (strcmp(o->pattern, "*l") == 0) got = recv_lines(ssl, o->bytes);
  else got = recv_count(ssl, o->bytes, (size_t)strtol(o->pattern, NULL, 10));
  printf("result impl=ref ");
  print_session(ssl);
  printf("bytes=%lld wall=%.6f cpu=%.6f\n", got, wall() - w0, cpu() - c0);
  tls_close(ssl);
  return got == o->bytes ? 0 : 1;
}

static int bulk_send(const opts *o, SSL_CTX *ctx)
{
  char *buf = line_chunk();
  char ack[3];
  SSL *ssl = connect_tls(ctx, o->port);
  long long sent;
  double w0 = wall(), c0 = cpu();
  for (sent = 0; sent < o->bytes; sent += CHUNK)
    write_all(ssl, buf, CHUNK);
  if (!read_exact(ssl, ack, sizeof(ack))) die("no ack");
  printf("result impl=ref ");
  print_session(ssl);
  printf("bytes=%lld wall=%.6f cpu=%.6f\n", sent, wall() - w0, cpu() - c0);
  tls_close(ssl);
  return 0;
}

typedef struct { const char *role; int server; int (*run)(const opts *, SSL_CTX *); } bulk_role;

static const bulk_role bulk_roles[] = {
  { "source", 1, bulk_source }, { "sink", 1, bulk_sink },
  { "recv",   0, bulk_recv },   { "send", 0, bulk_send },
};

static int bulk(const opts *o)
{
  size_t i;
  for (i = 0; i < sizeof(bulk_roles) / sizeof(bulk_roles[0]); i++)
    if (strcmp(o->role, bulk_roles[i].role) == 0)
      return bulk_roles[i].run(o, make_ctx(o, bulk_roles[i].server));
  die("bulk: unknown role");
  return 2;
}

/* ------------------------------------------------------------ memory */

/* One line out, the same line back (client), or in and back (server). */
static void echo(SSL *ssl, int server)
{
  char buf[2];
  if (!server) write_all(ssl, "x\n", 2);
  if (!read_exact(ssl, buf, 2)) die("echo: short read");
  if (server) write_all(ssl, buf, 2);
}

static SSL *mem_open(SSL_CTX *ctx, int lfd, long port, int server)
{
  SSL *ssl = server ? accept_tls(ctx, lfd) : connect_tls(ctx, port);
  if (ssl == NULL) die("handshake");
  return ssl;
}

/* Warm-up connection, then count idle connections, then one echo each;
 * RSS after each step. The peer ends when the other side exits. */
static int mem(const opts *o)
{
  int server = strcmp(o->role, "server") == 0;
  SSL_CTX *ctx = make_ctx(o, server);
  int lfd = server ? listen_on(o->port) : -1;
  SSL **conns = calloc((size_t)o->count + 1, sizeof(SSL *));
  long i, rss0, rss1;
  SSL *warm;
  if (conns == NULL) die("calloc");
  warm = mem_open(ctx, lfd, o->port, server);
  echo(warm, server);
  tls_close(warm);
  rss0 = rss_bytes();
  for (i = 0; i < o->count; i++) conns[i] = mem_open(ctx, lfd, o->port, server);
  rss1 = rss_bytes();
  for (i = 0; i < o->count; i++) echo(conns[i], server);
  printf("result impl=ref count=%ld rss0=%ld rss_idle=%ld rss_echo=%ld\n",
         o->count, rss0, rss1, rss_bytes());
  fflush(stdout);
  if (server && o->count > 0) drain(conns[0]);   /* until the client exits */
  free(conns);   /* the connections themselves end with the process */
  return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
  opts o = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);   /* a peer gone mid-write is an error, not death */
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(o.mode, "hs") == 0)
    return strcmp(o.role, "server") == 0 ? hs_server(&o) : hs_client(&o);
  if (strcmp(o.mode, "bulk") == 0) return bulk(&o);
  if (strcmp(o.mode, "mem") == 0) return mem(&o);
  die("unknown mode (hs, bulk, mem)");
  return 2;
}
