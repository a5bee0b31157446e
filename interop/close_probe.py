"""How the tested OpenSSL's own client sees a peer's server end a
connection, for the oracle (its step 9).

A peer whose server closes with close_notify after its reply
(caps["server_close_notify"]) has sslua's client check that it reads that
close_notify. Whether OpenSSL reports the ending as one is OpenSSL's
business, so the openssl command first on PATH (the tested OpenSSL's, as
`make interop OPENSSL=...` arranges) is asked: s_client, pinned to one
version, sends a line to the peer's server, reads the reply and the end,
and prints "closed" when SSL_read reported the close_notify
(SSL_ERROR_ZERO_RETURN) or "read:errno=0" for a bare end of stream
(SSL_ERROR_SYSCALL). An example: JSSE's TLS 1.3 server sends user_canceled
before its close_notify, and OpenSSL 3.5 and 3.6 then report the
close_notify as a bare end (their record layer keeps user_canceled as the
last warning alert, which SSL_get_error compares with close_notify).

probe(env, drv) -> {"1.2": "close_notify" | "eof", "1.3": ...}, a version
missing when the probe could not tell.
"""

import re
import subprocess
import tempfile

import processes

PROBE_TIMEOUT = 20      # seconds for one s_client run
VERSIONS = (("1.2", "-tls1_2"), ("1.3", "-tls1_3"))
LINE = "close-probe\n"

# What s_client prints at the end of the stream (apps/s_client.c).
ENDINGS = (("close_notify", re.compile(r"^closed$", re.M)),
           ("eof", re.compile(r"^read:errno=0$", re.M)))


def ending(out):
    """"close_notify", "eof" or None, from s_client's output."""
    for name, pattern in ENDINGS:
        if pattern.search(out):
            return name
    return None


def server_config(env, version):
    cfg = {"timeout": 8, "hostname": "localhost", "min": version, "max": version,
           "ca": env.cert("ca.pem"), "verify": False, "require_cert": False,
           "dhparam": env.cert("dh2048.pem")}
    cfg.update(env.identity_files("server-rsa", True))
    return cfg


def s_client(port, flag, ca):
    with tempfile.TemporaryFile("w+") as stdin:
        stdin.write(LINE)
        stdin.flush()
        stdin.seek(0)
        try:
            r = processes.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, flag,
                               "-ign_eof", "-CAfile", ca], PROBE_TIMEOUT, stdin=stdin)
        except subprocess.TimeoutExpired:
            return ""
    return r.stdout + r.stderr


def probe(env, drv):
    seen = {}
    for version, flag in VERSIONS:
        ident, port, _ = drv.start_server(server_config(env, version))
        if port is None:
            continue
        try:
            out = s_client(port, flag, env.cert("ca.pem"))
        finally:
            drv.stop_server(ident)
        if LINE.strip() not in out and LINE.strip()[::-1] not in out:
            continue        # no reply (echoed or reversed): nothing to tell
        kind = ending(out)
        if kind:
            seen[version] = kind
    return seen
