/*
 * sni_fuzz.c - libFuzzer harness for the server's SNI map: conn:sni(map,
 * strict) with host names from the input, then a real handshake in this
 * process (socketpair) from an OpenSSL client asking for a name from the
 * input, or raw input bytes sent to the server as the client's stream.
 *
 * The lookup itself (servername_cb / find_context in src/sni.c) is static,
 * so it is reached through the handshake; an exported pure lookup
 * (name -> map key, case folding, validity) would let it be fuzzed alone.
 *
 * Input: byte 0 flags (bit 0 strict, bit 1 raw mode, bit 2 map values
 * alternate between the two contexts); then host names separated by '\n'
 * up to a 0 byte; then the name the client asks for (or, in raw mode, the
 * bytes the "client" sends).
 *
 * Invariants (OpenSSL client mode): when conn:sni accepted the map and the
 * client sent a name that the map holds (ASCII case-insensitively, and
 * without the one trailing root dot a fully qualified name may carry), the
 * server presents that context's certificate; an unknown name with strict
 * fails the handshake; otherwise the default context's certificate is
 * used and the handshake succeeds; getsniname() is the name sent.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include "lua_state.h"

static const char *script =
  "local core = require 'ssl.core'\n"
  "local context = require 'ssl.context'\n"
  "local x509 = require 'ssl.x509'\n"
  "local certs = os.getenv('SSLUA_CERTS') or 'build/certs'\n"
  "local function server(name)\n"
  "  local c = assert(context.create('any'))\n"
  "  assert(context.setmode(c, 'server'))\n"
  "  assert(context.loadkey(c, certs .. '/' .. name .. '.key'))\n"
  "  assert(context.loadcert(c, certs .. '/' .. name .. '.pem'))\n"
  "  return c\n"
  "end\n"
  "local function pem(name)\n"
  "  local f = assert(io.open(certs .. '/' .. name .. '.pem')); local d = f:read('a'); f:close()\n"
  "  return assert(x509.load(d)):pem()\n"
  "end\n"
  "local default, other = server('server-rsa'), server('server-ecdsa')\n"
  "local pems = { [default] = pem('server-rsa'), [other] = pem('server-ecdsa') }\n"
  "return function(fd, names, flags, requested, sent, step)\n"
  "  local strict, raw, alternate = flags & 1 ~= 0, flags & 2 ~= 0, flags & 4 ~= 0\n"
  "  local conn = assert(core.create(default))\n"
  "  assert(core.setfd(conn, fd))\n"
  "  conn:settimeout(0)\n"
  "  local map = {}\n"
  "  for i, n in ipairs(names) do map[n] = (alternate and i % 2 == 0) and default or other end\n"
  "  local ok, err = conn:sni(map, strict)\n"
  "  assert(ok == true or (ok == nil and type(err) == 'string'), 'bad sni() result')\n"
  "  local sdone, sok, cstate\n"
  "  for _ = 1, 60 do\n"
  "    cstate = step()\n"
  "    if not sdone then\n"
  "      local r, e = conn:dohandshake()\n"
  "      if r then sdone, sok = true, true\n"
  "      elseif e ~= 'wantread' and e ~= 'wantwrite' then sdone, sok = true, false end\n"
  "    end\n"
  "    if sdone and cstate ~= 0 then break end\n"
  "  end\n"
  "  if not raw then\n"
  "    local function host(n) return (n:lower():gsub('%.$', '')) end\n"
  "    local hosts = {}\n"
  "    if ok then for k, v in pairs(map) do hosts[host(k)] = v end end\n"
  "    local want = default\n"
  "    if ok and sent then\n"
  "      want = hosts[host(requested)]\n"
  "      if want == nil then want = (not strict) and default or nil end\n"
  "    end\n"
  "    if want == nil then\n"
  "      assert(sok ~= true, 'strict SNI accepted an unknown name: ' .. requested)\n"
  "    else\n"
  "      assert(sok == true, 'handshake failed: ' .. tostring(sent) .. ' ' .. requested)\n"
  "      local cert = assert(conn:getlocalcertificate())\n"
  "      assert(cert:pem() == pems[want], 'wrong certificate for ' .. requested)\n"
  "      if sent then assert(conn:getsniname() == requested, 'getsniname differs') end\n"
  "    end\n"
  "  end\n"
  "  conn:close()\n"
  "end\n";

static lua_State *L;
static SSL_CTX *client_ctx;
static SSL *client;
static int client_fd = -1;
static const uint8_t *raw_data;
static size_t raw_len, raw_off;
static int raw_mode;

/* One step of the client: 1 done, -1 failed, 0 again. */
static int l_step(lua_State *Ls)
{
  int r;
  if (raw_mode) {
    if (raw_off < raw_len) {
      ssize_t n = write(client_fd, raw_data + raw_off, raw_len - raw_off);
      if (n > 0) raw_off += (size_t)n;
    }
    if (raw_off >= raw_len) { shutdown(client_fd, SHUT_WR); lua_pushinteger(Ls, 1); return 1; }
    lua_pushinteger(Ls, 0);
    return 1;
  }
  ERR_clear_error();
  r = SSL_do_handshake(client);
  if (r == 1) { lua_pushinteger(Ls, 1); return 1; }
  r = SSL_get_error(client, r);
  ERR_clear_error();
  lua_pushinteger(Ls, (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE) ? 0 : -1);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int sv[2], n = 0, sent = 0;
  size_t i = 1, start;
  char requested[300];
  size_t rlen;

  if (size < 2) return 0;
  if (L == NULL) {
    L = fuzz_lua_state(script);
    client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
  }
  raw_mode = (data[0] & 2) != 0;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
  client_fd = sv[1];

  lua_pushinteger(L, sv[0]);
  lua_newtable(L);
  start = i;
  while (i < size && data[i] != 0) {
    if (data[i] == '\n') {
      lua_pushlstring(L, (const char *)data + start, i - start);
      lua_rawseti(L, -2, ++n);
      start = i + 1;
    }
    i++;
  }
  if (i > start) { lua_pushlstring(L, (const char *)data + start, i - start); lua_rawseti(L, -2, ++n); }
  if (i < size) i++;                           /* the 0 byte */
  lua_pushinteger(L, data[0]);
  rlen = size - i;
  raw_data = data + i; raw_len = rlen; raw_off = 0;
  if (rlen >= sizeof(requested)) rlen = sizeof(requested) - 1;
  memcpy(requested, data + i, rlen);
  requested[rlen] = 0;
  client = NULL;
  if (!raw_mode) {
    client = SSL_new(client_ctx);
    SSL_set_fd(client, sv[1]);
    SSL_set_connect_state(client);
    if (rlen > 0 && strlen(requested) == rlen && SSL_set_tlsext_host_name(client, requested) == 1)
      sent = 1;
    ERR_clear_error();
  }
  lua_pushlstring(L, requested, rlen);
  lua_pushboolean(L, sent);
  lua_pushcfunction(L, l_step);
  fuzz_lua_run(L, 6);
  if (client) SSL_free(client);
  client = NULL;
  close(sv[1]);
  ERR_clear_error();
  return 0;
}
