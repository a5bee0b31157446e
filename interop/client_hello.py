"""client_hello.py - what a TLS client offers, read from its ClientHello.

The client is pointed at a loopback port that only listens; its first
flight is read and parsed, then the connection is closed and the client
stopped by its pid. This is how the harness learns a stack's default key
exchange groups, which nothing else lists: `openssl list -tls-groups`
names the groups the library implements, not those it enables (OpenSSL
3.5 enables ffdhe2048 and ffdhe3072 only, 3.0 all five), and sslua's
module lists the names its options accept. An OpenSSL server accepts the
groups of the same list its client offers.

Python 3 standard library only.
"""

import socket
import struct
import time

import processes

TIMEOUT = 30            # seconds for the client to connect and send its hello

# The TLS Supported Groups registry (IANA), for the groups OpenSSL has.
GROUPS = {
    0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1",
    0x001D: "x25519", 0x001E: "x448",
    0x001F: "brainpoolP256r1tls13", 0x0020: "brainpoolP384r1tls13",
    0x0021: "brainpoolP512r1tls13",
    0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
    0x0200: "MLKEM512", 0x0201: "MLKEM768", 0x0202: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768", 0x11EC: "X25519MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
}
HANDSHAKE, CLIENT_HELLO, SUPPORTED_GROUPS = 22, 1, 10


class Reader:
    """Big-endian fields of a byte string, one after another."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("a ClientHello cut short")
        self.at += n
        return self.data[self.at - n:self.at]

    def number(self, n):
        return int.from_bytes(self.take(n), "big")

    def vector(self, length_bytes):
        return self.take(self.number(length_bytes))

    def done(self):
        return self.at >= len(self.data)


def handshake_bytes(data):
    """The handshake bytes of the complete records at the head of `data`."""
    out, at = b"", 0
    while at + 5 <= len(data):
        kind, _, length = struct.unpack("!BHH", data[at:at + 5])
        if kind != HANDSHAKE:
            raise ValueError("record type %d where a ClientHello should be" % kind)
        if at + 5 + length > len(data):
            break
        out += data[at + 5:at + 5 + length]
        at += 5 + length
    return out


def parse(data):
    """{"suites": [code points], "groups": [names]} of the ClientHello at
    the head of `data`, None while it is incomplete; ValueError if `data`
    holds something else. A group not in GROUPS is named by its code point."""
    msg = handshake_bytes(data)
    if len(msg) < 4:
        return None
    if msg[0] != CLIENT_HELLO:
        raise ValueError("handshake message %d where a ClientHello should be" % msg[0])
    length = int.from_bytes(msg[1:4], "big")
    if len(msg) < 4 + length:
        return None
    body = Reader(msg[4:4 + length])
    body.take(2 + 32)                       # legacy_version, random
    body.vector(1)                          # legacy_session_id
    suites = body.vector(2)
    body.vector(1)                          # legacy_compression_methods
    groups = []
    extensions = Reader(body.vector(2) if not body.done() else b"")
    while not extensions.done():
        kind, ext = extensions.number(2), Reader(extensions.vector(2))
        if kind == SUPPORTED_GROUPS:
            listed = Reader(ext.vector(2))
            while not listed.done():
                code = listed.number(2)
                groups.append(GROUPS.get(code, "0x%04x" % code))
    return {"suites": ["0x%04X" % int.from_bytes(suites[i:i + 2], "big")
                       for i in range(0, len(suites), 2)], "groups": groups}


def capture(start, timeout=TIMEOUT):
    """What the client that start(port) launches offers (parse()): start
    gets the port to connect to and returns the client's Popen (from
    processes.start). Within `timeout` seconds the hello is read; then the
    client is stopped, whatever happened. Raises TimeoutError when no
    complete hello came in time, ValueError when something else came."""
    until = processes.deadline(timeout)
    listener = socket.create_server(("127.0.0.1", 0))
    proc = None
    try:
        proc = start(listener.getsockname()[1])
        listener.settimeout(timeout)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            raise TimeoutError("the client did not connect in %d s" % timeout) from None
        with conn:
            data = b""
            while True:
                hello = parse(data)
                if hello is not None:
                    return hello
                left = until - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no complete ClientHello in %d s" % timeout)
                conn.settimeout(left)
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    raise ValueError("the client closed before its hello was complete")
                data += chunk
    finally:
        listener.close()
        if proc is not None:
            processes.stop(proc, grace=0)
