"""close_probe.ending(): how s_client's output tells the end of the stream
it read (apps/s_client.c prints "closed" for SSL_ERROR_ZERO_RETURN and
"read:errno=N" for SSL_ERROR_SYSCALL)."""

import unittest

import fixtures  # noqa: F401  (the import path to interop/)
import close_probe


class Ending(unittest.TestCase):
    def test_rows(self):
        for out, want in (
                ("eorp-esolc\nclosed\n", "close_notify"),
                ("eorp-esolc\nread:errno=0\n", "eof"),
                ("eorp-esolc\nread:errno=104\n", None),      # a reset is neither
                ("DONE\n", None),
                ("read R BLOCK\nclosed\n", "close_notify")):
            with self.subTest(out):
                self.assertEqual(close_probe.ending(out), want)


if __name__ == "__main__":
    unittest.main()
