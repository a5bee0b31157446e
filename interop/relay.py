#!/usr/bin/env python3
"""Byte-at-a-time TCP relay (the harness's "relay" variant).

    python3 relay.py TARGET_PORT [TARGET_HOST]

Listens on an ephemeral port of 127.0.0.1, prints "LISTEN <port>", and
forwards every connection to TARGET: each byte received is written on its
own (TCP_NODELAY, one send() per byte), so both TLS stacks see their records
arrive in pieces and every record boundary (and every point inside a
record) falls between two reads. Half-closes are passed on; a reset on one
side resets the other. It serves until it is killed.

This is faultrelay.py's `split` fault in both directions.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import faultrelay  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    return faultrelay.main([sys.argv[1], "--host", host, "--fault", "split", "--toward", "both"])


if __name__ == "__main__":
    sys.exit(main())
