#!/usr/bin/env python3
"""harness.py - the sslua interop harness (make interop, make interop-quick,
make interop-baseline).

It answers "which protocol versions, ciphers, options and verify modes
interoperate, in which role, against which TLS stack": for every peer stack
(interop/peer_*), both roles (sslua as client against the peer's server,
the peer's client against sslua's server) and three execution variants
(blocking, non-blocking, through the byte-at-a-time relay), it runs the
cases of interop/cases.py, compares each outcome with the oracle
(interop/oracle.py), writes the reports into build/interop/ and compares
what is supported with the committed baseline (interop/baseline.json).

Python 3 standard library only. See interop/README.md.
"""

import argparse
import datetime
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(ROOT, "interop")
sys.path.insert(0, INTEROP)
sys.dont_write_bytecode = True      # no __pycache__ in the work tree

import baseline as baseline_mod  # noqa: E402
import cases as cases_mod  # noqa: E402
import faults  # noqa: E402
import judge  # noqa: E402
import oracle  # noqa: E402
import report  # noqa: E402

MESSAGE = "sslua-interop-ping-0123456789"


def message_for(tpl):
    """The line a case sends: the short ping, or `bulk` bytes of it."""
    size = getattr(tpl, "bulk", 0)
    if not size:
        return MESSAGE
    return (MESSAGE * (size // len(MESSAGE) + 1))[:size]
VARIANTS = ["blocking", "nonblocking", "relay"]
ROLES = ["client", "server"]
CASE_TIMEOUT = 20

# ---------------------------------------------------------------- processes

_children = set()
_children_lock = threading.Lock()


def spawn(argv, **kw):
    """Starts a child in its own process group and remembers it, so that
    everything can be ended by pid at exit."""
    proc = subprocess.Popen(argv, start_new_session=True, **kw)
    with _children_lock:
        _children.add(proc)
    return proc


def kill(proc, wait=2.0):
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
    else:
        # the leader is gone; its group may still hold children
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream:
                stream.close()
        except OSError:
            pass
    with _children_lock:
        _children.discard(proc)


def kill_all():
    with _children_lock:
        procs = list(_children)
    for proc in procs:
        kill(proc, 1.0)


def line_reader(stream, handle):
    """Feeds each line of a child's stdout to handle(); handle(None) at EOF."""
    def run():
        try:
            for raw in iter(stream.readline, b""):
                handle(raw.decode("utf-8", "replace").rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        handle(None)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


# ---------------------------------------------------------------- environment

class Env:
    def __init__(self, args):
        self.root = ROOT
        self.out = os.path.abspath(args.out)
        self.certs = os.path.abspath(args.certs)
        self.lua = args.lua
        self.libdir = os.path.abspath(args.libdir)
        self.sharedir = os.path.abspath(args.sharedir)
        self.tmp = os.path.join(self.out, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.snapshot_module()
        self.lua_env = dict(os.environ)
        self.lua_env["LUA_CPATH"] = "%s/?.so;;" % self.libdir
        self.lua_env["LUA_PATH"] = "%s/?.lua;%s/?/init.lua;;" % (self.sharedir, self.sharedir)
        self.ciphers = CipherTable()
        self.derive_cert_files()

    def snapshot_module(self):
        """Runs a private copy of the built module, so that a rebuild in
        the work tree during the run cannot change it half-way."""
        snap = os.path.join(self.out, "module")
        for attempt in range(5):
            shutil.rmtree(snap, ignore_errors=True)
            shutil.copytree(self.libdir, os.path.join(snap, "lib"))
            shutil.copytree(self.sharedir, os.path.join(snap, "share"))
            env = dict(os.environ, LUA_CPATH="%s/lib/?.so;;" % snap,
                       LUA_PATH="%s/share/?.lua;%s/share/?/init.lua;;" % (snap, snap))
            r = subprocess.run([self.lua, "-e", "require 'ssl'"], env=env,
                               capture_output=True, text=True)
            if r.returncode == 0:
                break
            time.sleep(1 + attempt)
        else:
            print("warning: the module does not load: " + r.stderr.strip()[-300:], flush=True)
        self.libdir = os.path.join(snap, "lib")
        self.sharedir = os.path.join(snap, "share")

    def cert(self, name):
        return os.path.join(self.certs, name)

    def derive_cert_files(self):
        """X-inter.pem: the intermediates of X-chain.pem (what follows the
        leaf), for stacks that take the leaf and the chain separately."""
        self.inter = {}
        for fn in sorted(os.listdir(self.certs)):
            if not fn.endswith("-chain.pem"):
                continue
            stem = fn[:-len("-chain.pem")]
            text = open(self.cert(fn)).read()
            blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                                text, re.S)
            if len(blocks) > 1:
                path = os.path.join(self.tmp, stem + "-inter.pem")
                with open(path, "w") as f:
                    f.write("\n".join(blocks[1:]) + "\n")
                self.inter[stem] = path

    def identity_files(self, ident, chain):
        leaf = self.cert(ident + ".pem")
        key = self.cert(ident + ".key")
        full = self.cert(ident + "-chain.pem")
        if chain and os.path.exists(full):
            return {"cert": full, "leaf": leaf, "key": key, "chain": self.inter.get(ident)}
        return {"cert": leaf, "leaf": leaf, "key": key, "chain": None}


class CipherTable:
    """Names of cipher suites: IANA <-> OpenSSL <-> code point, from the
    local openssl."""

    def __init__(self):
        self.by_openssl, self.by_code, self.openssl_of, self.info = {}, {}, {}, {}
        out = subprocess.run(["openssl", "ciphers", "-V", "-stdname",
                              "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                             capture_output=True, text=True).stdout
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
        for code, iana in (("0x1301", "TLS_AES_128_GCM_SHA256"), ("0x1302", "TLS_AES_256_GCM_SHA384"),
                           ("0x1303", "TLS_CHACHA20_POLY1305_SHA256"),
                           ("0x1304", "TLS_AES_128_CCM_SHA256"),
                           ("0x1305", "TLS_AES_128_CCM_8_SHA256")):
            self.by_code[code] = iana
            self.info.setdefault(iana, {"version": "TLSv1.3", "kx": "any", "au": "any"})
            self.openssl_of.setdefault(iana, iana)
        self.default12 = self._list("DEFAULT")

    def _list(self, spec):
        out = subprocess.run(["openssl", "ciphers", "-stdname", "-tls1_2", spec],
                             capture_output=True, text=True).stdout
        names = [l.split()[0] for l in out.splitlines() if l.startswith("TLS_")]
        return [n for n in names if self.info.get(n, {}).get("version") != "TLSv1.3"]

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


def sslua_caps(env):
    caps = dict(oracle.SSLUA_CAPS)
    caps["default12"] = env.ciphers.default12
    return caps


def environment_info(env):
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    try:
        info["openssl"] = subprocess.run(["openssl", "version"], capture_output=True,
                                         text=True).stdout.strip()
    except OSError:
        info["openssl"] = "?"
    try:
        import ssl
        info["security_level"] = ssl.create_default_context().security_level
    except Exception:
        info["security_level"] = "?"
    try:
        r = subprocess.run([env.lua, "-e",
                            "local ssl = require 'ssl'; print(_VERSION); "
                            "print(ssl._VERSION); print(ssl.config and ssl.config.openssl or '?')"],
                           capture_output=True, text=True, env=env.lua_env, timeout=10)
        lines = r.stdout.splitlines()
        info["lua"] = lines[0] if lines else "?"
        info["sslua"] = lines[1] if len(lines) > 1 else "?"
        info["sslua_openssl"] = lines[2] if len(lines) > 2 else "?"
    except (OSError, subprocess.TimeoutExpired):
        info["lua"] = "?"
    info["python"] = sys.version.split()[0]
    info["machine"] = "%s, %d cores" % (os.uname().machine, os.cpu_count() or 0)
    return info


# ---------------------------------------------------------------- sslua side

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
        ciphers = (ciphers or "DEFAULT") + ":@SECLEVEL=0"
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


GROUP_NAMES = {"x25519": "X25519", "x448": "X448", "secp256r1": "P-256",
               "secp384r1": "P-384", "secp521r1": "P-521"}


def parse_tagged(line):
    if not line or " " not in line:
        return None, None
    tag, rest = line.split(" ", 1)
    try:
        return tag, json.loads(rest)
    except ValueError:
        return None, None


def run_sslua_client(env, flags, port, io, message, expect, timeout=CASE_TIMEOUT):
    argv = [env.lua, os.path.join(INTEROP, "sslua_peer.lua"), "client",
            "--port", str(port), "--io", io, "--send", message, "--timeout", "8"] + flags
    if expect is not None:
        argv += ["--expect", expect]
    proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                 env=env.lua_env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        return {"status": "fail", "stage": "timeout", "error": "sslua client timed out",
                "local_port": 0}
    finally:
        kill(proc)
    for line in out.decode("utf-8", "replace").splitlines():
        tag, obj = parse_tagged(line)
        if tag == "RESULT":
            return obj
    return {"status": "fail", "stage": "crash",
            "error": "no result (exit %s): %s" % (proc.returncode,
                                                  err.decode("utf-8", "replace")[-300:])}


class SsluaServer:
    def __init__(self, env, flags, io):
        argv = [env.lua, os.path.join(INTEROP, "sslua_peer.lua"), "server", "--io", io,
                "--timeout", "8"] + flags
        self.proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=env.lua_env)
        self.records = queue.Queue()
        self.first = queue.Queue()
        self.stderr = []
        line_reader(self.proc.stdout, self._line)
        line_reader(self.proc.stderr, lambda l: l is not None and self.stderr.append(l))
        self.port, self.setup = None, None
        try:
            tag, obj = self.first.get(timeout=15)
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
        kill(self.proc)


class Relay:
    def __init__(self, target_port):
        self.proc = spawn([sys.executable, "-B", os.path.join(INTEROP, "relay.py"),
                           str(target_port)],
                          stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("LISTEN "):
            kill(self.proc)
            raise RuntimeError("relay did not start")
        self.port = int(line.split()[1])

    def stop(self):
        kill(self.proc)


# ---------------------------------------------------------------- peers

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


def build_java(env):
    out = os.path.join(env.out, "java")
    src = os.path.join(INTEROP, "Peer.java")
    cls = os.path.join(out, "Peer.class")
    if os.path.exists(cls) and os.path.getmtime(cls) >= os.path.getmtime(src):
        return None
    os.makedirs(out, exist_ok=True)
    r = subprocess.run(["javac", "-d", out, src], capture_output=True, text=True)
    return None if r.returncode == 0 else "javac failed: " + r.stderr[-400:]


def build_go(env):
    out = os.path.join(env.out, "peer_go")
    src = os.path.join(INTEROP, "peer_go.go")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return None
    genv = dict(os.environ, GOCACHE=os.path.join(env.out, "gocache"),
                GOPATH=os.path.join(env.out, "gopath"), GO111MODULE="off",
                GOFLAGS="", CGO_ENABLED="0")
    r = subprocess.run(["go", "build", "-o", out, src], capture_output=True, text=True, env=genv)
    return None if r.returncode == 0 else "go build failed: " + r.stderr[-400:]


def peer_specs(env):
    py = sys.executable
    pyb = [py, "-B"]
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


class PeerDriver:
    """One running peer driver process (JSON lines on stdin/stdout)."""

    def __init__(self, spec, env, log_name):
        self.spec = spec
        self.log = open(os.path.join(env.out, "logs", log_name + ".log"), "w")
        self.proc = spawn(spec.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=self.log, cwd=INTEROP)
        self.queues = {}
        self.lock = threading.Lock()
        self.dead = threading.Event()
        self.counter = 0
        line_reader(self.proc.stdout, self._line)

    def _queue(self, ident):
        with self.lock:
            q = self.queues.get(ident)
            if q is None:
                q = self.queues[ident] = queue.Queue()
            return q

    def _line(self, line):
        if line is None:
            self.dead.set()
            with self.lock:
                qs = list(self.queues.values())
            for q in qs:
                q.put({"event": "dead"})
            return
        try:
            msg = json.loads(line)
        except ValueError:
            self.log.write("stdout: " + line + "\n")
            return
        ident = msg.get("id")
        if msg.get("event") == "hello":
            ident = "__hello__"
        self._queue(ident).put(msg)

    def send(self, obj):
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def next_id(self, prefix):
        with self.lock:
            self.counter += 1
            return "%s%d" % (prefix, self.counter)

    def wait(self, ident, timeout):
        try:
            return self._queue(ident).get(timeout=timeout)
        except queue.Empty:
            return None

    def hello(self, timeout=60, candidates=None):
        if not self.send({"cmd": "hello", "candidates": candidates or []}):
            return None
        msg = self.wait("__hello__", timeout)
        return msg if msg and msg.get("event") == "hello" else None

    def start_server(self, config, timeout=30):
        ident = self.next_id("s")
        self.send({"cmd": "server", "id": ident, "config": config})
        msg = self.wait(ident, timeout)
        if msg is None:
            return ident, None, "no answer from the peer driver"
        if msg.get("event") == "listening":
            return ident, msg["port"], None
        return ident, None, msg.get("error") or msg.get("event")

    def records(self, ident):
        return self._queue(ident)

    def stop_server(self, ident):
        self.send({"cmd": "stop", "id": ident})
        q = self._queue(ident)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                msg = q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                return
            if msg.get("event") in ("stopped", "dead"):
                return

    def client(self, config, timeout=CASE_TIMEOUT):
        ident = self.next_id("c")
        if not self.send({"cmd": "client", "id": ident, "config": config}):
            return {"status": "fail", "stage": "driver", "error": "peer driver is gone"}
        msg = self.wait(ident, timeout)
        if msg is None:
            return {"status": "fail", "stage": "timeout", "error": "peer client timed out"}
        if msg.get("event") == "dead":
            return {"status": "fail", "stage": "driver", "error": "peer driver exited"}
        return msg.get("result") or {}

    def close(self):
        self.send({"cmd": "quit"})
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            pass
        kill(self.proc)
        self.log.close()


def probe_peers(env, specs, wanted):
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


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, peer, role, variant, tpl, expected, ours_side, peer_side):
        self.peer = peer
        self.role = role
        self.variant = variant
        self.tpl = tpl
        self.expected = expected
        self.ours_side = ours_side
        self.peer_side = peer_side

    @property
    def key(self):
        return "%s|%s|%s|%s" % (self.peer.name, self.role, self.variant, self.tpl.case_id)


def build_cases(env, specs, quick, families, variants):
    ours_caps = sslua_caps(env)
    sweep = env.ciphers.sweep12()
    batches = []
    for spec in specs:
        if not spec.available:
            continue
        for role in ROLES:
            templates = cases_mod.catalogue(role, sweep)
            if quick:
                templates = [t for t in templates if t.quick]
            if families:
                templates = [t for t in templates if t.sanity or t.family in families]
            peer_role = "server" if role == "client" else "client"
            templates = [t for t in templates if not t.requires
                         or spec.caps.get(t.requires) in (True, peer_role)]
            for variant in variants:
                batch = []
                for tpl in templates:
                    ours = {"stack": "sslua", "caps": ours_caps, "cfg": tpl.ours}
                    peer = {"stack": spec.name, "caps": spec.caps, "cfg": tpl.peer}
                    client, server = (ours, peer) if role == "client" else (peer, ours)
                    exp = oracle.expect(client, server)
                    batch.append(Case(spec, role, variant, tpl, exp, ours, peer))
                batches.append((spec, role, variant, batch))
    return batches


def peer_config(env, case, cfg, role_of_peer, port=None):
    """The neutral configuration of the peer's side as driver JSON."""
    out = {"timeout": 8, "hostname": "localhost"}
    lo_hi = cfg.get("range")
    if lo_hi:
        out["min"], out["max"] = lo_hi
    if cfg.get("identity"):
        out.update(env.identity_files(cfg["identity"], cfg.get("chain", True)))
    out["ca"] = env.cert("ca.pem")
    out["verify"] = bool(cfg.get("verify"))
    out["require_cert"] = bool(cfg.get("require"))
    for k in ("sni", "alpn", "resume", "raw_sslv3"):
        if cfg.get(k):
            out[k] = cfg[k]
    if cfg.get("sni_name"):
        files = env.identity_files(cfg["sni_identity"], True)
        out.update(sni_name=cfg["sni_name"], sni_cert=files["cert"], sni_key=files["key"],
                   sni_leaf=files["leaf"])
    out["dhparam"] = env.cert("dh2048.pem")
    if role_of_peer == "client":
        out["port"] = port
        out["send"] = message_for(case.tpl)
        out["expect"] = out["send"][::-1]
    return out


# ---------------------------------------------------------------- batches

def wait_records(q, n_min, n_max, timeout):
    """Up to n_max records from a server, waiting for at least n_min."""
    got = []
    deadline = time.time() + timeout
    while len(got) < n_max:
        left = deadline - time.time()
        if len(got) >= n_min:
            left = min(left, 0.4)
        if left <= 0:
            break
        try:
            rec = q.get(timeout=left)
        except queue.Empty:
            break
        if rec.get("event") == "dead":
            break
        got.append(rec.get("result", rec) if "event" in rec else rec)
    return got


def drain(q):
    stale = []
    while True:
        try:
            stale.append(q.get_nowait())
        except queue.Empty:
            return stale


class Batch:
    def __init__(self, env, spec, role, variant, cases, progress):
        self.env = env
        self.spec = spec
        self.role = role
        self.variant = variant
        self.cases = cases
        self.progress = progress
        # "relay-blocking" is an extra variant for exploring (--variants)
        self.io = "blocking" if variant in ("blocking", "relay-blocking") else "nonblocking"
        self.results = []

    def run(self):
        log_name = "%s-%s-%s" % (self.spec.name, self.role, self.variant)
        self.drv = PeerDriver(self.spec, self.env, log_name)
        try:
            if not self.drv.hello(timeout=60):
                for c in self.cases:
                    self.record(c, "blocked", "peer driver did not start", None, None, 0)
                return self.results
            sanity = [c for c in self.cases if c.tpl.sanity]
            rest = [c for c in self.cases if not c.tpl.sanity]
            if sanity:
                ok = self.run_group([sanity[0]])
                if not ok:
                    for c in rest:
                        self.record(c, "blocked", "peer broken: the opening sanity case failed",
                                    None, None, 0)
                    return self.results
            groups, order = {}, []
            for c in rest:
                key = self.group_key(c)
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(c)
            for key in order:
                self.run_group(groups[key])
            if sanity:
                last = Case(sanity[0].peer, sanity[0].role, sanity[0].variant,
                            cases_mod.Template("sanity", "plain-last", sanity[0].tpl.ours,
                                               sanity[0].tpl.peer, ["sanity"], sanity=True),
                            sanity[0].expected, sanity[0].ours_side, sanity[0].peer_side)
                self.run_group([last])
        finally:
            self.drv.close()
        return self.results

    def group_key(self, c):
        if self.role == "client":
            return json.dumps(c.tpl.peer, sort_keys=True)
        return json.dumps(sslua_flags(self.env, c.tpl.ours, "server"))

    def record(self, case, result, detail, cres, sres, duration):
        row = {
            "peer": self.spec.name, "peer_version": self.spec.version, "role": self.role,
            "variant": self.variant, "case": case.tpl.case_id, "family": case.tpl.family,
            "features": case.tpl.features, "expected": oracle.summary(case.expected),
            "result": result, "detail": detail, "duration": round(duration, 3),
            "client": cres, "server": sres, "key": case.key, "quick": case.tpl.quick,
        }
        self.results.append(row)
        self.progress.done(row)
        return row

    def run_group(self, group):
        """Runs cases sharing one server. Returns True if all passed."""
        all_ok = True
        server, relay = None, None
        try:
            first = group[0]
            if self.role == "client":
                cfg = peer_config(self.env, first, first.tpl.peer, "server")
                sid, port, err = self.drv.start_server(cfg)
                if port is None:
                    for c in group:
                        self.record(c, "fail", "peer server did not start: %s" % err, None,
                                    {"status": "fail", "stage": "setup", "error": err}, 0)
                    return False
                records = self.drv.records(sid)
                server = ("peer", sid)
            else:
                flags = sslua_flags(self.env, first.tpl.ours, "server")
                srv = SsluaServer(self.env, flags, self.io)
                server = ("sslua", srv)
                if srv.port is None:
                    for c in group:
                        result = self.finish(c, None, srv.setup, 0)
                        all_ok = all_ok and result == "pass"
                    return all_ok
                port = srv.port
                records = srv.records
            if self.variant.startswith("relay"):
                relay = Relay(port)
                port = relay.port
            for c in group:
                result = self.run_case(c, port, records)
                if result != "pass" and result != "unavailable":
                    all_ok = False
        finally:
            if relay:
                relay.stop()
            if server:
                if server[0] == "peer":
                    self.drv.stop_server(server[1])
                else:
                    server[1].stop()
        return all_ok

    def run_case(self, c, port, records):
        """Runs one case (once more if it fails, to tell a flaky run from a
        real failure) and records it."""
        t0 = time.time()
        result, detail, cres, sres = self.run_once(c, port, records)
        if result == "fail":
            again = self.run_once(c, port, records)
            if again[0] == "pass":
                result, detail = "pass", "flaky, passed on retry; first try: " + detail
                cres, sres = again[2], again[3]
            else:
                result, detail, cres, sres = again
        self.record(c, result, detail, cres, sres, time.time() - t0)
        return result

    def run_once(self, c, port, records):
        drain(records)
        if self.role == "client":
            message = message_for(c.tpl)
            expect = message if self.spec.caps.get("reply") == "echo" else message[::-1]
            flags = sslua_flags(self.env, c.tpl.ours, "client")
            if self.spec.caps.get("server_close_notify"):
                flags += ["--drain", "1"]
            cres = run_sslua_client(self.env, flags, port, self.io, message, expect)
            connected = bool(cres.get("local_port")) and cres.get("stage") != "setup"
            n_max = 2 if c.tpl.ours.get("resume") else 1
            recs = wait_records(records, 1 if connected else 0, n_max if connected else 0,
                                5 if connected else 0)
        else:
            cfg = peer_config(self.env, c, c.tpl.peer, "client", port)
            cres = self.drv.client(cfg)
            connected = cres.get("connected", cres.get("stage") not in ("connect", "setup",
                                                                        "driver"))
            n_max = 2 if c.tpl.peer.get("resume") else 1
            recs = wait_records(records, 1 if connected else 0, n_max if connected else 0,
                                5 if connected else 0.3)
        sres = recs[-1] if recs else None
        result, detail = judge.evaluate(self.env.ciphers, c, cres, sres)
        return result, detail, cres, sres

    def finish(self, c, cres, sres, duration):
        result, detail = judge.evaluate(self.env.ciphers, c, cres, sres)
        self.record(c, result, detail, cres, sres, duration)
        return result


# ---------------------------------------------------------------- progress

class Progress:
    def __init__(self, total, quiet=False):
        self.total = total
        self.count = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.start = time.time()
        self.last = 0
        self.quiet = quiet

    def done(self, row):
        with self.lock:
            self.count += 1
            if row["result"] in ("fail", "blocked"):
                self.failed += 1
                if not self.quiet:
                    print("  FAIL %-7s %-6s %-11s %s: %s" % (
                        row["peer"], row["role"], row["variant"], row["case"],
                        row["detail"][:240]), flush=True)
            now = time.time()
            if now - self.last >= 5 or self.count == self.total:
                self.last = now
                print("[%3d%%] %d/%d cases, %d failing, %.0fs" % (
                    100 * self.count // max(1, self.total), self.count, self.total,
                    self.failed, now - self.start), flush=True)

    def batch_done(self, spec, role, variant, rows, secs):
        with self.lock:
            passed = sum(1 for r in rows if r["result"] == "pass")
            print("  done %-7s %-6s %-11s %4d cases, %4d passed, %.1fs" % (
                spec.name, role, variant, len(rows), passed, secs), flush=True)


# ---------------------------------------------------------------- main

def run_faults(env, args, partial):
    """The fault matrix (interop/faults.py): full runs only."""
    if args.quick or args.no_faults or partial:
        return []
    print("fault matrix (interop/faults.py)...", flush=True)
    setup = faults.Setup(env.lua, env.libdir, env.sharedir, env.certs)
    return faults.run_matrix(setup, jobs=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the representative subset")
    ap.add_argument("--update-baseline", action="store_true",
                    help="write interop/baseline.json from this run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the baseline comparison")
    ap.add_argument("--no-faults", action="store_true", help="skip the fault matrix")
    ap.add_argument("--peers", default="", help="comma-separated peer names (default: all)")
    ap.add_argument("--families", default="", help="comma-separated case families")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--roles", default=",".join(ROLES))
    ap.add_argument("-j", "--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "interop"))
    ap.add_argument("--certs", default=os.environ.get("SSLUA_CERTS",
                                                      os.path.join(ROOT, "build", "certs")))
    ap.add_argument("--lua", default=os.environ.get("SSLUA_LUA", "lua5.3"))
    ap.add_argument("--libdir", default=os.path.join(ROOT, "build", "5.3", "lib"))
    ap.add_argument("--sharedir", default=os.path.join(ROOT, "build", "5.3", "share"))
    ap.add_argument("--baseline", default=os.path.join(INTEROP, "baseline.json"))
    ap.add_argument("-q", "--quiet", action="store_true", help="no line per failing case")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *a: (kill_all(), sys.exit(143)))
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    t0 = time.time()
    env = Env(args)
    info = environment_info(env)
    print("sslua interop: %s, OpenSSL default security level %s, %s" % (
        info.get("openssl"), info.get("security_level"), info.get("lua")), flush=True)

    specs = peer_specs(env)
    wanted = set(p for p in args.peers.split(",") if p)
    probe_peers(env, specs, wanted)
    for s in specs:
        if s.available:
            print("  peer %-8s %s" % (s.name, s.version), flush=True)
        elif s.reason != "not selected":
            print("  peer %-8s UNAVAILABLE: %s" % (s.name, s.reason), flush=True)
    info["peers"] = {s.name: (s.version if s.available else "unavailable: " + s.reason)
                     for s in specs if s.reason != "not selected"}

    families = set(f for f in args.families.split(",") if f)
    variants = [v for v in args.variants.split(",") if v]
    roles = [r for r in args.roles.split(",") if r]
    batches = [b for b in build_cases(env, specs, args.quick, families, variants)
               if b[1] in roles]
    total = sum(len(b[3]) + (1 if any(c.tpl.sanity for c in b[3]) else 0) for b in batches)
    print("%d cases in %d batches (%s), %d workers" % (
        total, len(batches), "quick subset" if args.quick else "full matrix", args.jobs),
        flush=True)

    progress = Progress(total, args.quiet)
    # Slow starters first, the rest interleaved by peer.
    weight = {"java": 0, "gnutls": 1, "go": 2, "node": 3, "openssl": 4, "python": 5}
    batches.sort(key=lambda b: (VARIANTS.index(b[2]) if b[2] in VARIANTS else 9,
                                weight.get(b[0].name, 9), b[1]))
    work = queue.Queue()
    for b in batches:
        work.put(b)
    rows, rows_lock = [], threading.Lock()

    def worker():
        while True:
            try:
                spec, role, variant, cases = work.get_nowait()
            except queue.Empty:
                return
            bt = time.time()
            try:
                out = Batch(env, spec, role, variant, cases, progress).run()
            except Exception as exc:  # a harness bug must not hide the rest
                out = []
                for c in cases:
                    out.append({"peer": spec.name, "peer_version": spec.version, "role": role,
                                "variant": variant, "case": c.tpl.case_id,
                                "family": c.tpl.family, "features": c.tpl.features,
                                "expected": oracle.summary(c.expected), "result": "blocked",
                                "detail": "harness error: %r" % exc, "duration": 0,
                                "client": None, "server": None, "key": c.key,
                                "quick": c.tpl.quick})
            with rows_lock:
                rows.extend(out)
            progress.batch_done(spec, role, variant, out, time.time() - bt)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, args.jobs))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        kill_all()
        raise
    finally:
        kill_all()

    # peers that could not run: their cases are reported as unavailable
    for spec in specs:
        if spec.available or spec.reason == "not selected":
            continue
        rows.append({"peer": spec.name, "peer_version": "unavailable", "role": "-",
                     "variant": "-", "case": "peer/available", "family": "peer",
                     "features": ["peer available"], "expected": "peer runs",
                     "result": "unavailable", "detail": spec.reason, "duration": 0,
                     "client": None, "server": None,
                     "key": "%s|-|-|peer/available" % spec.name, "quick": True})

    fault_rows = run_faults(env, args, bool(families or wanted or roles != ROLES
                                            or variants != VARIANTS))
    elapsed = time.time() - t0
    info["elapsed_seconds"] = round(elapsed, 1)
    info["mode"] = "quick" if args.quick else "full"
    rows.sort(key=lambda r: (r["peer"], r["role"], r["variant"], r["case"]))

    comparison = None
    if not args.no_baseline:
        base = baseline_mod.load(args.baseline)
        comparison = baseline_mod.compare(base, rows, info,
                                          partial=bool(args.quick or families or wanted
                                                       or roles != ROLES or
                                                       variants != VARIANTS))
    report.write_all(args.out, rows, info, specs, comparison, fault_rows)
    if args.update_baseline:
        if args.quick or families or wanted:
            print("refusing to write the baseline from a partial run (--quick/--peers/--families)")
            return 2
        baseline_mod.save(args.baseline, rows, info)
        print("baseline written: %s" % os.path.relpath(args.baseline, ROOT))
        comparison = baseline_mod.compare(baseline_mod.load(args.baseline), rows, info)

    counts = baseline_mod.count(rows, comparison)
    fault_pass, fault_fail = faults.counts(fault_rows)
    counts["passed"] += fault_pass
    counts["failed"] += fault_fail
    print()
    print(report.console_summary(rows, info, specs, comparison))
    if fault_rows:
        print(faults.console(fault_rows))
    print("reports: %s/ (results.csv, results.json, junit.xml, matrix.md, matrix.html)"
          % os.path.relpath(args.out, ROOT))
    print("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"],
                                              counts["skipped"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        kill_all()
