#!/usr/bin/env python3
"""Runs the unit tests of the interop harness (interop/tests/test_*.py)
with the standard library's unittest, and ends with the line
"N passed, N failed" that ci/total adds up for `make test`. Each row of
a table-driven test (a subTest) counts on its own.

    python3 interop/tests/run.py [-v] [PATTERN]

`python3 -m pytest interop/tests` runs the same tests where pytest is
installed; nothing here needs it.
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True      # no __pycache__ in the work tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class CountingResult(unittest.TextTestResult):
    """Counts every subTest as one check, and a test without any as one."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.passed = self.failed = 0
        self.with_subtests = set()

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        self.with_subtests.add(test.id())
        if err is None:
            self.passed += 1
        else:
            self.failed += 1

    def addSuccess(self, test):
        super().addSuccess(test)
        if test.id() not in self.with_subtests:
            self.passed += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed += 1

    def addError(self, test, err):
        super().addError(test, err)
        self.failed += 1

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1


def main(argv):
    verbosity = 2 if "-v" in argv else 1
    patterns = [a for a in argv if not a.startswith("-")]
    suite = unittest.defaultTestLoader.discover(
        HERE, pattern=patterns[0] if patterns else "test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity,
                                     resultclass=CountingResult)
    result = runner.run(suite)
    skipped = len(result.skipped)
    print("%d passed, %d failed%s" % (result.passed, result.failed,
                                      ", %d skipped" % skipped if skipped else ""))
    return 0 if result.failed == 0 and result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
