/*
 * module.c - the one list of features, and the module entry points
 * that hand it to the core.
 *
 * The order matters in one place: when a handshake fails, features
 * explain it in this order and the first explanation wins, so the more
 * specific ones come first (a verify callback's own words before a name
 * mismatch, before an OCSP verdict).
 */
#include "alert.h"
#include "alpn.h"
#include "connection.h"
#include "context.h"
#include "credentials.h"
#include "dane.h"
#include "errobj.h"
#include "feature.h"
#include "groups.h"
#include "hostname.h"
#include "inspect.h"
#include "keylog.h"
#include "module.h"
#include "ocsp.h"
#include "psk.h"
#include "range.h"
#include "session.h"
#include "sni.h"
#include "socket.h"
#include "verify.h"

static sslua_feature_list features = {
  &sslua_verify_feature,
  &sslua_hostname_feature,
  &sslua_ocsp_feature,
  &sslua_credentials_feature,
  &sslua_range_feature,
  &sslua_groups_feature,
  &sslua_alpn_feature,
  &sslua_sni_feature,
  &sslua_psk_feature,
  &sslua_dane_feature,
  &sslua_session_feature,
  &sslua_keylog_feature,
  &sslua_alert_feature,
  &sslua_errobj_feature,
  &sslua_inspect_feature,
  &sslua_socket_feature,
  NULL
};

/* Each feature's init, once per process, before any object exists. */
static int init_features(lua_State *L)
{
  static int done;
  int i;
  if (done)
    return 1;
  for (i = 0; features[i] != NULL; i++)
    if (features[i]->init != NULL && !features[i]->init())
      return luaL_error(L, "ssl: cannot initialise %s (out of memory)", features[i]->name);
  done = 1;
  return 1;
}

int luaopen_ssl_core(lua_State *L)
{
  init_features(L);
  return sslua_connection_open(L, features);
}

int luaopen_ssl_context(lua_State *L)
{
  init_features(L);
  return sslua_context_open(L, features);
}
