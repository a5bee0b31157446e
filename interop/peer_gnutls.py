#!/usr/bin/env python3
"""Peer driver: GnuTLS's command line tools (gnutls-serv / gnutls-cli).

Server: one long-running `gnutls-serv --echo` per server config (it echoes
lines unchanged). Its output is cut into one record per connection: from
"* Accepted connection" to "Error in handshake" / the echo of the line.
Client: one `gnutls-cli` per connection (two with --resume).
"""

import os
import re
import subprocess
import time

import peerlib
import processes

SERV = os.environ.get("GNUTLS_SERV", "gnutls-serv")
CLI = os.environ.get("GNUTLS_CLI", "gnutls-cli")
EXTRA = ("+CIPHER-ALL:+CAMELLIA-128-GCM:+CAMELLIA-256-GCM:+CAMELLIA-128-CBC:"
         "+CAMELLIA-256-CBC:+AES-128-CCM-8:+AES-256-CCM-8:+MAC-ALL:+SHA256:+SHA384:"
         "+KX-ALL:+SIGN-ALL:+GROUP-ALL:%COMPAT")
VERS = {"1.0": "VERS-TLS1.0", "1.1": "VERS-TLS1.1", "1.2": "VERS-TLS1.2",
        "1.3": "VERS-TLS1.3"}
ORDER = ["1.0", "1.1", "1.2", "1.3"]
CLOSE_TIMEOUT = 3       # seconds for gnutls-cli to finish after its stdin closed
GROUPS = {"x25519": "GROUP-X25519", "x448": "GROUP-X448", "secp256r1": "GROUP-SECP256R1",
          "secp384r1": "GROUP-SECP384R1", "secp521r1": "GROUP-SECP521R1",
          "ffdhe2048": "GROUP-FFDHE2048", "ffdhe3072": "GROUP-FFDHE3072",
          "ffdhe4096": "GROUP-FFDHE4096", "ffdhe6144": "GROUP-FFDHE6144",
          "ffdhe8192": "GROUP-FFDHE8192"}
OU_RE = re.compile(r"OU=([^,'`]+)")


def priority(cfg):
    lo = ORDER.index(cfg.get("min") or "1.0")
    hi = ORDER.index(cfg.get("max") or "1.3")
    p = "NORMAL:" + EXTRA + ":-VERS-ALL:" + ":".join("+" + VERS[v] for v in ORDER[lo:hi + 1])
    if cfg.get("groups"):
        p += ":-GROUP-ALL:" + ":".join("+" + GROUPS[g] for g in cfg["groups"])
    return p


def group_from_description(desc):
    """'(TLS1.3-X.509)-(ECDHE-SECP256R1)-(...)' -> 'secp256r1'."""
    parts = re.findall(r"\(([^)]*)\)", desc)
    if len(parts) < 2:
        return None
    kx = parts[1].upper()
    for name, token in GROUPS.items():
        if kx.endswith(token.split("-", 1)[1]):
            return name
    return None


def parse_record(lines):
    res = {"status": "ok"}
    errors = []
    for line in lines:
        s = line.strip()
        if s.startswith("- Version:"):
            res["version"] = peerlib.version_label(s.split(":", 1)[1].strip())
        elif s.startswith("- Description:"):
            g = group_from_description(s)
            if g:
                res["group"] = g
            m = re.search(r"\(TLS(1\.[0-3])-", s)
            if m and "version" not in res:
                res["version"] = m.group(1)
        elif s.startswith("- Application protocol:"):
            res["alpn"] = s.split(":", 1)[1].strip()
        elif (s.startswith("Subject:") or s.startswith("- subject")) and "peer_cert" not in res:
            m = OU_RE.search(s)
            if m:
                res["peer_cert"] = m.group(1)
        elif s.startswith("*** This is a resumed session"):
            res["resumed"] = True
        elif s.startswith("Error in handshake:") or s.startswith("* Received alert") \
                or "NOT trusted" in s or s.startswith("Error while"):
            errors.append(s.lstrip("*- "))
        elif s.startswith("Warning: client provided unrecognized host name"):
            res["sni"] = "(unrecognized)"
        elif s.startswith("Warning: client did not include SNI"):
            res["sni"] = None
    if any(e.startswith("Error in handshake") for e in errors):
        res["status"] = "fail"
        res["stage"] = "handshake"
        res["error"] = "; ".join(errors)
    return res


class Server(peerlib.CliServer):
    """`gnutls-serv --echo` on a port chosen before it starts: a record runs
    from "* Accepted connection" to the handshake error or the echo."""

    NAME = "gnutls-serv"
    QUIET = 0.3

    def argv(self):
        cfg = self.cfg
        self.port = peerlib.free_port()
        argv = ["stdbuf", "-oL", "-eL", SERV, "--echo", "-p", str(self.port),
                "--priority", priority(cfg),
                "--x509certfile", cfg["cert"], "--x509keyfile", cfg["key"]]
        if cfg.get("ca"):
            argv += ["--x509cafile", cfg["ca"]]
        if cfg.get("verify"):
            argv += ["--verify-client-cert"]
            if cfg.get("require_cert"):
                argv += ["--require-client-cert"]
        else:
            argv += ["--disable-client-cert"]
        for proto in cfg.get("alpn") or []:
            argv += ["--alpn", proto]
        if cfg.get("alpn"):
            argv += ["--alpn-fatal"]
        if cfg.get("sni_name"):
            argv += ["--sni-hostname", cfg["sni_name"]]
        return argv

    def listening(self, line):
        return "listening on IPv4" in line

    def take(self, line):
        """self.record: the lines of one connection; self.pending: before it."""
        if line.startswith("* Accepted connection"):
            self.flush()
            self.record, self.pending = self.pending + [line], []
        elif self.record is None:
            self.pending.append(line)
        else:
            self.record.append(line)
            s = line.strip()
            if s.startswith("Error in handshake") or s.startswith("*** Processing"):
                self.flush()

    def report(self, lines):
        res = parse_record(lines)
        # gnutls-serv says nothing when the name matches its --sni-hostname,
        # and only "unrecognized" for another name.
        if self.cfg.get("sni_name"):
            if "sni" not in res:
                res["sni"] = self.cfg["sni_name"]
            elif res["sni"] == "(unrecognized)":
                res["sni"] = "(other)"
        peerlib.emit({"event": "conn", "id": self.ident, "result": res})


def parse_client(out, rc, got_reply):
    res = parse_record(out.splitlines())
    if "Peer has closed the GnuTLS connection" in out:
        res["close"] = "close_notify"
    elif "non-properly terminated" in out:
        res["close"] = "no close_notify: non-properly terminated"
    lines = out.splitlines()
    errors = [l.strip().lstrip("*- ") for l in lines
              if l.startswith("*** Fatal error") or l.startswith("*** Received alert")
              or "NOT trusted" in l or l.startswith("*** Verifying")
              or l.startswith("*** Handshake has failed") or l.startswith("Could not connect")
              or "error:" in l.lower() and l.startswith("*")]
    if "version" in res and got_reply:
        res["status"] = "ok"
        res.pop("error", None)
        res.pop("stage", None)
    else:
        res["status"] = "fail"
        res["stage"] = "handshake" if "version" not in res else "io"
        res["error"] = "; ".join(errors) or ("no reply (exit %s)" % rc)
    return res


class Driver(peerlib.Driver):
    Server = Server

    def hello(self):
        version = peerlib.query([CLI, "--version"]).splitlines()[0].strip()
        listing = peerlib.query([CLI, "-l", "--priority", priority({})])
        c12, c13 = [], []
        for line in listing.splitlines():
            m = re.match(r"(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s+(\S+)", line)
            if m:
                code = "0x" + (m.group(2) + m.group(3)).upper()
                (c13 if m.group(4) == "TLS1.3" else c12).append(code)
        return {
            "name": "gnutls", "version": version,
            "caps": {
                "versions": ["1.0", "1.1", "1.2", "1.3"],
                "ciphers12": c12,
                "ciphers13": c13,
                "groups": list(GROUPS),
                "sigs": ["rsa", "ecdsa", "ed25519"],
                "dhe_server": True,
                "long_lines": True,
                "alpn_mismatch": "alert",
                "client_resume": True,
                "server_checks_client_purpose": False,
                "reply": "echo",
                "server_reports": ["version", "group", "alpn", "peer_cert", "sni"],
                "client_reports": ["version", "group", "alpn", "peer_cert", "resumed"],
                "sni_switch": False,
            },
        }

    def run_client(self, cfg):
        argv = [CLI, "-p", str(cfg["port"]), cfg.get("host", "127.0.0.1"),
                "--priority", priority(cfg)]
        if cfg.get("verify"):
            argv += ["--x509cafile", cfg["ca"], "--verify-hostname",
                     cfg.get("hostname") or "localhost"]
        else:
            argv += ["--insecure"]
        if cfg.get("sni"):
            argv += ["--sni-hostname", cfg["sni"]]
        else:
            argv += ["--disable-sni"]
        for proto in cfg.get("alpn") or []:
            argv += ["--alpn", proto]
        if cfg.get("cert"):
            argv += ["--x509certfile", cfg["cert"], "--x509keyfile", cfg["key"]]
        if cfg.get("resume"):
            argv += ["--resume"]
        proc = processes.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        lines = processes.LineReader(proc.stdout)
        want = cfg.get("expect")
        out, got_reply = [], False
        # gnutls-cli reads stdin only once the handshake is done; the line is
        # written at once and stdin is closed after the reply (or at the end).
        try:
            proc.stdin.write((cfg.get("send", "ping") + "\n").encode())
            proc.stdin.flush()
        except OSError:
            pass
        try:
            until = processes.deadline(cfg.get("timeout", 10))
            while not got_reply:
                line = lines.readline(until)
                if line is None:
                    break
                out.append(line)
                got_reply = want is not None and line.strip() == want
        except TimeoutError:
            pass
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:        # what it prints as it closes, and its exit status
            until = processes.deadline(CLOSE_TIMEOUT)
            out += lines.rest(until)
            proc.wait(max(0.0, until - time.monotonic()))
        except (TimeoutError, subprocess.TimeoutExpired):
            pass
        processes.stop(proc)
        if not got_reply and want is None:
            got_reply = proc.returncode == 0
        return parse_client("\n".join(out) + "\n", proc.returncode, got_reply)


if __name__ == "__main__":
    peerlib.serve(Driver())
