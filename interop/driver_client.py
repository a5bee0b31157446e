"""The harness's end of a peer driver (interop/peer_*; the protocol is in
peerlib.py): one running driver process, spoken to with JSON lines, and the
neutral configuration of the peer's side as driver JSON."""

import json
import os
import queue
import subprocess
import threading
import time

import processes
from matrix import message_for

INTEROP = os.path.dirname(os.path.abspath(__file__))
CLIENT_TIMEOUT = 20     # seconds for the peer's client, command to result
SERVER_TIMEOUT = 30     # seconds for the peer's server to listen
STOP_TIMEOUT = 5        # seconds for the peer's server to stop
QUIT_TIMEOUT = 3        # seconds for the driver to quit before it is stopped


class PeerDriver:
    """One running peer driver process (JSON lines on stdin/stdout). A
    driver that leaves a command unanswered in time is `hung`: its callers
    stop it (with everything it started) and start another."""

    def __init__(self, spec, env, log_name):
        self.spec = spec
        self.log = open(os.path.join(env.out, "logs", log_name + ".log"), "w")
        self.proc = processes.start(spec.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=self.log, cwd=INTEROP)
        self.queues = {}
        self.lock = threading.Lock()
        self.dead = threading.Event()
        self.hung = False
        self.counter = 0
        processes.LineReader(self.proc.stdout, self._line)

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
            self.hung = True
            return None

    def hello(self, timeout=60, candidates=None):
        if not self.send({"cmd": "hello", "candidates": candidates or []}):
            return None
        msg = self.wait("__hello__", timeout)
        return msg if msg and msg.get("event") == "hello" else None

    def start_server(self, config, timeout=None):
        ident = self.next_id("s")
        self.send({"cmd": "server", "id": ident, "config": config})
        msg = self.wait(ident, SERVER_TIMEOUT if timeout is None else timeout)
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
        deadline = time.time() + STOP_TIMEOUT
        while time.time() < deadline:
            try:
                msg = q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                return
            if msg.get("event") in ("stopped", "dead"):
                return

    def client(self, config, timeout=None):
        ident = self.next_id("c")
        if not self.send({"cmd": "client", "id": ident, "config": config}):
            return {"status": "fail", "stage": "driver", "error": "peer driver is gone"}
        msg = self.wait(ident, CLIENT_TIMEOUT if timeout is None else timeout)
        if msg is None:
            return {"status": "fail", "stage": "timeout", "error": "peer client timed out"}
        if msg.get("event") == "dead":
            return {"status": "fail", "stage": "driver", "error": "peer driver exited"}
        return msg.get("result") or {}

    def close(self):
        self.send({"cmd": "quit"})
        try:
            self.proc.wait(QUIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        processes.stop(self.proc)
        self.log.close()


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
