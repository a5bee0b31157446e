"""Runs the batches of the matrix on a few worker threads: the slow
starters first, the rest interleaved by peer. A batch that breaks on a
harness error reports its cases as blocked and the others go on."""

import queue
import threading
import time

import processes
from batch import Batch
from matrix import VARIANTS
from progress import Progress

# Peers whose drivers start slowly go first.
START_ORDER = {"java": 0, "gnutls": 1, "go": 2, "node": 3, "openssl": 4, "python": 5}


def case_count(batches):
    """Cases of all batches, counting each batch's closing handshake."""
    return sum(len(b[3]) + (1 if any(c.tpl.sanity for c in b[3]) else 0) for b in batches)


def run_batches(env, batches, jobs, quiet=False):
    """Runs every (spec, role, variant, cases) batch; returns all rows."""
    progress = Progress(case_count(batches), quiet)
    batches = sorted(batches, key=lambda b: (VARIANTS.index(b[2]) if b[2] in VARIANTS else 9,
                                             START_ORDER.get(b[0].name, 9), b[1]))
    work = queue.Queue()
    for b in batches:
        work.put(b)
    rows, rows_lock = [], threading.Lock()

    def worker():
        while True:
            try:
                spec, role, variant, cases = work.get_nowait()
            except queue.Empty:
                return
            bt = time.time()
            try:
                out = Batch(env, spec, role, variant, cases, progress).run()
            except Exception as exc:  # a harness bug must not hide the rest
                out = [c.row("blocked", "harness error: %r" % exc) for c in cases]
            with rows_lock:
                rows.extend(out)
            progress.batch_done(spec, role, variant, out, time.time() - bt)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    finally:
        processes.stop_all()
    return rows
