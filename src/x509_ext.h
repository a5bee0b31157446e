/*
 * x509_ext.h - a certificate's extensions as the Lua table that the
 * certificate method extensions() returns.
 *
 * The table is keyed by extension OID; every entry has
 * name = OpenSSL's long name, plus per extension:
 *   2.5.29.17 subjectAltName (LuaSec's shape), 2.5.29.18 issuerAltName (same):
 *     dNSName = {...}, rfc822Name = {...}, uniformResourceIdentifier = {...},
 *     iPAddress = {"127.0.0.1", "::1"},
 *     [otherName type OID] = {name = "Microsoft User Principal Name", "value", ...}
 *     (x400Address, directoryName, ediPartyName, registeredID are left out)
 *   2.5.29.19 basicConstraints:   ca = boolean, pathlen = integer or absent
 *   2.5.29.15 keyUsage:           array part {"digitalSignature", "keyEncipherment", ...}
 *   2.5.29.37 extendedKeyUsage:   array part {"serverAuth", "1.2.3.4.5", ...}
 *                                 (OpenSSL short name, else the OID)
 *   2.5.29.14 subjectKeyIdentifier:   keyid = "7A91..." (uppercase hex)
 *   2.5.29.35 authorityKeyIdentifier: keyid = hex, serial = hex,
 *                                 issuer = {"CN=...,O=...", ...} (RFC 2253), each if present
 *   2.5.29.31 cRLDistributionPoints, 2.5.29.46 freshestCRL:
 *                                 array part of full-name URIs
 *   1.3.6.1.5.5.7.1.1 authorityInfoAccess, 1.3.6.1.5.5.7.1.11 subjectInfoAccess:
 *                                 ocsp = {uri...}, caIssuers = {uri...},
 *                                 other methods under their short name or OID
 *   any other extension: name only.
 * An extension that does not decode keeps its name only.
 */
#ifndef SSLUA_X509_EXT_H
#define SSLUA_X509_EXT_H

#include <openssl/x509.h>

#include "compat.h"

/* Pushes the extensions table of cert (shape above); strings are encoded
 * as `enc` (an enum sslua_x509_encoding) says. Leaves OpenSSL's error
 * queue empty. */
void sslua_x509_push_extensions(lua_State *L, X509 *cert, int enc);

#endif
