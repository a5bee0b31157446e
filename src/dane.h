/*
 * dane.h - DANE (RFC 6698/7671) peer authentication from TLSA records:
 * enabled on the context, given a base domain and records per connection.
 */
#ifndef SSLUA_DANE_H
#define SSLUA_DANE_H

#include "feature.h"

/* context.setdane(ctx [, flag...]) -> true | false, message;
 * conn:setdane(basedomain), conn:settlsa(usage, selector, mtype, data) */
extern const sslua_feature sslua_dane_feature;

#endif
