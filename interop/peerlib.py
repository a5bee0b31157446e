"""Common plumbing of the Python peer drivers (peer_openssl.py,
peer_gnutls.py, peer_python.py): the command loop, the Driver base class
that keeps their servers, and CliServer, a command-line TLS server run as
a child process.

A peer driver is a long-running process that harness.py talks to with one
JSON object per line:

  stdin  {"cmd": "hello"}                          -> {"event": "hello", "name", "version", "caps"}
         {"cmd": "server", "id": S, "config": {}}  -> {"event": "listening", "id": S, "port": N}
                                                      or {"event": "server_error", "id": S, "error": ...}
                                                      then {"event": "conn", "id": S, "result": {}} per connection
         {"cmd": "stop", "id": S}                  -> {"event": "stopped", "id": S}
         {"cmd": "client", "id": C, "config": {}}  -> {"event": "result", "id": C, "result": {}}
         {"cmd": "quit"}                           -> the process exits

The same protocol is spoken by peer_node.js, Peer.java and peer_go.go;
docs in interop/README.md. Results are dicts with "status" ("ok"/"fail"),
"stage", "error" and whatever the peer can tell of the connection:
"version" ("1.0".."1.3"), "cipher" (IANA or OpenSSL name), "group",
"alpn", "sni", "peer_cert" (OU of the peer certificate), "resumed".
"""

import json
import signal
import socket
import subprocess
import sys
import threading

import processes

QUERY_TIMEOUT = 30      # seconds for a tool to answer a query (its version, a list)

_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, sort_keys=True)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def query(argv):
    """What a short query of a tool prints on stdout (bounded in time)."""
    return processes.run(argv, QUERY_TIMEOUT).stdout


def free_port():
    """An ephemeral port of 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def version_label(text):
    """'TLSv1.2', 'TLS1.2', 'TLSv1' ... -> '1.2' / '1.0'."""
    if not text:
        return None
    t = text.upper().replace("V", "").replace("TLS", "").replace("_", ".").strip()
    if t in ("1", "1.0"):
        return "1.0"
    if t in ("1.1", "1.2", "1.3"):
        return t
    return text


class Driver:
    """One peer stack's driver. A subclass gives hello() -> dict,
    run_client(cfg) -> result, and Server: a class whose Server(ident, cfg)
    listens (raising on failure) and emits one "conn" event per connection,
    with .port and .stop()."""

    Server = None

    def __init__(self):
        self.servers = {}

    def start_server(self, ident, cfg):
        srv = self.Server(ident, cfg)
        self.servers[ident] = srv
        return srv.port

    def stop_server(self, ident):
        srv = self.servers.pop(ident, None)
        if srv:
            srv.stop()

    def close(self):
        for ident in list(self.servers):
            self.stop_server(ident)


class CliServer:
    """A command-line TLS server (openssl s_server, gnutls-serv), one per
    server configuration, serving the connections of every case that
    shares it. Its output is cut into one record per connection.

    A subclass gives NAME, argv() (self.cfg is set), listening(line) (true
    once the tool listens; may set self.port), take(line) (adds a line of
    output to self.record / self.pending) and report(record) (emits it).
    A record still open after QUIET seconds of silence is reported."""

    NAME = "server"
    QUIET = 0.2             # seconds of silence that end a connection's record
    START_TIMEOUT = 10      # seconds for the tool to listen

    def __init__(self, ident, cfg):
        self.ident, self.cfg = ident, cfg
        self.record, self.pending = None, []
        self.proc = processes.start(self.argv(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = processes.LineReader(self.proc.stdout)
        until = processes.deadline(self.START_TIMEOUT)
        early = []
        while True:
            try:
                line = self.lines.readline(until)
            except TimeoutError:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError("%s did not start: %s" % (self.NAME, self.start_error(early)))
            early.append(line)
            if self.listening(line):
                break
        threading.Thread(target=self._watch, daemon=True).start()

    def start_error(self, early):
        return " | ".join(early)[-400:]

    def _watch(self):
        while True:
            wait = self.QUIET if self.record is not None else 3600
            try:
                line = self.lines.readline(processes.deadline(wait))
            except TimeoutError:
                self.flush()
                continue
            if line is None:
                self.flush()
                return
            self.take(line)

    def flush(self):
        """Reports the record being read, if any."""
        if self.record is not None:
            record, self.record = self.record, None
            self.report(record)

    def stop(self):
        processes.stop(self.proc)


def serve(driver):
    """The command loop: commands on stdin until "quit" or its end. Stopping
    the driver (SIGTERM) also stops every process it started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                emit({"event": "error", "error": "bad command: " + line[:200]})
                continue
            cmd = msg.get("cmd")
            ident = msg.get("id")
            if cmd == "hello":
                info = driver.hello()
                info["event"] = "hello"
                emit(info)
            elif cmd == "server":
                try:
                    port = driver.start_server(ident, msg.get("config") or {})
                    emit({"event": "listening", "id": ident, "port": port})
                except Exception as exc:  # reported, never fatal
                    emit({"event": "server_error", "id": ident, "error": str(exc)})
            elif cmd == "stop":
                driver.stop_server(ident)
                emit({"event": "stopped", "id": ident})
            elif cmd == "client":
                try:
                    result = driver.run_client(msg.get("config") or {})
                except Exception as exc:
                    result = {"status": "fail", "stage": "driver", "error": repr(exc)}
                emit({"event": "result", "id": ident, "result": result})
            elif cmd == "quit":
                break
            else:
                emit({"event": "error", "error": "unknown command %r" % cmd})
    finally:
        driver.close()
        processes.stop_all()
