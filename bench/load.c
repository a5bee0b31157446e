/*
 * bench/load.c - a many-client TLS load generator for a server under test.
 *
 *   load port=P count=1000 wave=100 pid=SERVER_PID certs=DIR [bytes=1024] [timeout=120]
 *
 * Opens `count` connections in waves of `wave` at once (non-blocking, one
 * poll loop): each connects, completes a TLS 1.3 handshake (verifying the
 * server against certs/ca.pem), sends one line of `bytes` bytes ("\n"
 * last) and reads it back, then stays open. After every wave it reads the
 * server's RSS and CPU time from /proc/SERVER_PID, so memory can be drawn
 * against the number of open connections. At the end every connection
 * closes (close_notify, then close).
 *
 * Result line: ok, failed, wall (seconds the waves took), hs_per_s,
 * p50_ms/p99_ms (connect to handshake done), lat_pct (the 1st..100th
 * percentiles, ms), open/rss (per sample, comma lists, bytes), hwm (the
 * server's peak RSS), cpu (server CPU seconds over the waves).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

typedef enum { ST_CONNECT, ST_HANDSHAKE, ST_SEND, ST_RECV, ST_DONE, ST_FAILED } state;

typedef struct {
  int fd;
  SSL *ssl;
  state st;
  short events;      /* what the connection waits for */
  size_t done;       /* bytes sent or received in this state */
  double t0, latency;
} conn;

typedef struct {
  long port, count, wave, pid, bytes, timeout;
  const char *certs;
} opts;

static void die(const char *what)
{
  fprintf(stderr, "load: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static opts parse(int argc, char **argv)
{
  opts o = { 0, 1000, 100, 0, 1024, 120, "build/certs" };
  int i;
  for (i = 1; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    long v = eq ? strtol(eq + 1, NULL, 10) : 0;
    if (eq == NULL) die("arguments are key=value");
    if (strncmp(argv[i], "port=", 5) == 0) o.port = v;
    else if (strncmp(argv[i], "count=", 6) == 0) o.count = v;
    else if (strncmp(argv[i], "wave=", 5) == 0) o.wave = v;
    else if (strncmp(argv[i], "pid=", 4) == 0) o.pid = v;
    else if (strncmp(argv[i], "bytes=", 6) == 0) o.bytes = v;
    else if (strncmp(argv[i], "timeout=", 8) == 0) o.timeout = v;
    else if (strncmp(argv[i], "certs=", 6) == 0) o.certs = eq + 1;
    else die("unknown argument");
  }
  if (o.count < 1 || o.wave < 1 || o.bytes < 1 || o.port <= 0) die("bad arguments");
  return o;
}

/* ------------------------------------------------------------ the server */

/* A number from /proc/PID/status ("VmRSS:  1234 kB" -> bytes). */
static long status_kib(long pid, const char *field)
{
  char path[64], line[256];
  long v = -1;
  size_t n = strlen(field);
  FILE *f;
  snprintf(path, sizeof(path), "/proc/%ld/status", pid);
  if ((f = fopen(path, "r")) == NULL) return -1;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return v < 0 ? -1 : v * 1024;
}

/* User + system CPU seconds of PID (fields 14 and 15 of /proc/PID/stat). */
static double cpu_seconds(long pid)
{
  char path[64], buf[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;
  size_t n;
  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  if ((f = fopen(path, "r")) == NULL) return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  if ((p = strrchr(buf, ')')) == NULL ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------ connections */

static void start(conn *c, SSL_CTX *ctx, long port)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  memset(c, 0, sizeof(*c));
  c->t0 = now();
  c->st = ST_FAILED;
  if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) return;
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) return;
  if ((c->ssl = SSL_new(ctx)) == NULL) return;
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_tlsext_host_name(c->ssl, "localhost");
  c->st = ST_CONNECT;
  c->events = POLLOUT;
}

/* Sets what to wait for after an SSL call returned ret; 0 when it failed. */
static int want(conn *c, int ret)
{
  switch (SSL_get_error(c->ssl, ret)) {
  case SSL_ERROR_WANT_READ:  c->events = POLLIN;  return 1;
  case SSL_ERROR_WANT_WRITE: c->events = POLLOUT; return 1;
  default:
    ERR_print_errors_fp(stderr);
    c->st = ST_FAILED;
    return 0;
  }
}

/* Moves c on as far as it goes without blocking. */
static void step(conn *c, const char *line, size_t len)
{
  char buf[4096];
  int ret, err;
  socklen_t elen = sizeof(err);
  for (;;) {
    switch (c->st) {
    case ST_CONNECT:
      if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
        c->st = ST_FAILED;
        return;
      }
      c->st = ST_HANDSHAKE;
      break;
    case ST_HANDSHAKE:
      if ((ret = SSL_connect(c->ssl)) != 1) { want(c, ret); return; }
      c->latency = now() - c->t0;
      c->st = ST_SEND;
      break;
    case ST_SEND:
      if ((ret = SSL_write(c->ssl, line + c->done, (int)(len - c->done))) <= 0) {
        want(c, ret);
        return;
      }
      if ((c->done += (size_t)ret) == len) c->st = ST_RECV, c->done = 0;
      break;
    case ST_RECV:
      if ((ret = SSL_read(c->ssl, buf, sizeof(buf))) <= 0) { want(c, ret); return; }
      if ((c->done += (size_t)ret) >= len) {
        c->st = c->done == len && buf[ret - 1] == '\n' ? ST_DONE : ST_FAILED;
        return;
      }
      break;
    default:
      return;
    }
  }
}

static int active(const conn *c)
{
  return c->st != ST_DONE && c->st != ST_FAILED;
}

/* Runs conns[0..n) until each is done or failed, or the deadline. */
static void run_wave(conn *conns, long n, const char *line, size_t len, double deadline)
{
  struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
  long *idx = calloc((size_t)n, sizeof(*idx));
  if (pfd == NULL || idx == NULL) die("calloc");
  for (;;) {
    long i, m = 0;
    for (i = 0; i < n; i++) {
      if (!active(&conns[i])) continue;
      pfd[m].fd = conns[i].fd;
      pfd[m].events = conns[i].events;
      idx[m++] = i;
    }
    if (m == 0) break;
    if (now() > deadline) {
      for (i = 0; i < m; i++) conns[idx[i]].st = ST_FAILED;
      fprintf(stderr, "load: %ld connections timed out\n", m);
      break;
    }
    if (poll(pfd, (nfds_t)m, 100) < 0 && errno != EINTR) die("poll");
    for (i = 0; i < m; i++)
      if (pfd[i].revents) step(&conns[idx[i]], line, len);
  }
  free(pfd);
  free(idx);
}

static int by_value(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, long n, double p)
{
  long i = (long)(p / 100.0 * (double)n + 0.5) - 1;
  if (n == 0) return 0;
  return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

int main(int argc, char **argv)
{
  opts o = parse(argc, argv);
  conn *conns = calloc((size_t)o.count, sizeof(conn));
  double *lat = calloc((size_t)o.count, sizeof(double));
  char *line = malloc((size_t)o.bytes), path[512];
  long i, k, ok = 0, samples = 0, nsamples = o.count / o.wave + 2;
  long *open_at = calloc((size_t)nsamples, sizeof(long)), *rss_at = calloc((size_t)nsamples, sizeof(long));
  double wall = 0, cpu0, deadline;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

  signal(SIGPIPE, SIG_IGN);
  if (!conns || !lat || !line || !open_at || !rss_at || !ctx) die("out of memory");
  memset(line, 'x', (size_t)o.bytes - 1);
  line[o.bytes - 1] = '\n';
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  snprintf(path, sizeof(path), "%s/ca.pem", o.certs);
  if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) die(path);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

  deadline = now() + (double)o.timeout;
  cpu0 = cpu_seconds(o.pid);
  open_at[samples] = 0;
  rss_at[samples++] = status_kib(o.pid, "VmRSS");
  for (i = 0; i < o.count; i += o.wave) {
    long n = o.count - i < o.wave ? o.count - i : o.wave;
    double t = now();
    for (k = i; k < i + n; k++) start(&conns[k], ctx, o.port);
    run_wave(conns + i, n, line, (size_t)o.bytes, deadline);
    wall += now() - t;
    for (k = i; k < i + n; k++)
      if (conns[k].st == ST_DONE) lat[ok++] = conns[k].latency * 1000.0;
    open_at[samples] = i + n;
    rss_at[samples++] = status_kib(o.pid, "VmRSS");
  }
  qsort(lat, (size_t)ok, sizeof(double), by_value);
  printf("result impl=load count=%ld ok=%ld failed=%ld wall=%.6f hs_per_s=%.3f p50_ms=%.3f "
         "p99_ms=%.3f cpu=%.6f hwm=%ld lat_pct=", o.count, ok, o.count - ok, wall,
         (double)ok / wall, percentile(lat, ok, 50), percentile(lat, ok, 99),
         cpu_seconds(o.pid) - cpu0, status_kib(o.pid, "VmHWM"));
  for (k = 1; k <= 100; k++) printf("%s%.3f", k > 1 ? "," : "", percentile(lat, ok, (double)k));
  printf(" open=");
  for (k = 0; k < samples; k++) printf("%s%ld", k ? "," : "", open_at[k]);
  printf(" rss=");
  for (k = 0; k < samples; k++) printf("%s%ld", k ? "," : "", rss_at[k]);
  printf("\n");
  fflush(stdout);
  for (k = 0; k < o.count; k++) {
    if (conns[k].ssl != NULL) {
      if (conns[k].st == ST_DONE) SSL_shutdown(conns[k].ssl);
      SSL_free(conns[k].ssl);
    }
    if (conns[k].fd > 0) close(conns[k].fd);
  }
  SSL_CTX_free(ctx);
  return 0;   /* failed connections are a figure (failed=), not a broken driver */
}
