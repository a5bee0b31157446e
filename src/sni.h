/*
 * sni.h - Server Name Indication (RFC 6066 section 3): the name a client
 * asks for, and a server's choice of context by that name.
 */
#ifndef SSLUA_SNI_H
#define SSLUA_SNI_H

#include "feature.h"

/* SSL:Connection: sni(name) (client), sni(map [, strict]) (server),
 * getsniname() */
extern const sslua_feature sslua_sni_feature;

#endif
