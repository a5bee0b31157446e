"""What the console shows while the matrix runs: a line per failing case
(unless quiet), a progress line every 5 s, a line per finished batch."""

import threading
import time


class Progress:
    def __init__(self, total, quiet=False):
        self.total = total
        self.count = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.start = time.time()
        self.last = 0
        self.quiet = quiet

    def done(self, row):
        with self.lock:
            self.count += 1
            if row["result"] in ("fail", "blocked"):
                self.failed += 1
                if not self.quiet:
                    print("  FAIL %-7s %-6s %-11s %s: %s" % (
                        row["peer"], row["role"], row["variant"], row["case"],
                        row["detail"][:240]), flush=True)
            now = time.time()
            if now - self.last >= 5 or self.count == self.total:
                self.last = now
                print("[%3d%%] %d/%d cases, %d failing, %.0fs" % (
                    100 * self.count // max(1, self.total), self.count, self.total,
                    self.failed, now - self.start), flush=True)

    def batch_done(self, spec, role, variant, rows, secs):
        with self.lock:
            passed = sum(1 for r in rows if r["result"] == "pass")
            print("  done %-7s %-6s %-11s %4d cases, %4d passed, %.1fs" % (
                spec.name, role, variant, len(rows), passed, secs), flush=True)
