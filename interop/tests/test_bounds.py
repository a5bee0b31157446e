"""Every wait is bounded: a hung child - sslua's side, a peer driver, a
fault case's sslua, a benchmark driver - is stopped with its whole process
group, reported as a failure by name, and the run goes on.

The hung programs are hang.sh and hung_driver.py (they ignore SIGTERM or
never answer); the bounds are set to a second or two here. The checks are
on what happened, never on how long it took."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

from fixtures import TESTS, FakePeer, Names, make_case
import batch
import driver_client
import faults
import processes
import sslua_runner
from benchlib import procs

HANG = os.path.join(TESTS, "hang.sh")
HUNG_DRIVER = os.path.join(TESTS, "hung_driver.py")


def alive(pid):
    """True while pid runs (a zombie has ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class HangTest(unittest.TestCase):
    """Gives each test a $HANG_PIDS file; whatever is still running of the
    pids written there at the end is killed by pid."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sslua-bounds-")
        self.addCleanup(self.tmp.cleanup)
        self.pidfile = os.path.join(self.tmp.name, "pids")
        open(self.pidfile, "w").close()
        for patch in (mock.patch.dict(os.environ, HANG_PIDS=self.pidfile),
                      mock.patch.object(processes, "GRACE", 0.3)):
            patch.start()
            self.addCleanup(patch.stop)
        self.addCleanup(self.kill_leftovers)

    def pids(self):
        with open(self.pidfile) as f:
            return [int(p) for p in f.read().split()]

    def kill_leftovers(self):
        for pid in self.pids():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def assertAllStopped(self, at_least):
        """Every pid written has ended (SIGKILL takes effect at once, but a
        busy machine may take a moment to finish a process off)."""
        pids = self.pids()
        self.assertGreaterEqual(len(pids), at_least, "the hung programs did not start")
        until = processes.deadline(10)
        while any(alive(p) for p in pids) and time.monotonic() < until:
            time.sleep(0.05)
        self.assertEqual([p for p in pids if alive(p)], [], "still running")


class Processes(HangTest):
    def test_stop_ends_the_group_of_a_child_that_ignores_sigterm(self):
        proc = processes.start([HANG], stdout=subprocess.PIPE, env=dict(os.environ,
                                                                        HANG_PRINT="up"))
        lines = processes.LineReader(proc.stdout)
        self.assertEqual(lines.readline(processes.deadline(30)), "up")
        status = processes.stop(proc, grace=0.5)
        self.assertEqual(status, -signal.SIGKILL)
        self.assertAllStopped(2)

    def test_reading_a_silent_child_ends_at_the_deadline(self):
        proc = processes.start([HANG], stdout=subprocess.PIPE)
        self.addCleanup(processes.stop, proc)
        with self.assertRaises(TimeoutError):
            processes.LineReader(proc.stdout).readline(processes.deadline(0.5))

    def test_communicate_gives_up_and_stops_the_group(self):
        proc = processes.start([HANG], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertIsNone(processes.communicate(proc, 1))
        self.assertAllStopped(2)

    def test_run_raises_once_the_group_is_stopped(self):
        with self.assertRaises(subprocess.TimeoutExpired):
            processes.run([HANG], 1)
        self.assertAllStopped(2)


class StubEnv:
    """The parts of environment.Env that sslua's side and a batch use."""

    def __init__(self, out, lua=HANG):
        self.out, self.lua, self.lua_env = out, lua, dict(os.environ)
        self.ciphers = Names()
        os.makedirs(os.path.join(out, "logs"), exist_ok=True)

    def cert(self, name):
        return os.path.join(self.out, name)

    def identity_files(self, ident, chain):
        return {"cert": self.cert(ident + ".pem"), "leaf": self.cert(ident + ".pem"),
                "key": self.cert(ident + ".key"), "chain": None}


class Rows:
    """batch.Batch's progress, collecting rows quietly."""

    def __init__(self):
        self.rows = []

    def done(self, row):
        self.rows.append(row)


class InteropCases(HangTest):
    def test_a_hung_sslua_client_is_stopped_and_fails(self):
        res = sslua_runner.run_sslua_client(StubEnv(self.tmp.name), [], 9, "blocking", "ping",
                                            None, timeout=1)
        self.assertEqual((res["status"], res["stage"]), ("fail", "timeout"))
        self.assertAllStopped(2)

    def test_an_sslua_server_that_never_listens_fails_to_start(self):
        with mock.patch.object(sslua_runner, "START_TIMEOUT", 1):
            srv = sslua_runner.SsluaServer(StubEnv(self.tmp.name), [], "blocking")
        srv.stop()
        self.assertIsNone(srv.port)
        self.assertIn("sslua server did not start", srv.setup["error"])
        self.assertAllStopped(2)

    def test_a_hung_peer_client_fails_each_case_by_name_and_the_batch_goes_on(self):
        """sslua's server (hang.sh saying it listens) and a peer driver whose
        clients never answer: every case fails as a timeout, each try gets a
        new driver, and nothing of any driver is left running."""
        env = StubEnv(self.tmp.name)
        env.lua_env["HANG_PRINT"] = 'LISTEN {"port": 9}'
        spec = FakePeer(name="hung")
        spec.argv = [sys.executable, "-B", HUNG_DRIVER]
        cases = [make_case("server", {"status": "ok", "version": "1.3"}) for _ in range(2)]
        for c, name in zip(cases, ("first", "second")):
            c.peer, c.tpl.name = spec, name
        rows = Rows()
        with mock.patch.object(driver_client, "CLIENT_TIMEOUT", 1), \
                mock.patch.object(driver_client, "QUIT_TIMEOUT", 0.2), \
                mock.patch.object(batch, "RECORD_WAIT", 0.2):
            out = batch.Batch(env, spec, "server", "blocking", cases, rows).run()
        self.assertEqual([r["case"] for r in out], ["sanity/first", "sanity/second"])
        self.assertEqual(rows.rows, out)
        for r in out:
            self.assertEqual(r["result"], "fail")
            self.assertIn("peer client timed out", r["detail"])
        # sslua's server (2 pids), then per try a driver and its client's child
        self.assertAllStopped(2 + 2 * 4)

    def test_a_peer_server_that_never_answers_blocks_the_batch(self):
        env = StubEnv(self.tmp.name)
        spec = FakePeer(name="hung")
        spec.argv = [sys.executable, "-B", HUNG_DRIVER]
        sanity = make_case("client", {"status": "ok", "version": "1.3"})
        sanity.tpl.sanity, sanity.peer = True, spec
        other = make_case("client", {"status": "ok", "version": "1.3"}, family="version")
        other.peer = spec
        with mock.patch.object(driver_client, "SERVER_TIMEOUT", 1), \
                mock.patch.object(driver_client, "STOP_TIMEOUT", 0.2), \
                mock.patch.object(driver_client, "QUIT_TIMEOUT", 0.2):
            out = batch.Batch(env, spec, "client", "blocking", [sanity, other], Rows()).run()
        self.assertEqual([(r["case"], r["result"]) for r in out],
                         [("sanity/t", "fail"), ("version/t", "blocked")])
        self.assertIn("peer server did not start: no answer from the peer driver",
                      out[0]["detail"])
        self.assertAllStopped(2)


class FaultCases(HangTest):
    def test_a_hung_sslua_side_is_a_hang(self):
        certs = os.path.join(os.path.dirname(os.path.dirname(TESTS)), "build", "certs")
        setup = faults.Setup(HANG, self.tmp.name, self.tmp.name, certs)
        case = [c for c in faults.EXPECTED if c[0] == "none"][0]
        with mock.patch.object(faults, "HANG_BOUND", 2), \
                mock.patch.object(faults, "peer_context", lambda *a: None):
            result, outcome, detail, _ = faults.run_case(setup, case, "client", "1.3",
                                                         "blocking")
        self.assertEqual((result, outcome), ("fail", "hang"))
        self.assertIn("hang: still running after 2 s, killed", detail)
        self.assertAllStopped(2)


class BenchDrivers(HangTest):
    def test_a_hung_driver_fails_by_name_and_its_group_is_stopped(self):
        log = os.path.join(self.tmp.name, "hang.log")
        with self.assertRaises(procs.DriverError) as caught:
            with procs.Group() as g:
                g.start([HANG, "hs", "server"], dict(os.environ), log).finish(1)
        self.assertIn("hang.sh hs server: timed out", str(caught.exception))
        self.assertAllStopped(2)


if __name__ == "__main__":
    unittest.main()
