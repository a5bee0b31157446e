"""Starting, reading and stopping the benchmark processes.

Every process is started here and stopped here whatever happens, with the
project's one process helper (interop/processes.py): in a process group of
its own, stopped by its pid (SIGTERM, then SIGKILL to the group), every
wait bounded. Drivers speak one protocol: servers print "ready port=N" once
listening, every driver ends with "result k=v ...".
"""
import os
import re
import socket
import subprocess
import sys
import time

_INTEROP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "interop")
if _INTEROP not in sys.path:
    sys.path.append(_INTEROP)
import processes  # noqa: E402

STOP_GRACE = 3.0        # seconds from SIGTERM to SIGKILL


class DriverError(Exception):
    """A driver failed: non-zero exit, no result line, timeout, wrong library."""


def free_port():
    """A loopback port that was free a moment ago (for openssl s_server,
    which cannot report the port it got)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True when /proc/net/tcp shows a LISTEN socket on port (no connect:
    s_server would count a probe as a client)."""
    needle = ":%04X " % port
    with open("/proc/net/tcp") as f:
        return any(needle in line and line.split()[3] == "0A" for line in f)


def parse_result(line):
    """'result a=1 b=x' -> {'a': '1', 'b': 'x'}"""
    return dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)


def cpu_seconds(pid):
    """User + system CPU seconds of a running process (clock ticks)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Proc:
    """One child process; its stdout read line by line with a deadline, its
    stderr in a file."""

    def __init__(self, argv, env, log_path, stdin=subprocess.DEVNULL):
        self.argv = argv
        self.log_path = log_path
        self.result = None
        self.rusage = None
        self.returncode = None
        self._err = open(log_path, "w")
        self._err.write("$ %s\n" % " ".join(argv))
        self._err.flush()
        self.popen = processes.start(argv, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True)
        self.pid = self.popen.pid
        self.lines = processes.LineReader(self.popen.stdout)

    def _next_line(self, deadline):
        try:
            return self.lines.readline(deadline)
        except TimeoutError:
            raise DriverError("%s: timed out" % self.name()) from None

    def name(self):
        return os.path.basename(self.argv[0]) + " " + " ".join(self.argv[1:3])

    def wait_ready(self, timeout):
        """The port from the 'ready port=N' line."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._next_line(deadline)
            if line is None:
                raise DriverError("%s: exited before ready\n%s" % (self.name(), self.stderr_tail()))
            if line.startswith("ready "):
                return int(parse_result(line)["port"])

    def wait_match(self, regex, timeout):
        """The first match of regex (re.search) in a stdout line."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._next_line(deadline)
            if line is None:
                raise DriverError("%s: exited before %r\n%s" % (self.name(), regex,
                                                               self.stderr_tail()))
            m = re.search(regex, line)
            if m:
                return m

    def wait_listening(self, port, timeout):
        deadline = time.monotonic() + timeout
        while not listening(port):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise DriverError("%s: not listening on %d\n%s"
                                  % (self.name(), port, self.stderr_tail()))
            time.sleep(0.02)

    def finish(self, timeout, want_result=True):
        """Waits for the exit; the parsed result line (DriverError if none or rc != 0)."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            line = self._next_line(deadline)
            if line is None:
                break
            out.append(line)
            if line.startswith("result "):
                self.result = parse_result(line)
        self._reap(max(0.1, deadline - time.monotonic()))
        if self.returncode != 0 or (want_result and self.result is None):
            raise DriverError("%s: exit %s%s\n%s" % (
                self.name(), self.returncode, "" if self.result else ", no result line",
                self.stderr_tail()))
        self.stdout = out
        return self.result

    def _reap(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.rusage = rusage
                self.returncode = os.waitstatus_to_exitcode(status)
                self.popen.returncode = self.returncode
                return
            time.sleep(0.01)
        raise DriverError("%s: did not exit" % self.name())

    def stop(self):
        """Stops its process group (and what is left of it), by pid."""
        processes.stop(self.popen, STOP_GRACE)
        self._err.close()

    def stderr_tail(self, n=15):
        self._err.flush()
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Group:
    """The processes of one measurement; all stopped on exit from the block."""

    def __init__(self):
        self.procs = []

    def start(self, *args, **kw):
        p = Proc(*args, **kw)
        self.procs.append(p)
        return p

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            p.stop()
        return False
