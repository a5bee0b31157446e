"""One batch: every case of one peer, role and variant, run against one
peer driver. Cases that share a server configuration share one server; a
plain handshake opens the batch (if it fails, the rest is blocked) and
closes it; a failing case runs once more before it counts."""

import json
import queue
import time

import judge
from driver_client import PeerDriver, peer_config
from matrix import message_for
from relays import Relay
from sslua_runner import SsluaServer, run_sslua_client, sslua_flags

HELLO_TIMEOUT = 60      # seconds for a peer driver to answer hello
RECORD_WAIT = 5         # seconds for a server's record of a connection
MAX_RESTARTS = 3        # peer drivers started again after one hung, per batch


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
        self.drv, self.starts = None, 0

    def start_driver(self):
        """A new peer driver process; False if it does not answer hello."""
        self.starts += 1
        log_name = "%s-%s-%s" % (self.spec.name, self.role, self.variant)
        if self.starts > 1:
            log_name += "-restart%d" % (self.starts - 1)
        self.drv = PeerDriver(self.spec, self.env, log_name)
        return bool(self.drv.hello(timeout=HELLO_TIMEOUT))

    def driver(self):
        """The peer driver. One that left a command unanswered is stopped,
        with everything it started, and another takes its place."""
        if self.drv.hung and self.starts <= MAX_RESTARTS:
            self.drv.close()
            self.start_driver()
        return self.drv

    def run(self):
        try:
            if not self.start_driver():
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
                self.run_group([sanity[0].closing_copy()])
        finally:
            if self.drv:
                self.drv.close()
        return self.results

    def group_key(self, c):
        if self.role == "client":
            return json.dumps(c.tpl.peer, sort_keys=True)
        return json.dumps(sslua_flags(self.env, c.tpl.ours, "server"))

    def record(self, case, result, detail, cres, sres, duration):
        row = case.row(result, detail, cres, sres, duration)
        if result in ("pass", "fail"):
            # the verify reason class: its state and whose report it was
            state = judge.verify_class(case, cres, sres)[0]
            if state:
                by = "sslua" if case.expected["side"] == case.role else "peer"
                row["verify_class"] = {"state": state, "by": by}
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
                drv = self.driver()
                cfg = peer_config(self.env, first, first.tpl.peer, "server")
                sid, port, err = drv.start_server(cfg)
                if port is None:
                    for c in group:
                        self.record(c, "fail", "peer server did not start: %s" % err, None,
                                    {"status": "fail", "stage": "setup", "error": err}, 0)
                    return False
                records = drv.records(sid)
                server = ("peer", (drv, sid))
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
                relay = Relay("relay.py", port)
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
                    drv, sid = server[1]
                    drv.stop_server(sid)
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
                                RECORD_WAIT if connected else 0)
        else:
            cfg = peer_config(self.env, c, c.tpl.peer, "client", port)
            cres = self.driver().client(cfg)
            connected = cres.get("connected", cres.get("stage") not in ("connect", "setup",
                                                                        "driver"))
            n_max = 2 if c.tpl.peer.get("resume") else 1
            recs = wait_records(records, 1 if connected else 0, n_max if connected else 0,
                                RECORD_WAIT if connected else 0.3)
        sres = recs[-1] if recs else None
        result, detail = judge.evaluate(self.env.ciphers, c, cres, sres)
        return result, detail, cres, sres

    def finish(self, c, cres, sres, duration):
        result, detail = judge.evaluate(self.env.ciphers, c, cres, sres)
        self.record(c, result, detail, cres, sres, duration)
        return result
