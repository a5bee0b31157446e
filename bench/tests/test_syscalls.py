"""System calls per handshake (bench/benchlib/syscalls.py): strace -c's
table read, the extra work as the difference of two runs, ours against
the C reference, and the report's table built from them."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import report, syscalls  # noqa: E402

# strace 6.1's `-c` table: the errors column is empty for calls that never
# failed, and the total row closes it.
TABLE = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 45.74    0.033049           6      5452        22 read
 15.28    0.011041          12       901           write
  7.54    0.005449          18       300       300 connect
  2.34    0.001694           5       322           poll
  0.00    0.000000           0         1           execve
------ ----------- ----------- --------- --------- ----------------
100.00    0.072259           7      6976       322 total
"""


class Parse(unittest.TestCase):
    def test_rows(self):
        self.assertEqual(syscalls.parse(TABLE), {"read": 5452, "write": 901, "connect": 300,
                                                 "poll": 322, "execve": 1})

    def test_not_a_table(self):
        self.assertEqual(syscalls.parse("strace: exec: No such file or directory\n"), {})


class PerUnit(unittest.TestCase):
    def test_difference_of_two_runs(self):
        small = {"read": 30, "write": 5, "execve": 1, "brk": 9}
        large = {"read": 174, "write": 29, "execve": 1, "brk": 9, "poll": 8}
        self.assertEqual(syscalls.per_unit(small, large, 8),
                         {"read": 18.0, "write": 3.0, "poll": 1.0})

    def test_ours_minus_ref_largest_first(self):
        ours = {"read": 18.0, "fcntl": 4.0, "poll": 1.0, "write": 3.0}
        ref = {"read": 18.0, "write": 3.0, "futex": 0.25}
        self.assertEqual(syscalls.difference(ours, ref), [("fcntl", 4.0), ("poll", 1.0)])


class FakeResults:
    def __init__(self, sc):
        self.data = {"sc": sc}

    def get(self, section, case, impl):
        return self.data[section].get(case, {}).get(impl, [])


class Table(unittest.TestCase):
    def test_row_per_case(self):
        case = ("hs", "client", "1.3", "ecdsa")
        res = FakeResults({case: {
            "ours": [{"per_unit": 33.0, "by_call": {"read": 18.0, "fcntl": 4.0, "poll": 1.0}}],
            "ref": [{"per_unit": 27.0, "by_call": {"read": 18.0}}]}})
        text = report.syscall_table(res, {})
        row = [line for line in text.splitlines() if "handshake, client, TLS 1.3 ECDSA" in line]
        self.assertEqual(len(row), 1)
        self.assertIn("| 33.0 | 27.0 | – |", row[0])
        self.assertIn("`fcntl` +4.0, `poll` +1.0", row[0])


if __name__ == "__main__":
    unittest.main()
