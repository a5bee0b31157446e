"""A hand-made SSLv3 ClientHello, which no TLS stack here can send any
more, and what the server answers to it: the Python driver's "raw_sslv3"
client, which checks that the other side refuses SSLv3."""

import os
import socket
import struct

ALERTS = {0: "close notify", 10: "unexpected message", 20: "bad record mac",
          40: "handshake failure", 42: "bad certificate", 43: "unsupported certificate",
          44: "certificate revoked", 45: "certificate expired", 46: "certificate unknown",
          47: "illegal parameter", 48: "unknown ca", 50: "decode error",
          51: "decrypt error", 70: "protocol version", 71: "insufficient security",
          80: "internal error", 86: "inappropriate fallback", 90: "user canceled",
          109: "missing extension", 110: "unsupported extension",
          112: "unrecognized name", 116: "certificate required",
          120: "no application protocol"}


def sslv3_client_hello():
    suites = [0x002F, 0x0035, 0x000A, 0x0005, 0x00FF]
    body = struct.pack("!H", 0x0300) + os.urandom(32) + b"\x00"
    body += struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
    body += b"\x01\x00"
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x00" + struct.pack("!H", len(hs)) + hs


def raw_sslv3(cfg):
    """Sends an SSLv3 ClientHello and reads what comes back."""
    res = {}
    try:
        sock = socket.create_connection((cfg.get("host", "127.0.0.1"), cfg["port"]), 10)
    except OSError as exc:
        return {"status": "fail", "stage": "connect", "error": str(exc)}
    res["connected"] = True
    try:
        sock.sendall(sslv3_client_hello())
        head = b""
        while len(head) < 5:
            chunk = sock.recv(5 - len(head))
            if not chunk:
                break
            head += chunk
        if len(head) < 5:
            res.update(status="fail", stage="handshake", error="connection closed without an alert")
            return res
        ctype, ver, length = struct.unpack("!BHH", head)
        body = sock.recv(length)
        if ctype == 21 and len(body) >= 2:
            res.update(status="fail", stage="handshake",
                       error="received alert %s (%d), record version 0x%04x"
                       % (ALERTS.get(body[1], "?"), body[1], ver))
        elif ctype == 22 and body[:1] == b"\x02":
            res.update(status="ok", version="SSLv3?", error="server answered with a ServerHello")
        else:
            res.update(status="fail", stage="handshake", error="record type %d" % ctype)
    except OSError as exc:
        res.update(status="fail", stage="handshake", error=str(exc))
    finally:
        sock.close()
    return res
