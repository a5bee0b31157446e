"""Names of cipher suites: IANA <-> OpenSSL <-> code point, as the local
openssl command lists them, the TLS 1.2 suites swept one by one, and which
suites that OpenSSL uses at each security level sslua's cases run at.

The openssl command is the one first on PATH: the CLI of the OpenSSL that
sslua is built with (make OPENSSL=3.5 puts that version's first;
environment.same_openssl() checks it), so what it answers is what sslua's
library will do."""

import re

import processes

LIST_TIMEOUT = 30       # seconds for one `openssl ciphers`

TLS13 = (("0x1301", "TLS_AES_128_GCM_SHA256"), ("0x1302", "TLS_AES_256_GCM_SHA384"),
         ("0x1303", "TLS_CHACHA20_POLY1305_SHA256"), ("0x1304", "TLS_AES_128_CCM_SHA256"),
         ("0x1305", "TLS_AES_128_CCM_8_SHA256"))


ALL13 = ":".join(name for _, name in TLS13)

# The security levels sslua's cases run at, as the suffix of its cipher
# string: the library's default (its configuration's level), and level 0
# where a case needs TLS 1.0 or 1.1 (sslua_runner adds it to the string).
LEVELS = {"default": "", "legacy": ":@SECLEVEL=0"}


def openssl_ciphers(*args):
    return processes.run(["openssl", "ciphers"] + list(args), LIST_TIMEOUT).stdout


class CipherTable:
    def __init__(self):
        self.by_openssl, self.by_code, self.openssl_of, self.info = {}, {}, {}, {}
        out = openssl_ciphers("-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0")
        for line in out.splitlines():
            m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)\s+(\S+)\s+"
                         r"Kx=(\S+)\s+Au=(\S+)\s+Enc=(\S+)", line)
            if not m:
                continue
            code = "0x" + m.group(1) + m.group(2)
            iana, name = m.group(3), m.group(4)
            self.by_openssl[name] = iana
            self.by_code[code] = iana
            self.openssl_of[iana] = name
            self.info[iana] = {"version": m.group(5), "kx": m.group(6), "au": m.group(7),
                               "enc": m.group(8)}
        for code, iana in TLS13:
            self.by_code[code] = iana
            self.info.setdefault(iana, {"version": "TLSv1.3", "kx": "any", "au": "any"})
            self.openssl_of.setdefault(iana, iana)
        self.default12 = self._suites("-tls1_2", "DEFAULT")[0]
        self.default13 = self._suites("-s", "-tls1_3")[1]
        # `-s` lists only what the library will use: the suites its
        # security level allows (OpenSSL 3.2 put the CCM_8 suites, with
        # their 64-bit tag, at level 0) and that its providers have.
        self.usable = {level: self._suites("-s", "-ciphersuites", ALL13,
                                           "ALL:COMPLEMENTOFALL" + suffix)
                       for level, suffix in LEVELS.items()}

    def _suites(self, *args):
        """(TLS <= 1.2 suites, TLS 1.3 suites) that one `openssl ciphers
        -stdname ARGS` lists, each in its order."""
        out = openssl_ciphers("-stdname", *args)
        names = [l.split()[0] for l in out.splitlines() if l.startswith("TLS_")]
        v13 = [n for n in names if self.info.get(n, {}).get("version") == "TLSv1.3"]
        return [n for n in names if n not in v13], v13

    def iana(self, name):
        if not name:
            return name
        if name in self.info:
            return name
        if name in self.by_openssl:
            return self.by_openssl[name]
        if name.upper() in self.by_openssl:
            return self.by_openssl[name.upper()]
        if name.upper() in self.info:
            return name.upper()
        if re.match(r"0x[0-9A-Fa-f]{4}$", name):
            return self.by_code.get("0x" + name[2:].upper(), name)
        return name

    def sweep12(self):
        """The TLS <= 1.2 suites sslua is tested with one by one: every
        certificate-authenticated (RSA, ECDSA) suite with RSA, DHE or ECDHE
        key exchange that the local OpenSSL has."""
        out = []
        for iana, inf in self.info.items():
            if inf["version"] == "TLSv1.3":
                continue
            if inf["kx"] not in ("ECDH", "DH", "RSA") or inf["au"] not in ("RSA", "ECDSA"):
                continue
            if "PSK" in iana or "SRP" in iana or inf.get("enc") == "None":
                continue
            out.append(iana)
        return sorted(out)
