#!/usr/bin/env python3
"""Peer driver: the openssl command line (s_server / s_client).

Server: one long-running `openssl s_server -rev` per server config; it serves
every connection of the cases that share the config. Its output is cut into
one record per connection ("CONNECTION ESTABLISHED" ... "CONNECTION CLOSED",
or "CONNECTION FAILURE" and the error lines after it).
Client: one `openssl s_client` per connection.
"""

import os
import re
import subprocess
import tempfile

import client_hello
import peerlib
import processes

OPENSSL = os.environ.get("OPENSSL", "openssl")
ALL_TLS13 = ("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
             "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256")
CIPHERS = "ALL:@SECLEVEL=0"
PROTO = {"1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}

ERR_RE = re.compile(r"error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)")
OU_RE = re.compile(r"OU\s*=\s*([^,/\n]+)")


def ssl_errors(lines):
    """Reason texts of OpenSSL error lines and verify errors, in order."""
    out = []
    for line in lines:
        m = ERR_RE.search(line)
        if m:
            out.append(m.group(1).strip())
        elif line.startswith("verify error:"):
            out.append("verify error: " + line.split(":", 2)[-1].strip())
        elif "Verification error:" in line:
            out.append(line.strip())
    seen, uniq = set(), []
    for e in out:
        if e not in seen:
            seen.add(e)
            uniq.append(e)
    return "; ".join(uniq)


def common_args(cfg):
    args = ["-cipher", CIPHERS, "-ciphersuites", ALL_TLS13]
    args += ["-min_protocol", PROTO[cfg.get("min") or "1.0"]]
    args += ["-max_protocol", PROTO[cfg.get("max") or "1.3"]]
    if cfg.get("groups"):
        args += ["-groups", ":".join(cfg["groups"])]
    if cfg.get("alpn"):
        args += ["-alpn", ",".join(cfg["alpn"])]
    return args


def identity_args(cfg):
    args = []
    if cfg.get("leaf"):
        args += ["-cert", cfg["leaf"], "-key", cfg["key"]]
        if cfg.get("chain"):
            args += ["-cert_chain", cfg["chain"]]
    return args


class Server(peerlib.CliServer):
    """`openssl s_server -rev`: a record runs from "CONNECTION ESTABLISHED"
    (or "CONNECTION FAILURE") to "CONNECTION CLOSED" or the next one."""

    NAME = "s_server"
    QUIET = 0.15

    def argv(self):
        cfg = self.cfg
        argv = [OPENSSL, "s_server", "-rev", "-accept", "127.0.0.1:0"]
        argv += common_args(cfg) + identity_args(cfg)
        if cfg.get("ca"):
            argv += ["-CAfile", cfg["ca"]]
        if cfg.get("verify"):
            argv += ["-Verify" if cfg.get("require_cert") else "-verify", "8",
                     "-verify_return_error"]
        if cfg.get("sni_name"):
            argv += ["-servername", cfg["sni_name"], "-cert2", cfg["sni_leaf"],
                     "-key2", cfg["sni_key"]]
        return argv

    def listening(self, line):
        m = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line)
        if m:
            self.port = int(m.group(1))
        return m is not None

    def start_error(self, early):
        return ssl_errors(early) or " ".join(early)[-300:]

    def take(self, line):
        """self.record: ["ok"|"fail", lines]; self.pending: lines before it."""
        record = self.record
        if line.startswith("CONNECTION ESTABLISHED") or line.startswith("CONNECTION FAILURE"):
            self.flush()
            status = "ok" if line.startswith("CONNECTION ESTABLISHED") else "fail"
            self.record, self.pending = [status, self.pending + [line]], []
        elif line.startswith("CONNECTION CLOSED"):
            if record is not None:
                record[1].append(line)
                self.flush()
        elif record is not None and (record[0] == "fail" or ERR_RE.search(line)
                                     or line.startswith("ERROR")):
            if line.startswith("ERROR"):
                record[0] = "fail"
            record[1].append(line)
        elif record is not None and record[0] == "ok":
            record[1].append(line)
        else:
            self.pending.append(line)

    def report(self, record):
        status, lines = record
        res = {"status": status}
        for line in lines:
            if line.startswith("Protocol version:"):
                res["version"] = peerlib.version_label(line.split(":", 1)[1].strip())
            elif line.startswith("Ciphersuite:"):
                res["cipher"] = line.split(":", 1)[1].strip()
            elif line.startswith("Peer certificate:"):
                m = OU_RE.search(line)
                if m:
                    res["peer_cert"] = m.group(1).strip()
        if status != "ok":
            res["stage"] = "handshake" if "version" not in res else "io"
            res["error"] = ssl_errors(lines) or " | ".join(lines)[-300:]
        peerlib.emit({"event": "conn", "id": self.ident, "result": res})


def parse_client(out, rc, cfg, want_reply):
    lines = out.splitlines()
    res = {}
    for line in lines:
        m = re.match(r"(New|Reused), (TLSv[\d.]+|SSLv3|\(NONE\)), Cipher is (\S+)", line)
        if m:
            res["resumed"] = m.group(1) == "Reused"
            if m.group(3) != "(NONE)":
                res["cipher"] = m.group(3)
        m = re.match(r"\s*Protocol\s*:\s*(\S+)", line)
        if m:
            res["version"] = peerlib.version_label(m.group(1))
        m = re.match(r"ALPN protocol: (.+)", line)
        if m:
            res["alpn"] = m.group(1).strip()
        # "Server Temp Key" up to OpenSSL 3.4, "Peer Temp Key" from 3.5 on
        m = re.match(r"(?:Server|Peer) Temp Key: ([^,]+)(?:, ([^,]+))?", line)
        if m:
            name = m.group(1).strip()
            if name == "ECDH" and m.group(2):
                name = m.group(2).strip()
            elif name == "DH" and m.group(2):
                name = "ffdhe" + m.group(2).split()[0]
            res["group"] = {"prime256v1": "secp256r1", "X25519": "x25519",
                            "X448": "x448"}.get(name, name)
        if line.startswith("subject=") and "peer_cert" not in res:
            m = OU_RE.search(line)
            if m:
                res["peer_cert"] = m.group(1).strip()
    # The reply can follow a session ticket dump on the same line.
    got_reply = want_reply is None or (want_reply + "\n") in out
    if "\nclosed\n" in out:
        res["close"] = "close_notify"
    elif "read:errno" in out:
        res["close"] = "no close_notify: " + re.search(r"read:errno=\d+", out).group(0)
    errors = ssl_errors(lines)
    if rc == 0 and got_reply and "cipher" in res:
        res["status"] = "ok"
    else:
        res["status"] = "fail"
        res["stage"] = "handshake" if "cipher" not in res else "io"
        res["error"] = errors or ("no reply (exit %s)" % rc)
    return res


class Driver(peerlib.Driver):
    Server = Server

    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="peer-openssl-")

    def hello(self):
        version = peerlib.query([OPENSSL, "version"]).strip()
        # "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)"
        m = re.match(r"(.*?) \(Library: (.*)\)$", version)
        if m and m.group(1) == m.group(2):
            version = m.group(1)
        return {
            "name": "openssl", "version": version,
            "caps": {
                "versions": ["1.0", "1.1", "1.2", "1.3"],
                "ciphers12": self.suites("-tls1_2"),
                "ciphers13": self.suites("-tls1_3"),
                "groups": self.default_groups(),
                "sigs": ["rsa", "ecdsa", "ed25519"],
                "dhe_server": True,
                "long_lines": "client",     # s_server -rev reverses 16 KB at a time
                "alpn_mismatch": "alert",
                "client_resume": True,
                "server_reports": ["version", "cipher", "peer_cert"],
                "client_reports": ["version", "cipher", "alpn", "group", "peer_cert",
                                   "resumed"],
                "client_groups": True,
                "sni_switch": True,
            },
        }

    @staticmethod
    def suites(version_flag):
        """The suites of one version that s_server and s_client use with
        the suites they are given (`ciphers -s`: what the level allows)."""
        listing = peerlib.query([OPENSSL, "ciphers", "-stdname", "-s", version_flag,
                                 "-ciphersuites", ALL_TLS13, CIPHERS])
        return [l.split()[0] for l in listing.splitlines()
                if l.startswith("TLS_") and (" TLSv1.3 " in l) == (version_flag == "-tls1_3")]

    @staticmethod
    def default_groups():
        """The groups s_client offers and s_server accepts (neither is given
        -groups): what s_client's ClientHello lists. OpenSSL 3.5 enables
        fewer than it has (no ffdhe4096 and up)."""
        def start(port):
            argv = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port,
                    "-noservername"] + common_args({})
            # stdin stays open: at its end s_client would quit
            return processes.start(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        return client_hello.capture(start, peerlib.QUERY_TIMEOUT)["groups"]

    def _client_once(self, cfg, sess_in=None, sess_out=None):
        argv = [OPENSSL, "s_client", "-connect", "%s:%d" % (cfg.get("host", "127.0.0.1"),
                                                            cfg["port"]), "-ign_eof"]
        argv += common_args(cfg) + identity_args(cfg)
        if cfg.get("sni"):
            argv += ["-servername", cfg["sni"]]
        else:
            argv += ["-noservername"]
        if cfg.get("verify"):
            argv += ["-CAfile", cfg["ca"], "-verify_return_error",
                     "-verify_hostname", cfg.get("hostname") or "localhost"]
        if sess_in:
            argv += ["-sess_in", sess_in]
        if sess_out:
            argv += ["-sess_out", sess_out]
        msg = cfg.get("send", "ping") + "\n"
        proc = processes.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        done = processes.communicate(proc, cfg.get("timeout", 10), msg.encode())
        if done is None:
            return {"status": "fail", "stage": "timeout", "error": "s_client timed out"}
        return parse_client(done[0].decode("utf-8", "replace"), proc.returncode, cfg,
                            cfg.get("expect"))

    def run_client(self, cfg):
        if not cfg.get("resume"):
            return self._client_once(cfg)
        sess = os.path.join(self.tmp, "sess-%d.pem" % os.getpid())
        if os.path.exists(sess):
            os.unlink(sess)
        first = self._client_once(cfg, sess_out=sess)
        if first["status"] != "ok":
            return first
        if not os.path.exists(sess):
            first.update(status="fail", stage="resume", error="no session saved")
            return first
        second = self._client_once(cfg, sess_in=sess)
        os.unlink(sess)
        return second

    def close(self):
        super().close()
        try:
            os.rmdir(self.tmp)
        except OSError:
            pass


if __name__ == "__main__":
    peerlib.serve(Driver())
