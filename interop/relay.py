#!/usr/bin/env python3
"""Byte-at-a-time TCP relay.

    python3 relay.py TARGET_PORT [TARGET_HOST]

Listens on an ephemeral port of 127.0.0.1, prints "LISTEN <port>", and
forwards every connection to TARGET: each byte received is written on its
own (TCP_NODELAY, one send() per byte), so both TLS stacks see their records
arrive in pieces and every record boundary (and every point inside a
record) falls between two reads. Half-closes are passed on; a reset on one
side resets the other. It serves until it is killed.
"""

import socket
import struct
import sys
import threading
import time

PAUSE_EVERY = 64   # bytes; a short pause now and then keeps reads small


def nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def abort(sock):
    """Closes with a reset (SO_LINGER 0), as the other side did."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def pump(src, dst, state):
    """Copies src -> dst one byte per send until EOF or an error."""
    reset = False
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            for i in range(len(data)):
                dst.sendall(data[i:i + 1])
                if i % PAUSE_EVERY == PAUSE_EVERY - 1:
                    time.sleep(0.0002)
    except ConnectionResetError:
        reset = True
    except OSError:
        reset = True
    with state["lock"]:
        state["done"] += 1
        if reset:
            state["reset"] = True
        last = state["done"] == 2
    if reset:
        abort(dst)
        abort(src)
        return
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    if last:
        src.close()
        dst.close()


def handle(client, target):
    try:
        upstream = socket.create_connection(target, 10)
    except OSError:
        abort(client)
        return
    nodelay(client)
    nodelay(upstream)
    state = {"lock": threading.Lock(), "done": 0, "reset": False}
    threading.Thread(target=pump, args=(client, upstream, state), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, state), daemon=True).start()


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    target = (sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1", int(sys.argv[1]))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    sys.stdout.write("LISTEN %d\n" % listener.getsockname()[1])
    sys.stdout.flush()
    while True:
        client, _ = listener.accept()
        handle(client, target)


if __name__ == "__main__":
    sys.exit(main())
