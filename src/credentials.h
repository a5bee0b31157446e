/*
 * credentials.h - keys, certificates and trust from memory (PEM or DER
 * strings, certificate objects), PKCS#12 bundles and the system CA store.
 */
#ifndef SSLUA_CREDENTIALS_H
#define SSLUA_CREDENTIALS_H

#include "compat.h"

/* context.loadkeydata, loadcertdata, loadcadata, loadsystemca, loadpkcs12 */
extern const luaL_Reg sslua_credentials_context_functions[];

#endif
