/*
 * credentials.h - keys, certificates and trust: from files, from memory
 * (PEM or DER strings, certificate objects), PKCS#12 bundles and the
 * system CA store.
 */
#ifndef SSLUA_CREDENTIALS_H
#define SSLUA_CREDENTIALS_H

#include "feature.h"

/* context.loadkey, loadcert, checkkey, locations, loadkeydata,
 * loadcertdata, loadcadata, loadsystemca, loadpkcs12 */
extern const sslua_feature sslua_credentials_feature;

#endif
