"""Common plumbing of the Python peer drivers (peer_openssl.py,
peer_gnutls.py, peer_python.py).

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
import os
import signal
import socket
import subprocess
import sys
import threading

_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, sort_keys=True)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


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


def start_process(argv, **kw):
    """Starts a child in its own process group, so that stop() can end it
    and everything it started, by its pid only."""
    return subprocess.Popen(argv, start_new_session=True, **kw)


def stop_process(proc, wait=2.0):
    if proc is None or proc.poll() is not None:
        return
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


def serve(driver):
    """The command loop. `driver` has hello() -> dict, start_server(id, cfg)
    -> port (raises on error), stop_server(id), run_client(cfg) -> result,
    and close()."""
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
