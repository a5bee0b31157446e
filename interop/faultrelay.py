#!/usr/bin/env python3
"""faultrelay.py - a loopback TCP relay for TLS that injects one fault.

    python3 faultrelay.py TARGET_PORT [--host H] [--fault NAME]
                          [--toward client|server|both] [--delay S] [--verbose]

Listens on an ephemeral port of 127.0.0.1, prints "LISTEN <port>" and
forwards every connection it accepts to TARGET (host default 127.0.0.1),
until it is killed. Half-closes are passed on; a reset on one side resets
the other. `--toward` names the side whose incoming data gets the fault:
`client` (what the connecting side reads), `server` (what TARGET reads) or
`both` (only for split and delay). Default: client.

Faults (--fault):
  none               forward as is
  split              one send() per byte (TCP_NODELAY), so every record
                     boundary and every point inside a record falls
                     between two reads (what relay.py does)
  delay              sleep --delay seconds (default 0.05) before each chunk
  truncate           cut the last data record in half, then FIN
  drop-close-notify  leave out the sender's close_notify, send FIN
  garbage            insert junk bytes (no TLS record) before the last
                     data record
  corrupt            flip one byte inside the last data record (its MAC
                     fails)
  reset              half of the last data record, then a reset (RST,
                     SO_LINGER 0) to both sides
  stall              forward neither the last data record nor what follows
                     and keep the connection open: the receiver waits
                     until its timeout
  reset-handshake    reset both sides at the first bytes of the direction
  stall-handshake    never forward anything of the direction
  reset-data         reset both sides at the direction's first record
                     after its handshake
  stall-data         stop reading the direction at its first record after
                     its handshake (the sender's writes fill up and block)

Record framing. The relay splits each direction into TLS records (5-byte
header: type, version, length). It learns the version from the
ServerHello (supported_versions = 0x0304 means TLS 1.3) and tells the
handshake of a direction from its data phase:
  TLS <= 1.2  a direction's data phase begins after its ChangeCipherSpec
              and the one record that follows (its Finished);
  TLS 1.3     every record after ServerHello is application_data (23), so:
              the client's first such record is its Finished, later ones
              are data; the server's records are data once the client's
              Finished went through (session tickets count as data).
              (A TLS 1.3 client certificate adds records before the
              client's Finished; the relay does not handle that case.)
The "tail" faults (truncate, drop-close-notify, garbage, corrupt, reset,
stall) hit the end of the sender's stream: its last data record and its
close_notify. In the data phase the relay holds back one record, so that
the last data record is still in hand when the close_notify comes. The
close_notify is recognised as an alert record (type 21) in TLS <= 1.2; in
TLS 1.3 alerts are encrypted as type 23 like data, so a record of exactly
an encrypted alert's size is taken for it (19 bytes of body: 2 of alert,
1 of inner type, a 16-byte AEAD tag; 11 with CCM_8's 8-byte tag). A sender
that closes without close_notify is caught at its FIN instead. After
truncate and drop-close-notify the receiver gets a FIN at once, as from an
attacker who closes the connection (the real sender may be waiting for the
receiver's close_notify); whatever the sender sends later is dropped.
Limits: a 2-byte TLS 1.3 data record would pass for a close_notify, and a
sender that waits for an answer after a data record (request/response)
waits in vain for the held-back record; no peer here does either.

Python 3 standard library only.
"""

import argparse
import socket
import struct
import sys
import threading
import time

HEADER = 5
CCS, ALERT, HANDSHAKE, APPDATA = 20, 21, 22, 23
PAUSE_EVERY = 64          # split: a short pause now and then keeps reads small
JUNK = b"\x00garbage injected by faultrelay\xff\xfe\xfd"

RAW_FAULTS = {"none", "split", "delay"}
TAIL_FAULTS = {"truncate", "drop-close-notify", "garbage", "corrupt", "reset", "stall"}
DATA_FAULTS = {"reset-data", "stall-data"}
START_FAULTS = {"reset-handshake", "stall-handshake"}
FAULTS = sorted(RAW_FAULTS | TAIL_FAULTS | DATA_FAULTS | START_FAULTS)

VERBOSE = False


def log(*parts):
    if VERBOSE:
        sys.stderr.write("faultrelay: " + " ".join(str(p) for p in parts) + "\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- framing

class Records:
    """Cuts a byte stream into whole TLS records (header included)."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= HEADER:
            end = HEADER + struct.unpack("!H", self.buf[3:5])[0]
            if len(self.buf) < end:
                break
            out.append(bytes(self.buf[:end]))
            del self.buf[:end]
        return out

    def rest(self):
        """Bytes of an incomplete record (a sender that stopped mid-record)."""
        rest, self.buf = bytes(self.buf), bytearray()
        return rest


def server_hello_version(record):
    """For a record holding a ServerHello: True if it selects TLS 1.3,
    False otherwise; None for any other record."""
    body = record[HEADER:]
    if record[0] != HANDSHAKE or len(body) < 4 or body[0] != 2:
        return None
    pos = 4 + 2 + 32                       # message header, legacy_version, random
    if len(body) <= pos:
        return False
    pos += 1 + body[pos] + 2 + 1           # session id, cipher suite, compression
    if len(body) < pos + 2:
        return False
    end = min(len(body), pos + 2 + struct.unpack("!H", body[pos:pos + 2])[0])
    pos += 2
    while pos + 4 <= end:
        ext, size = struct.unpack("!HH", body[pos:pos + 4])
        if ext == 0x002B:                  # supported_versions
            return body[pos + 4:pos + 6] == b"\x03\x04"
        pos += 4 + size
    return False


# ---------------------------------------------------------------- sockets

def nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def abort(sock):
    """Closes with a reset (SO_LINGER 0). The other pump may be blocked in
    recv() on this socket, which keeps it alive past close() (no RST would
    go out): shutting down the reading side first wakes that recv()."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def half_close(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


# ---------------------------------------------------------------- one connection

class Link:
    """One relayed connection: both sockets and what the handshake showed."""

    def __init__(self, client, upstream):
        self.sock = {"client": client, "server": upstream}
        self.lock = threading.Lock()
        self.tls13 = None                  # unknown until the ServerHello
        self.client_finished = False       # TLS 1.3: the client's Finished went by
        self.ended = threading.Event()     # a direction ended: stalls may let go
        self.done = 0
        self.aborted = False

    def abort(self):
        with self.lock:
            if self.aborted:
                return
            self.aborted = True
        for s in self.sock.values():
            abort(s)
        self.ended.set()

    def finish(self):
        """A direction is over; the second one closes both sockets."""
        with self.lock:
            self.done += 1
            last = self.done == 2
        self.ended.set()
        if last:
            for s in self.sock.values():
                try:
                    s.close()
                except OSError:
                    pass


class Flow:
    """One direction of a link, named for the side that receives it."""

    def __init__(self, link, toward, fault, opts):
        self.link = link
        self.toward = toward
        self.src = link.sock["server" if toward == "client" else "client"]
        self.dst = link.sock[toward]
        self.fault = fault                  # "none" unless this direction is faulty
        self.opts = opts
        self.records = Records()
        self.ccs = self.finished = self.data = self.seen_appdata = False
        self.held = []                      # tail faults: the last data record
        self.after = None                   # once a tail fault hit: discard / forward

    # ---- the handshake / data-phase boundary (see the module doc)

    def in_data_phase(self, record):
        link, kind = self.link, record[0]
        if self.data:
            return True
        if self.toward == "client" and link.tls13 is None:
            version = server_hello_version(record)
            if version is not None:
                link.tls13 = version
            return False
        if link.tls13:
            if self.toward == "server":
                if kind == APPDATA:
                    if self.seen_appdata:
                        self.data = True
                    else:
                        self.seen_appdata = True
                        link.client_finished = True
            elif link.client_finished and kind != CCS:
                self.data = True
            return self.data
        if kind == CCS:
            self.ccs = True
        elif self.ccs and not self.finished:
            self.finished = True
        elif self.finished:
            self.data = True
        return self.data

    # ---- sending, shaped by split / delay

    def send(self, data):
        if not data:
            return
        if self.fault == "delay":
            time.sleep(self.opts.delay)
        if self.fault != "split":
            self.dst.sendall(data)
            return
        for i in range(len(data)):
            self.dst.sendall(data[i:i + 1])
            if i % PAUSE_EVERY == PAUSE_EVERY - 1:
                time.sleep(0.0002)

    # ---- the pump

    def run(self):
        try:
            ending = self.pump()
        except OSError:                     # a reset, passed on - unless the
            ending = "fin" if self.after == "discard" else "reset"   # receiver has its FIN
        if self.link.aborted:               # the other pump reset everything
            return
        if ending == "reset":
            self.link.abort()
        elif ending == "stall":
            self.link.ended.wait()
            self.link.abort()
        elif ending == "fin":
            half_close(self.dst)
            self.link.finish()

    def pump(self):
        """Forwards until the source ends. Returns how to end: fin, reset
        or stall."""
        if self.fault == "stall-handshake":
            return "stall"
        while True:
            data = self.src.recv(65536)
            if not data:
                return self.at_eof()
            if self.fault == "reset-handshake":
                log(self.toward, "reset at the first bytes")
                return "reset"
            records = self.records.feed(data)
            if self.fault in RAW_FAULTS:
                for r in records:
                    self.in_data_phase(r)
                self.send(data)
                continue
            for r in records:
                ending = self.forward_record(r)
                if ending:
                    return ending

    def forward_record(self, record):
        data_phase = self.in_data_phase(record)
        log(self.toward, "record type", record[0], "length", len(record) - HEADER,
            "data" if data_phase else "handshake")
        if self.after == "forward" or not data_phase:
            self.send(record)
            return None
        if self.after == "discard":         # the receiver already has its FIN
            return None
        if self.fault == "reset-data":
            return "reset"
        if self.fault == "stall-data":
            return "stall"
        if self.looks_like_close_notify(record):
            log(self.toward, "close_notify:", self.fault)
            return self.tail(record)
        self.held.append(record)
        while len(self.held) > 1:
            self.send(self.held.pop(0))
        return None

    def looks_like_close_notify(self, record):
        """An alert record; in TLS 1.3 an encrypted record the size of one
        (2 bytes of alert, 1 of type, a 16- or 8-byte tag). A 2-byte data
        record would look the same: no peer here sends one."""
        if record[0] == ALERT:
            return True
        return bool(self.link.tls13) and len(record) - HEADER in (19, 11)

    def tail(self, close):
        """Applies a tail fault: `close` is the close_notify (None at a FIN
        without one), the record held back the last data record. Returns
        how the flow ends, or None to read on."""
        victim = self.held.pop() if self.held else b""
        ending, out = TAIL_ACTIONS[self.fault](victim, [close] if close else [])
        for piece in out:
            self.send(piece)
        if ending == "fin":                 # the receiver sees the stream end here
            half_close(self.dst)
            self.after = "discard"
            return None if close else "fin"
        if ending == "forward":
            self.after = "forward"
            return None if close else "fin"
        return ending

    def at_eof(self):
        rest = self.records.rest()
        if self.fault in TAIL_FAULTS and self.after is None:
            if rest:
                self.held.append(rest)
            log(self.toward, "FIN without close_notify:", self.fault)
            return self.tail(None) or "fin"
        if self.after != "discard":
            self.send(rest)
        return "fin"


def cut(record):
    return record[:max(1, len(record) // 2)]


def flip(record):
    """One byte of the body changed: the record's MAC no longer matches."""
    b = bytearray(record)
    if len(b) > HEADER:
        b[HEADER + (len(b) - HEADER) // 2] ^= 0x55
    return bytes(b)


# fault -> (last data record, [close_notify]) -> (ending, pieces to send).
# Endings: fin (the receiver gets a FIN now, the rest is dropped), forward
# (go on as usual), reset, stall.
TAIL_ACTIONS = {
    "drop-close-notify": lambda last, close: ("fin", [last]),
    "truncate": lambda last, close: ("fin", [cut(last)]),
    "reset": lambda last, close: ("reset", [cut(last)]),
    "stall": lambda last, close: ("stall", []),
    "garbage": lambda last, close: ("forward", [JUNK, last] + close),
    "corrupt": lambda last, close: ("forward", [flip(last)] + close),
}


def handle(client, target, opts):
    try:
        upstream = socket.create_connection(target, 10)
    except OSError:
        abort(client)
        return
    nodelay(client)
    nodelay(upstream)
    link = Link(client, upstream)
    for toward in ("client", "server"):
        faulty = opts.toward in (toward, "both")
        flow = Flow(link, toward, opts.fault if faulty else "none", opts)
        threading.Thread(target=flow.run, daemon=True).start()


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int, help="the target port")
    ap.add_argument("--host", default="127.0.0.1", help="the target host")
    ap.add_argument("--fault", default="none", choices=FAULTS)
    ap.add_argument("--toward", default="client", choices=["client", "server", "both"])
    ap.add_argument("--delay", type=float, default=0.05, help="delay: seconds per chunk")
    ap.add_argument("--verbose", action="store_true", help="log records to stderr")
    opts = ap.parse_args(argv)
    if opts.toward == "both" and opts.fault not in RAW_FAULTS:
        ap.error("--toward both only for none, split and delay")
    return opts


def main(argv=None):
    global VERBOSE
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    VERBOSE = opts.verbose
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    sys.stdout.write("LISTEN %d\n" % listener.getsockname()[1])
    sys.stdout.flush()
    while True:
        client, _ = listener.accept()
        handle(client, (opts.host, opts.port), opts)


if __name__ == "__main__":
    sys.exit(main())
