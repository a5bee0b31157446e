#!/usr/bin/env python3
"""A peer driver that hangs, for the tests of time bounds (test_bounds.py).

It answers hello like any driver (peerlib.serve), but each server it is
asked for and each client starts a child process (its pid and the
driver's appended to $HANG_PIDS) and then never answers.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True

import peerlib  # noqa: E402
import processes  # noqa: E402

HANG_SECONDS = 120


def hang():
    child = processes.start(["sleep", str(HANG_SECONDS)])
    with open(os.environ["HANG_PIDS"], "a") as f:
        f.write("%d %d\n" % (os.getpid(), child.pid))
    time.sleep(HANG_SECONDS)


class Server:
    def __init__(self, ident, cfg):
        hang()


class Driver(peerlib.Driver):
    Server = Server

    def hello(self):
        return {"name": "hung", "version": "hung 1", "caps": {}}

    def run_client(self, cfg):
        hang()


if __name__ == "__main__":
    peerlib.serve(Driver())
