/*
 * inspect.h - read-only questions about an established connection: the
 * negotiated parameters now, certificates and verification later.
 */
#ifndef SSLUA_INSPECT_H
#define SSLUA_INSPECT_H

#include "feature.h"

/* conn:info, getpeercertificate, getpeerchain, getlocalcertificate,
 * getlocalchain, getpeerverification, getfinished, getpeerfinished,
 * exportkeyingmaterial */
extern const sslua_feature sslua_inspect_feature;

#endif
