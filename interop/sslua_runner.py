"""sslua's side of an interop case: its neutral configuration as
sslua_peer.lua flags, a client run to the end, and a server that serves
every connection of a group of cases and reports one RESULT per connection.
"""

import json
import os
import queue
import subprocess
import time

import client_hello
import oracle
import processes
from ciphers import LEVELS

INTEROP = os.path.dirname(os.path.abspath(__file__))
PEER_SCRIPT = os.path.join(INTEROP, "sslua_peer.lua")
CASE_TIMEOUT = 20       # seconds for one sslua client, start to result
START_TIMEOUT = 15      # seconds for an sslua server to listen
IO_TIMEOUT = "8"        # sslua's own socket timeout (--timeout)

GROUP_NAMES = {"x25519": "X25519", "x448": "X448", "secp256r1": "P-256",
               "secp384r1": "P-384", "secp521r1": "P-521"}
ORACLE_GROUP = {v: k for k, v in GROUP_NAMES.items()}


def sslua_caps(env):
    """What sslua can do, for the oracle: SSLUA_CAPS, what its OpenSSL
    answers (env.ciphers: its default suites, and the suites it uses at
    the default security level and, for the legacy cases, at level 0) and
    what the module says of its groups (env.sslua_groups, probe_groups)."""
    t = env.ciphers
    caps = dict(oracle.SSLUA_CAPS, default12=t.default12, default13=t.default13)
    caps["ciphers12"], caps["ciphers13"] = t.usable["default"]
    caps["legacy"] = dict(zip(("ciphers12", "ciphers13"), t.usable["legacy"]))
    caps["groups"], caps["pinnable_groups"] = env.sslua_groups
    return caps


def probe_groups(env):
    """(the groups sslua offers and accepts by default, the groups its
    curve options take) in the oracle's names, asked of the module: its
    client's ClientHello, and ssl.config.curves. ([], []) and a warning
    when the module does not answer: the cases fail on their own then."""
    def start(port):
        argv = [env.lua, PEER_SCRIPT, "client", "--port", str(port), "--io", "blocking",
                "--send", "-", "--timeout", IO_TIMEOUT] + sslua_flags(env, {}, "client")
        return processes.start(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env.lua_env)
    try:
        offered = client_hello.capture(start)["groups"]
        names = processes.run([env.lua, "-e", "for name in pairs(require('ssl').config.curves) "
                               "do print(name) end"], CASE_TIMEOUT, env=env.lua_env)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        print("warning: sslua's groups are unknown: %s" % exc, flush=True)
        return [], []
    return offered, sorted({ORACLE_GROUP.get(n, n) for n in names.stdout.split()})


def sslua_flags(env, cfg, role):
    """The neutral configuration of sslua's side as sslua_peer.lua flags."""
    f = []

    def add(k, v):
        f.extend(["--" + k, str(v)])

    if cfg.get("protocol_range"):
        lo, hi = cfg["protocol_range"]
        if lo:
            add("protocol-min", lo)
        if hi:
            add("protocol-max", hi)
    else:
        add("protocol", cfg.get("protocol") or "any")
    options = list(cfg.get("options") or [])
    if cfg.get("server_pref"):
        options.append("cipher_server_preference")
    if options:
        add("options", ",".join(options))
    ciphers = None
    if cfg.get("cipher12"):
        ciphers = env.ciphers.openssl_of.get(cfg["cipher12"], cfg["cipher12"])
    if cfg.get("ciphers_raw"):
        ciphers = cfg["ciphers_raw"]
    if cfg.get("legacy"):
        ciphers = (ciphers or "DEFAULT") + LEVELS["legacy"]
    if ciphers:
        add("ciphers", ciphers)
    if cfg.get("cipher13"):
        add("ciphersuites", cfg["cipher13"])
    if cfg.get("ciphersuites_raw"):
        add("ciphersuites", cfg["ciphersuites_raw"])
    if cfg.get("group"):
        add("curves", GROUP_NAMES.get(cfg["group"], cfg["group"]))
    if cfg.get("identity"):
        files = env.identity_files(cfg["identity"], cfg.get("chain", True))
        add("cert", files["cert"])
        add("key", files["key"])
    if cfg.get("verify"):
        if cfg.get("crl"):
            add("cafile", env.cert("ca-crl.pem"))
            add("verifyext", "crl_check")
        else:
            add("cafile", env.cert("ca.pem"))
        add("verify", "peer,fail_if_no_peer_cert" if cfg.get("require") else "peer")
    else:
        add("verify", "none")
    if cfg.get("depth") is not None:
        add("depth", cfg["depth"])
    if cfg.get("dhparam"):
        add("dhparam", env.cert("dh2048.pem"))
    if cfg.get("verifyhost"):
        add("verifyhost", cfg["verifyhost"])
    if cfg.get("sessioncache"):
        add("sessioncache", "1")
    if cfg.get("alpn"):
        add("alpn", ",".join(cfg["alpn"]))
    if role == "client":
        if cfg.get("sni"):
            add("sni", cfg["sni"])
        if cfg.get("checkhost"):
            add("checkhost", cfg["checkhost"])
        if cfg.get("resume"):
            add("resume", "1")
    return f


def parse_tagged(line):
    """'TAG {json}' -> (TAG, object); (None, None) for anything else."""
    if not line or " " not in line:
        return None, None
    tag, rest = line.split(" ", 1)
    try:
        return tag, json.loads(rest)
    except ValueError:
        return None, None


def run_sslua_client(env, flags, port, io, message, expect, timeout=None):
    """One sslua client connection: its RESULT, or a failure (stage
    "timeout" when it was still running after `timeout` seconds and its
    process group was stopped, "crash" when it printed no result)."""
    argv = [env.lua, PEER_SCRIPT, "client", "--port", str(port), "--io", io,
            "--send", message, "--timeout", IO_TIMEOUT] + flags
    if expect is not None:
        argv += ["--expect", expect]
    proc = processes.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, env=env.lua_env)
    done = processes.communicate(proc, CASE_TIMEOUT if timeout is None else timeout)
    if done is None:
        return {"status": "fail", "stage": "timeout", "error": "sslua client timed out",
                "local_port": 0}
    out, err = done
    for line in out.decode("utf-8", "replace").splitlines():
        tag, obj = parse_tagged(line)
        if tag == "RESULT":
            return obj
    return {"status": "fail", "stage": "crash",
            "error": "no result (exit %s): %s" % (proc.returncode,
                                                  err.decode("utf-8", "replace")[-300:])}


class SsluaServer:
    """sslua_peer.lua serving: .port once it listens (None: .setup holds
    the failure), .records a queue of one result per connection."""

    def __init__(self, env, flags, io):
        argv = [env.lua, PEER_SCRIPT, "server", "--io", io, "--timeout", IO_TIMEOUT] + flags
        self.proc = processes.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env=env.lua_env)
        self.records = queue.Queue()
        self.first = queue.Queue()
        self.stderr = []
        processes.LineReader(self.proc.stdout, self._line)
        processes.LineReader(self.proc.stderr, lambda l: l is not None and self.stderr.append(l))
        self.port, self.setup = None, None
        try:
            tag, obj = self.first.get(timeout=START_TIMEOUT)
        except queue.Empty:
            tag, obj = None, None
        if tag == "LISTEN":
            self.port = obj["port"]
        elif tag == "SETUP":
            self.setup = obj
        else:
            time.sleep(0.1)
            self.setup = {"status": "fail", "stage": "crash",
                          "error": "sslua server did not start: " + " ".join(self.stderr)[-300:]}

    def _line(self, line):
        if line is None:
            self.first.put((None, None))
            return
        tag, obj = parse_tagged(line)
        if tag in ("LISTEN", "SETUP"):
            self.first.put((tag, obj))
        elif tag == "RESULT":
            self.records.put(obj)

    def stop(self):
        processes.stop(self.proc)
