#!/usr/bin/env python3
"""faults.py - the fault matrix: sslua on a faulty network.

    python3 interop/faults.py [--lua lua5.3] [--libdir D] [--sharedir D]
                              [--certs D] [--only FAULT,...] [-j 2]

For each fault of faultrelay.py, each role of sslua (its client against a
trusted peer server through the relay, or a trusted peer client against its
server through the relay), TLS 1.2 and 1.3, blocking and non-blocking I/O,
it runs sslua's side (faultpeer.lua) and classifies what sslua reported
against EXPECTED. The trusted peer is Python's ssl module, run here in a
thread. A case passes only with the expected outcome: the full, intact
data, or an error of the expected class at the expected stage, with any
partial data a prefix of what was sent. It fails on a crash (a signal, or
no result), a hang (still running HANG_BOUND seconds after it started: it
is killed by pid), silent truncation (success with less or other data),
or a wrong error class or stage.

harness.py runs it in the full `make interop`; the rows go into the
reports (a fault-matrix section of matrix.md / matrix.html, faults.csv).
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import processes
import relays

INTEROP = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(INTEROP)

READ_SIZE = 40000          # three records: the tail faults hit the last one
WRITE_SIZE = 16 << 20      # more than both socket buffers hold
TIMEOUT = 1.0              # sslua's timeout: seconds without progress
HANG_BOUND = 15            # a case still running after this is a hang
START_TIMEOUT = 10         # seconds for sslua's server to listen
PEER_TIMEOUT = 8

# Error classes: the module's exact texts (src/connection.c io_error and
# OpenSSL's reasons for a damaged record).
ERROR_CLASSES = {
    "closed": r"closed",
    "eof": r"unexpected eof while reading",
    "timeout": r"wantread|wantwrite",
    # junk where a record header should be: OpenSSL up to 3.1 reads the
    # version bytes first; from 3.2 on a TLS 1.3 record layer reads the
    # type first (tls13_meth.c), and junk has no valid type
    "junk": r"wrong version number|bad record type",
    # a record whose MAC fails: OpenSSL 3.0 reports an AES-GCM tag failure
    # in TLS 1.2 by its provider's text, the oldest error in the queue
    "badmac": r"decryption failed or bad record mac|cipher operation failed",
}

# label: (relay fault, sslua's operation, expected stage, data, error class)
# Operations: read = receive(size) then one more read, readall = one
# receive("*a"), write = send(size). Stage "close" = the read after the
# full payload, "done" = all sent / "*a" returned; data "full" = all bytes
# intact, "prefix" = a strict prefix, None = not checked (no payload read).
# "*a" ends at a FIN without close_notify by design (README), but not inside
# a record nor at a reset.
EXPECTED = [
    ("none", "none", "read", "close", "full", "closed"),
    ("split", "split", "read", "close", "full", "closed"),
    ("delay", "delay", "read", "close", "full", "closed"),
    ("truncate", "truncate", "read", "receive", "prefix", "eof"),
    ("drop-close-notify", "drop-close-notify", "read", "close", "full", "eof"),
    ("garbage", "garbage", "read", "receive", "prefix", "junk"),
    ("corrupt", "corrupt", "read", "receive", "prefix", "badmac"),
    ("reset", "reset", "read", "receive", "prefix", "closed"),
    ("stall", "stall", "read", "receive", "prefix", "timeout"),
    ("reset-handshake", "reset-handshake", "read", "handshake", None, "closed"),
    ("stall-handshake", "stall-handshake", "read", "handshake", None, "timeout"),
    ("none/*a", "none", "readall", "done", "full", None),
    ("drop-close-notify/*a", "drop-close-notify", "readall", "done", "full", None),
    ("truncate/*a", "truncate", "readall", "receive", "prefix", "eof"),
    ("reset/*a", "reset", "readall", "receive", "prefix", "closed"),
    ("none/write", "none", "write", "done", None, None),
    ("reset/write", "reset-data", "write", "send", None, "closed"),
    ("stall/write", "stall-data", "write", "send", None, "timeout"),
]
ROLES = ["client", "server"]
VERSIONS = ["1.2", "1.3"]
IOS = ["blocking", "nonblocking"]

UNIT = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def payload(n):
    return (UNIT * (n // len(UNIT) + 1))[:n].encode()


# ---------------------------------------------------------------- the trusted peer

def peer_context(certs, role, version):
    tls = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
    if role == "server":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs, "server-ecdsa-chain.pem"),
                            os.path.join(certs, "server-ecdsa.key"))
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
    ctx.minimum_version = ctx.maximum_version = tls
    return ctx


def close_notify(tls):
    """Sends close_notify, waits briefly for the answer, closes (FIN)."""
    tls.settimeout(0.3)
    try:
        tls.unwrap().close()
    except (OSError, ValueError):
        tls.close()


def peer_talk(tls, op, size):
    """The peer's part after the handshake. Returns what it saw."""
    if op == "write":                      # sslua writes: count what arrives
        total = 0
        try:
            while True:
                chunk = tls.recv(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
        except (OSError, ValueError) as exc:
            tls.close()
            return "read %d bytes, then %s" % (total, exc.__class__.__name__)
        close_notify(tls)
        return "read %d bytes" % total
    # sslua says when to start, so that its handshake is over: a TLS 1.3
    # server writes its session tickets after the client may already send,
    # and Linux reports a reset only once - to such a write, after which
    # its reads would see a plain end of stream.
    line = b""
    while not line.endswith(b"\n"):
        chunk = tls.recv(64)
        if not chunk:
            tls.close()
            return "no request"
        line += chunk
    tls.sendall(payload(size))
    close_notify(tls)
    return "sent %d bytes" % size


class Peer(threading.Thread):
    """Python's ssl as the trusted peer, one connection, in a thread."""

    def __init__(self, certs, role, version, op, size):
        super().__init__(daemon=True)
        self.ctx = peer_context(certs, role, version)
        self.role, self.op, self.size = role, op, size
        self.outcome = "did not run"
        self.port = None
        if role == "server":
            self.listener = socket.create_server(("127.0.0.1", 0))
            self.listener.settimeout(HANG_BOUND)
            self.port = self.listener.getsockname()[1]

    def close(self):
        """Stops waiting for a connection that will not come."""
        if self.role == "server":
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()

    def connect(self, port):
        self.port = port
        self.start()

    def run(self):
        try:
            if self.role == "server":
                raw, _ = self.listener.accept()
                self.listener.close()
            else:
                raw = socket.create_connection(("127.0.0.1", self.port), PEER_TIMEOUT)
            raw.settimeout(PEER_TIMEOUT)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.ctx.wrap_socket(raw, server_side=self.role == "server",
                                       server_hostname=None if self.role == "server"
                                       else "localhost")
            self.outcome = peer_talk(tls, self.op, self.size)
        except (OSError, ValueError) as exc:
            self.outcome = "%s: %s" % (exc.__class__.__name__, exc)


# ---------------------------------------------------------------- one case

class Setup:
    """Where things are: the Lua interpreter, the module, the certificates."""

    def __init__(self, lua, libdir, sharedir, certs):
        self.lua, self.certs = lua, certs
        self.env = dict(os.environ, LUA_CPATH="%s/?.so;;" % libdir,
                        LUA_PATH="%s/?.lua;%s/?/init.lua;;" % (sharedir, sharedir))


def lua_argv(setup, role, version, io, op, size, port=None):
    argv = [setup.lua, os.path.join(INTEROP, "faultpeer.lua"), role, "--io", io,
            "--op", op, "--size", str(size), "--timeout", str(TIMEOUT),
            "--protocol", "tlsv1_2" if version == "1.2" else "tlsv1_3"]
    if role == "server":
        argv += ["--cert", os.path.join(setup.certs, "server-ecdsa-chain.pem"),
                 "--key", os.path.join(setup.certs, "server-ecdsa.key")]
    else:
        argv += ["--port", str(port), "--cafile", os.path.join(setup.certs, "ca.pem")]
    return argv


class SsluaSide:
    """faultpeer.lua, sslua's side of one case, run to its RESULT line."""

    def __init__(self, argv, env, started):
        self.started = started           # time.monotonic() at the case's start
        self.proc = processes.start(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
        self.out = processes.LineReader(self.proc.stdout)
        self.err = processes.LineReader(self.proc.stderr)

    def listening_port(self):
        """The port of its "LISTEN <port>" line (servers), or None."""
        try:
            line = self.out.readline(processes.deadline(START_TIMEOUT)) or ""
        except TimeoutError:
            line = ""
        return int(line.split()[1]) if line.startswith("LISTEN ") else None

    def collect(self):
        """Waits for its end (stopping its process group past the hang
        bound); returns (result dict or None, how it ended)."""
        until = self.started + HANG_BOUND
        try:
            lines = self.out.rest(until)
            self.proc.wait(max(0.1, until - time.monotonic()))
        except (TimeoutError, subprocess.TimeoutExpired):
            self.stop()
            return None, "hang: still running after %d s, killed" % HANG_BOUND
        if self.proc.returncode < 0:
            return None, "crash: signal %d" % -self.proc.returncode
        for line in lines:
            if line.startswith("RESULT "):
                return json.loads(line[7:]), "exit %d" % self.proc.returncode
        try:
            err = "\n".join(self.err.rest(processes.deadline(1)))
        except TimeoutError:
            err = ""
        return None, "crash: no result (exit %d): %s" % (self.proc.returncode,
                                                         err.strip()[-300:])

    def stop(self):
        processes.stop(self.proc, grace=0)


def fault_relay(target, fault, toward):
    return relays.Relay("faultrelay.py", target, ["--fault", fault, "--toward", toward],
                        stderr=subprocess.DEVNULL)


def run_case(setup, case, role, version, io):
    _, fault, op, _, _, _ = case
    size = WRITE_SIZE if op == "write" else READ_SIZE
    toward = role if op != "write" else ("server" if role == "client" else "client")
    peer_role = "server" if role == "client" else "client"
    peer = Peer(setup.certs, peer_role, version, op, size)
    relay, side = None, None
    started = time.monotonic()
    try:
        if role == "client":
            relay = fault_relay(peer.port, fault, toward)
            peer.start()
            side = SsluaSide(lua_argv(setup, role, version, io, op, size, relay.port),
                             setup.env, started)
        else:
            side = SsluaSide(lua_argv(setup, role, version, io, op, size), setup.env, started)
            port = side.listening_port()
            if port is None:
                res, how = side.collect()
                return verdict(case, res, how, "-", time.monotonic() - started, io)
            relay = fault_relay(port, fault, toward)
            peer.connect(relay.port)
        res, how = side.collect()
    finally:
        if side:
            side.stop()
        if relay:
            relay.stop()
        peer.close()
    peer.join(2)
    return verdict(case, res, how, peer.outcome, time.monotonic() - started, io)


def error_class(text):
    if text is None:
        return None
    for name, rx in ERROR_CLASSES.items():
        if re.fullmatch(rx, text):
            return name
    return "other"


def verdict(case, res, how, peer_outcome, secs, io=None):
    """(result, outcome, detail): result pass or fail, outcome a short text."""
    _, _, op, stage, data, klass = case
    if (op == "readall" and io == "nonblocking" and stage == "done" and res is not None
            and res.get("error") == "closed" and res.get("data") == "full"):
        # LuaSocket's "*a" counts only the bytes of the current call: in
        # non-blocking use, an end that arrives alone gives nil, "closed",
        # partial = everything so far (LuaSocket 3.1's recvall does the same).
        stage, klass = "receive", "closed"
    if res is None:
        return "fail", how.split(":")[0], "%s; peer: %s" % (how, peer_outcome), secs
    got_class = error_class(res.get("error"))
    outcome = "%s:%s" % (res.get("stage"), res.get("error") or "ok")
    if res.get("data"):
        outcome += " (%s %s B)" % (res["data"], res.get("got"))
    if res.get("sent") is not None:
        outcome += " (sent %s B)" % res["sent"]
    problems = []
    if res.get("data") == "corrupt":
        problems.append("data differs from what was sent")
    if res.get("data") == "prefix" and res.get("stage") != "receive":
        problems.append("silent truncation: a short read reported as success")
    if res.get("stage") != stage:
        problems.append("stage %s, expected %s" % (res.get("stage"), stage))
    if got_class != klass:
        problems.append("error %r is not of class %s" % (res.get("error"), klass))
    if data and res.get("data") != data:
        problems.append("data %s, expected %s" % (res.get("data"), data))
    if op == "write" and klass is None and res.get("sent") != WRITE_SIZE:
        problems.append("sent %s of %d bytes" % (res.get("sent"), WRITE_SIZE))
    detail = "%s; peer: %s" % (outcome, peer_outcome)
    if problems:
        return "fail", outcome, "; ".join(problems) + " || " + detail, secs
    return "pass", outcome, detail, secs


# ---------------------------------------------------------------- the matrix

def cases(only=None):
    for case in EXPECTED:
        if only and case[0] not in only:
            continue
        for role in ROLES:
            for version in VERSIONS:
                for io in IOS:
                    yield case, role, version, io


def run_matrix(setup, jobs=2, only=None, progress=None):
    """Runs every case; returns one row (a dict) per case."""
    def one(args):
        case, role, version, io = args
        try:
            result, outcome, detail, secs = run_case(setup, case, role, version, io)
        except Exception as exc:          # a driver bug must not hide the rest
            result, outcome, detail, secs = "fail", "driver error", repr(exc), 0
        row = {"fault": case[0], "role": role, "version": version, "io": io,
               "expected": expected_text(case), "result": result, "outcome": outcome,
               "detail": detail, "duration": round(secs, 2)}
        if progress:
            progress(row)
        return row
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, list(cases(only))))


CLASS_TEXT = {"closed": '"closed"', "eof": '"unexpected eof while reading"',
              "timeout": '"wantread"/"wantwrite" (timeout)',
              "junk": '"wrong version number"/"bad record type"', "badmac": "bad record MAC"}


def expected_text(case):
    _, _, _, stage, data, klass = case
    if klass is None:
        return "all data"
    if data == "full":
        return "all data, then %s" % CLASS_TEXT[klass]
    if data == "prefix":
        return "%s in %s, after a prefix of the data" % (CLASS_TEXT[klass], stage)
    return "%s in %s" % (CLASS_TEXT[klass], stage)


def counts(rows):
    passed = sum(1 for r in rows if r["result"] == "pass")
    return passed, len(rows) - passed


# ---------------------------------------------------------------- reports

COLUMNS = [(role, version, io) for role in ROLES for version in VERSIONS for io in IOS]


def column_name(col):
    role, version, io = col
    return "%s %s %s" % ("C" if role == "client" else "S", version,
                         "blk" if io == "blocking" else "nb")


def table(rows):
    """{fault: {column: row}} in EXPECTED order."""
    t = {}
    for r in rows:
        t.setdefault(r["fault"], {})[(r["role"], r["version"], r["io"])] = r
    return [(c[0], expected_text(c), t[c[0]]) for c in EXPECTED if c[0] in t]


def section_md(rows):
    if not rows:
        return ""
    passed, failed = counts(rows)
    out = ["", "## Fault matrix", "",
           "sslua through `interop/faultrelay.py` against Python's ssl module "
           "(interop/faults.py): C = sslua client, S = sslua server; TLS 1.2 / 1.3; "
           "blk = blocking with a timeout, nb = non-blocking. %d passed, %d failed." % (
               passed, failed), "",
           "| fault | expected | " + " | ".join(column_name(c) for c in COLUMNS) + " |",
           "|---|---|" + "---|" * len(COLUMNS)]
    for fault, expected, cols in table(rows):
        cells = []
        for c in COLUMNS:
            r = cols.get(c)
            cells.append("–" if r is None else ("✓" if r["result"] == "pass"
                                                else "✗ " + r["outcome"].replace("|", "/")))
        out.append("| %s | %s | %s |" % (fault, expected, " | ".join(cells)))
    fails = [r for r in rows if r["result"] != "pass"]
    if fails:
        out += ["", "Failing fault cases:", ""]
        out += ["- %s %s TLS %s %s: %s" % (r["fault"], r["role"], r["version"], r["io"],
                                          r["detail"][:300]) for r in fails]
    return "\n".join(out) + "\n"


def section_html(rows):
    import html
    if not rows:
        return ""
    e = html.escape
    passed, failed = counts(rows)
    out = ["<h2>Fault matrix</h2><p class='small'>sslua through interop/faultrelay.py "
           "against Python's ssl module: C = sslua client, S = sslua server; blk = blocking, "
           "nb = non-blocking. %d passed, %d failed.</p><table><tr><th>fault</th>"
           "<th>expected</th>" % (passed, failed)]
    out += ["<th>%s</th>" % e(column_name(c)) for c in COLUMNS]
    out.append("</tr>")
    for fault, expected, cols in table(rows):
        out.append("<tr><th>%s</th><td class='small'>%s</td>" % (e(fault), e(expected)))
        for c in COLUMNS:
            r = cols.get(c)
            if r is None:
                out.append("<td class='na'>–</td>")
            else:
                cls = "pass" if r["result"] == "pass" else "fail"
                out.append("<td class='%s' title='%s'>%s</td>" % (
                    cls, e(r["detail"]), "✓" if cls == "pass" else "✗ " + e(r["outcome"])))
        out.append("</tr>")
    out.append("</table>")
    return "\n".join(out) + "\n"


def console(rows):
    passed, failed = counts(rows)
    lines = ["fault matrix: %d passed, %d failed" % (passed, failed)]
    for r in rows:
        if r["result"] != "pass":
            lines.append("  FAULT FAIL %s %s TLS %s %s: %s" % (
                r["fault"], r["role"], r["version"], r["io"], r["detail"][:300]))
    return "\n".join(lines)


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("fault;role;version;io;expected;result;outcome;seconds;detail\n")
        for r in rows:
            f.write(";".join(str(r[k]).replace(";", ",").replace("\n", " ") for k in (
                "fault", "role", "version", "io", "expected", "result", "outcome",
                "duration", "detail")) + "\n")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lua", default=os.environ.get("SSLUA_LUA", "lua5.3"))
    ap.add_argument("--libdir", default=os.path.join(ROOT, "build", "5.3", "lib"))
    ap.add_argument("--sharedir", default=os.path.join(ROOT, "build", "5.3", "share"))
    ap.add_argument("--certs", default=os.environ.get("SSLUA_CERTS",
                                                      os.path.join(ROOT, "build", "certs")))
    ap.add_argument("--only", default="", help="comma-separated fault labels")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "interop"))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()
    setup = Setup(args.lua, os.path.abspath(args.libdir), os.path.abspath(args.sharedir),
                  os.path.abspath(args.certs))
    only = set(f for f in args.only.split(",") if f)
    t0 = time.time()

    def show(row):
        print("  %-4s %-18s %-6s %s %-11s %5.2fs %s" % (
            row["result"], row["fault"], row["role"], row["version"], row["io"],
            row["duration"], row["outcome"] if row["result"] == "pass" else row["detail"]),
            flush=True)
    rows = run_matrix(setup, args.jobs, only, show)
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "faults.csv"), rows)
    with open(os.path.join(args.out, "faults.md"), "w") as f:
        f.write(section_md(rows))
    print(console(rows))
    print("%d cases in %.1f s; reports: %s/faults.csv, faults.md" % (
        len(rows), time.time() - t0, os.path.relpath(args.out, ROOT)))
    return 1 if counts(rows)[1] else 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.exit(main())
