"""The relays between the two ends of a case, as child processes:
relay.py (one byte per write; the harness's "relay" variant) and
faultrelay.py (one fault; the fault matrix). Each prints "LISTEN <port>"
once it listens and serves until it is stopped."""

import os
import subprocess
import sys

import processes

INTEROP = os.path.dirname(os.path.abspath(__file__))
START_TIMEOUT = 10      # seconds for a relay to listen


class Relay:
    def __init__(self, script, target_port, args=(), stderr=None):
        argv = [sys.executable, "-B", os.path.join(INTEROP, script), str(target_port)]
        self.proc = processes.start(argv + list(args), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=stderr)
        try:
            line = processes.LineReader(self.proc.stdout).readline(
                processes.deadline(START_TIMEOUT)) or ""
        except TimeoutError:
            line = ""
        if not line.startswith("LISTEN "):
            self.stop()
            raise RuntimeError("%s did not start" % script)
        self.port = int(line.split()[1])

    def stop(self):
        processes.stop(self.proc)
