"""client_hello.py: a ClientHello parsed row by row (whole, cut, split over
records, something else), the capture of a real client's hello (the local
openssl's s_client with the groups it is given), and the capture's bounds
(a client that never connects, never sends, or sends junk is stopped)."""

import subprocess
import sys
import unittest

import fixtures  # noqa: F401  (the import path)
import client_hello
import processes


def hello_body(groups, suites=(0x1301, 0xC02F), extensions=True):
    """A ClientHello's body with a supported_groups extension (code points)."""
    body = b"\x03\x03" + bytes(32) + b"\x00"
    body += (2 * len(suites)).to_bytes(2, "big") + b"".join(s.to_bytes(2, "big") for s in suites)
    body += b"\x01\x00"
    if extensions:
        listed = b"".join(g.to_bytes(2, "big") for g in groups)
        ext = (2 * len(groups)).to_bytes(2, "big") + listed
        exts = b"\x00\x0b\x00\x02\x01\x00"                    # ec_point_formats
        exts += b"\x00\x0a" + len(ext).to_bytes(2, "big") + ext
        body += len(exts).to_bytes(2, "big") + exts
    return body


def handshake(body, kind=1):
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def records(msg, sizes=None, kind=22):
    """msg in TLS records: one, or one per size in `sizes`."""
    out, at = b"", 0
    for size in sizes or [len(msg)]:
        part = msg[at:at + size]
        at += size
        out += bytes([kind]) + b"\x03\x01" + len(part).to_bytes(2, "big") + part
    return out


WHOLE = records(handshake(hello_body([0x001D, 0x0102, 0x9999])))
PARSED = {"suites": ["0x1301", "0xC02F"], "groups": ["x25519", "ffdhe4096", "0x9999"]}


class Parse(unittest.TestCase):
    def test_rows(self):
        msg = handshake(hello_body([0x001D, 0x0102, 0x9999]))
        for name, data, want in (
                ("a whole hello", WHOLE, PARSED),
                ("a hello with data after it", WHOLE + b"\x16\x03", PARSED),
                ("split over two records", records(msg, [10, len(msg) - 10]), PARSED),
                ("nothing yet", b"", None),
                ("a record header only", WHOLE[:5], None),
                ("the last byte missing", WHOLE[:-1], None),
                ("one record of two", records(msg, [10, len(msg) - 10])[:15], None),
                ("no extensions", records(handshake(hello_body([], extensions=False))),
                 {"suites": ["0x1301", "0xC02F"], "groups": []})):
            with self.subTest(name):
                self.assertEqual(client_hello.parse(data), want)

    def test_something_else_is_refused(self):
        for name, data in (
                ("an alert record", records(b"\x02\x28", kind=21)),
                ("a ServerHello", records(handshake(hello_body([0x001D]), kind=2))),
                ("a hello whose body is cut inside",
                 records(handshake(hello_body([0x001D])[:40]))),
                ("plain text", b"GET / HTTP/1.0\r\n\r\n")):
            with self.subTest(name):
                with self.assertRaises(ValueError):
                    client_hello.parse(data)


def s_client(*extra):
    def start(port):
        argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                "-noservername"] + list(extra)
        return processes.start(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    return start


class Capture(unittest.TestCase):
    def test_the_groups_a_client_is_given(self):
        for groups in (["x448", "ffdhe3072"], ["secp384r1"]):
            with self.subTest(groups):
                got = client_hello.capture(s_client("-groups", ":".join(groups)), 20)
                self.assertEqual(got["groups"], groups)
                self.assertTrue(got["suites"])


class Bounds(unittest.TestCase):
    """A client that does not deliver a hello costs the bound, and is
    stopped by its pid."""

    def stopped_after(self, argv, error, timeout=1):
        started = []

        def start(port):
            started.append(processes.start([a.replace("PORT", str(port)) for a in argv],
                                           stdin=subprocess.DEVNULL))
            return started[0]
        with self.assertRaises(error):
            client_hello.capture(start, timeout)
        self.assertIsNotNone(started[0].poll(), "the client still runs")

    def test_never_connects(self):
        self.stopped_after(["sleep", "60"], TimeoutError)

    def test_connects_and_sends_nothing(self):
        self.stopped_after([sys.executable, "-c", "import socket, time; "
                            "s = socket.create_connection(('127.0.0.1', PORT)); "
                            "time.sleep(60)"], TimeoutError)

    def test_sends_something_else(self):
        self.stopped_after([sys.executable, "-c", "import socket, time; "
                            "s = socket.create_connection(('127.0.0.1', PORT)); "
                            "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); time.sleep(60)"],
                           ValueError, timeout=10)


if __name__ == "__main__":
    unittest.main()
