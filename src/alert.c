/*
 * alert.c - conn:getalert().
 *
 * An info callback on every SSL notes each alert as it is written or read
 * (SSL_CB_WRITE_ALERT / SSL_CB_READ_ALERT; `ret` is level << 8 | code).
 * The record is an SSL ex_data slot freed with the SSL, so it costs nothing
 * until the first alert and cannot outlive its connection; it answers for
 * as long as the SSL exists (fresh, connected, failed), nil after close().
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "alert.h"
#include "connection.h"
#include "exdata.h"

typedef struct {
  int set;      /* an alert went this way */
  int value;    /* level << 8 | description code */
} alert_slot;

typedef struct {
  alert_slot sent, received;
} alert_record;

static int alert_index = -1;

static void info_cb(const SSL *ssl, int where, int ret)
{
  alert_record *r;
  if (!(where & SSL_CB_ALERT))
    return;
  r = (alert_record *)SSL_get_ex_data(ssl, alert_index);
  if (r == NULL) {
    if ((r = (alert_record *)OPENSSL_zalloc(sizeof(*r))) == NULL)
      return;
    /* ex_data setters take a non-const SSL; the record is ours alone. */
    if (!SSL_set_ex_data((SSL *)ssl, alert_index, r)) {
      OPENSSL_free(r);
      return;
    }
  }
  if (where & SSL_CB_READ) {
    r->received.set = 1;
    r->received.value = ret;
  } else {
    r->sent.set = 1;
    r->sent.value = ret;
  }
}

static int alert_init(void)
{
  alert_index = sslua_exdata_ssl_index();
  return alert_index >= 0;
}

/* Every connection records its alerts from the start. */
static int alert_attach(sslua_conn *c)
{
  SSL_set_info_callback(c->ssl, info_cb);
  return 1;
}

/* Pushes {level = "fatal", description = "unknown CA", code = 48}. */
static void push_alert(lua_State *L, const alert_slot *a, const char *field)
{
  if (!a->set)
    return;
  lua_createtable(L, 0, 3);
  lua_pushstring(L, SSL_alert_type_string_long(a->value));
  lua_setfield(L, -2, "level");
  lua_pushstring(L, SSL_alert_desc_string_long(a->value));
  lua_setfield(L, -2, "description");
  lua_pushinteger(L, a->value & 0xff);
  lua_setfield(L, -2, "code");
  lua_setfield(L, -2, field);
}

static int conn_getalert(lua_State *L)
{
  sslua_conn *c = sslua_conn_enter(L, 1);
  const alert_record *r = (c->ssl != NULL)
      ? (const alert_record *)SSL_get_ex_data(c->ssl, alert_index) : NULL;

  if (r == NULL) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 2);
  push_alert(L, &r->sent, "sent");
  push_alert(L, &r->received, "received");
  return 1;
}

static const luaL_Reg methods[] = {
  { "getalert", conn_getalert },
  { NULL, NULL }
};

const sslua_feature sslua_alert_feature = {
  .name = "alert",
  .methods = methods,
  .init = alert_init,
  .attach = alert_attach,
};
