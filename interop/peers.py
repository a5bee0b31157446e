"""The peer stacks: how to start each driver, what it needs installed or
built, and the probe that asks each one what it can do."""

import os
import shutil
import subprocess
import sys

import processes
from driver_client import PeerDriver

INTEROP = os.path.dirname(os.path.abspath(__file__))
BUILD_TIMEOUT = 600     # seconds for javac / go build on a busy machine


class PeerSpec:
    def __init__(self, name, argv, needs, prepare=None, notes=""):
        self.name = name
        self.argv = argv
        self.needs = needs
        self.prepare = prepare
        self.notes = notes
        self.available = False
        self.reason = ""
        self.version = ""
        self.caps = {}

    def unavailable_row(self):
        """The results line of a peer that could not run."""
        return {"peer": self.name, "peer_version": "unavailable", "role": "-",
                "variant": "-", "case": "peer/available", "family": "peer",
                "features": ["peer available"], "expected": "peer runs",
                "result": "unavailable", "detail": self.reason, "duration": 0,
                "client": None, "server": None,
                "key": "%s|-|-|peer/available" % self.name, "quick": True}


def build(argv, what, env=None):
    """Runs a compiler; None, or why it failed."""
    try:
        r = processes.run(argv, BUILD_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return "%s timed out after %d s" % (what, BUILD_TIMEOUT)
    return None if r.returncode == 0 else "%s failed: %s" % (what, r.stderr[-400:])


def up_to_date(target, src):
    return os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(src)


def build_java(env):
    out = os.path.join(env.out, "java")
    src = os.path.join(INTEROP, "Peer.java")
    if up_to_date(os.path.join(out, "Peer.class"), src):
        return None
    os.makedirs(out, exist_ok=True)
    return build(["javac", "-d", out, src], "javac")


def build_go(env):
    out = os.path.join(env.out, "peer_go")
    src = os.path.join(INTEROP, "peer_go.go")
    if up_to_date(out, src):
        return None
    genv = dict(os.environ, GOCACHE=os.path.join(env.out, "gocache"),
                GOPATH=os.path.join(env.out, "gopath"), GO111MODULE="off",
                GOFLAGS="", CGO_ENABLED="0")
    return build(["go", "build", "-o", out, src], "go build", genv)


def peer_specs(env):
    pyb = [sys.executable, "-B"]
    return [
        PeerSpec("openssl", pyb + [os.path.join(INTEROP, "peer_openssl.py")], ["openssl"],
                 notes="openssl s_server -rev / s_client"),
        PeerSpec("gnutls", pyb + [os.path.join(INTEROP, "peer_gnutls.py")],
                 ["gnutls-serv", "gnutls-cli", "stdbuf"], notes="gnutls-serv --echo / gnutls-cli"),
        PeerSpec("python", pyb + [os.path.join(INTEROP, "peer_python.py")], [],
                 notes="Python ssl module"),
        PeerSpec("node", ["node", os.path.join(INTEROP, "peer_node.js")], ["node"],
                 notes="Node.js tls"),
        PeerSpec("java", ["java", "-XX:+UseSerialGC", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                          "-cp", os.path.join(env.out, "java"), "Peer"], ["java", "javac"],
                 prepare=build_java, notes="Java JSSE"),
        PeerSpec("go", [os.path.join(env.out, "peer_go")], ["go"], prepare=build_go,
                 notes="Go crypto/tls"),
    ]


# Behaviour of each stack that its driver cannot discover by asking it.
PEER_FACTS = {
    "gnutls": {"server_checks_client_purpose": False, "reply": "echo",
               "alpn_precedence": "client", "supported_versions_needs_13": True},
}


def probe_peers(env, specs, wanted):
    """Marks each spec available (with its version and capabilities) or
    not (with the reason)."""
    for spec in specs:
        if wanted and spec.name not in wanted:
            spec.reason = "not selected"
            continue
        missing = [t for t in spec.needs if shutil.which(t) is None]
        if missing:
            spec.reason = "not installed: " + ", ".join(missing)
            continue
        if spec.prepare:
            err = spec.prepare(env)
            if err:
                spec.reason = err
                continue
        drv = PeerDriver(spec, env, "probe-" + spec.name)
        try:
            msg = drv.hello(candidates=[env.ciphers.openssl_of[c] for c in env.ciphers.sweep12()])
        finally:
            drv.close()
        if not msg:
            spec.reason = "driver did not answer (see build/interop/logs/probe-%s.log)" % spec.name
            continue
        spec.available = True
        spec.version = msg.get("version", "?")
        caps = dict(msg.get("caps") or {})
        caps.update(PEER_FACTS.get(spec.name, {}))
        caps["ciphers12"] = [env.ciphers.iana(c) for c in caps.get("ciphers12", [])]
        caps["ciphers13"] = [env.ciphers.iana(c) for c in caps.get("ciphers13", [])]
        spec.caps = caps
