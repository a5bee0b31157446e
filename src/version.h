/*
 * version.h - which release of sslua this is, and whose.
 *
 * ssl.lua carries the same version and refuses a C core that does not
 * export it (another module's ssl.so, or sslua's from another release
 * found first on package.cpath). Keep in step: ssl.lua, the rockspecs,
 * CHANGELOG.md (spec/release_spec.lua checks them all).
 */
#ifndef SSLUA_VERSION_H
#define SSLUA_VERSION_H

#define SSLUA_VERSION   "0.2.0"
/* The copyright line of LICENSE. */
#define SSLUA_COPYRIGHT "Copyright (c) 2026 the sslua authors"

#endif
