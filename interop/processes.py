"""processes.py - starting, reading and stopping child processes.

The one place that runs children for the interop harness (harness.py and
its modules), the Python peer drivers (peerlib.py), the fault matrix
(faults.py) and the benchmarks (bench/benchlib/procs.py):

- start() puts every child in a process group of its own (a new session),
  so that stop() ends it and whatever it started by its pid alone, and
  never touches a process that someone else started;
- every wait is bounded: stop() gives SIGTERM `grace` seconds, then sends
  SIGKILL to the group and waits at most REAP_WAIT seconds more;
  communicate() and run() stop the group when their time runs out;
- LineReader hands out what a child writes, line by line, with a deadline:
  a thread of its own reads the pipe as the child writes (so the child
  never blocks on a full pipe), and a silent child cannot block the reader.

Python 3 standard library only.
"""

import os
import queue
import signal
import subprocess
import threading
import time
import weakref

GRACE = 2.0          # seconds from SIGTERM to SIGKILL
REAP_WAIT = 5.0      # seconds to wait for the exit after SIGKILL

_live = set()        # children started and not yet stopped
_reading = weakref.WeakSet()    # pipes a LineReader reads (and closes at their end)
_live_lock = threading.Lock()


def deadline(seconds):
    """The time.monotonic() value `seconds` from now."""
    return time.monotonic() + seconds


def start(argv, **popen_kw):
    """subprocess.Popen(argv, **popen_kw) in a process group of its own."""
    proc = subprocess.Popen(argv, start_new_session=True, **popen_kw)
    with _live_lock:
        _live.add(proc)
    return proc


def signal_group(pid, sig):
    """Sends sig to the process group led by pid; False if there is none."""
    try:
        os.killpg(pid, sig)
        return True
    except OSError:
        return False


def stop(proc, grace=None):
    """Ends proc and its process group: SIGTERM, up to `grace` seconds
    (default GRACE; 0: none) for the exit, then SIGKILL to the group - also
    when the leader has exited, for the children it left. Closes its pipes
    (one that a LineReader reads, the reader closes at its end). Returns the
    exit status, or None if the process could not be reaped."""
    if proc is None:
        return None
    if grace is None:
        grace = GRACE
    if proc.poll() is None and grace > 0 and signal_group(proc.pid, signal.SIGTERM):
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    signal_group(proc.pid, signal.SIGKILL)
    try:
        proc.wait(REAP_WAIT)
    except subprocess.TimeoutExpired:
        pass
    with _live_lock:
        _live.discard(proc)
        # A pipe being read is left to its reader: closing it would wait for
        # that read, which never ends if an escaped grandchild holds the pipe.
        streams = [s for s in (proc.stdin, proc.stdout, proc.stderr)
                   if s and s not in _reading]
    for stream in streams:
        close_quietly(stream)
    return proc.returncode


def close_quietly(stream):
    try:
        stream.close()
    except (OSError, ValueError):
        pass


def stop_all(grace=1.0):
    """Stops every child started here that is not stopped yet."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        stop(proc, grace)


def communicate(proc, timeout, data=None):
    """(stdout, stderr) of proc once it has exited, or None when it is still
    running after `timeout` seconds. Either way its group is stopped."""
    try:
        return proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        stop(proc)


def run(argv, timeout, **popen_kw):
    """Like subprocess.run(argv, capture_output=True, text=True), bounded:
    raises subprocess.TimeoutExpired once the process group is stopped."""
    popen_kw.setdefault("stdin", subprocess.DEVNULL)
    proc = start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen_kw)
    out = communicate(proc, timeout)
    if out is None:
        raise subprocess.TimeoutExpired(argv, timeout)
    return subprocess.CompletedProcess(argv, proc.returncode, out[0], out[1])


class LineReader:
    """The lines a child writes to one pipe (bytes or text), read by a
    thread as they come. Without `handle`, readline() hands them out with a
    deadline; with it, handle(line) is called in the reading thread for
    each line and handle(None) at the end of the stream."""

    def __init__(self, stream, handle=None):
        self.eof = False
        self._lines = queue.Queue()
        self._handle = handle or self._lines.put
        with _live_lock:
            _reading.add(stream)
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        try:
            while True:
                raw = stream.readline()
                if not raw:
                    break
                if isinstance(raw, bytes):
                    raw = raw.decode("utf-8", "replace")
                self._handle(raw.rstrip("\r\n"))
        except (OSError, ValueError):      # the pipe was closed under us
            pass
        with _live_lock:
            _reading.discard(stream)
        close_quietly(stream)
        self._handle(None)

    def readline(self, until):
        """The next line without its end, or None at the end of the stream.
        Raises TimeoutError once time.monotonic() passes `until`."""
        if self.eof:
            return None
        try:
            line = self._lines.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            raise TimeoutError("no line in time") from None
        if line is None:
            self.eof = True
        return line

    def rest(self, until):
        """Every line up to the end of the stream (TimeoutError as above)."""
        lines = []
        while True:
            line = self.readline(until)
            if line is None:
                return lines
            lines.append(line)
