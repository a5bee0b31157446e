#!/usr/bin/env python3
"""A program that hangs, for the tests of time bounds (test_bounds.py).

Whatever its arguments, it starts a child (the second member of its
process group), appends "its pid, the child's pid" to the file $HANG_PIDS,
prints $HANG_PRINT if set, ignores SIGTERM (so that only SIGKILL ends it)
and sleeps - HANG_SECONDS at most, so that nothing it leaves can linger.
"""

import os
import signal
import subprocess
import sys
import time

HANG_SECONDS = 120

signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(%d)" % HANG_SECONDS])
with open(os.environ["HANG_PIDS"], "a") as f:
    f.write("%d %d\n" % (os.getpid(), child.pid))
if os.environ.get("HANG_PRINT"):
    print(os.environ["HANG_PRINT"], flush=True)
time.sleep(HANG_SECONDS)
