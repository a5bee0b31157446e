/*
 * alert.h - the last TLS alert each connection sent and received, for
 * conn:getalert(): recorded by an info callback on every SSL.
 */
#ifndef SSLUA_ALERT_H
#define SSLUA_ALERT_H

#include "feature.h"

/* conn:getalert() -> { sent = {...}, received = {...} } | nil */
extern const sslua_feature sslua_alert_feature;

#endif
