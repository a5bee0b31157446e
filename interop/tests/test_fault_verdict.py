"""faults.verdict(), row by row: one case of the fault matrix (EXPECTED),
what sslua's side reported and how its process ended, and the verdict."""

import unittest

import fixtures  # noqa: F401  (the import path)
import faults

CASE = {c[0]: c for c in faults.EXPECTED}
FULL = faults.READ_SIZE


def got(stage, error=None, data=None, size=None, sent=None):
    out = {"stage": stage, "error": error}
    if data is not None:
        out.update(data=data, got=size if size is not None else FULL)
    if sent is not None:
        out["sent"] = sent
    return out


# name, fault label, I/O, sslua's result (None: no RESULT line), how it ended,
# verdict, words in the detail
ROWS = [
    ("clean close after all data", "none", "blocking", got("close", "closed", "full"),
     "exit 0", "pass", "close:closed (full 40000 B)"),
    ("split records change nothing", "split", "nonblocking",
     got("close", "closed", "full"), "exit 0", "pass", "close:closed"),
    ("a cut inside a record: unexpected eof after a prefix", "truncate", "blocking",
     got("receive", "unexpected eof while reading", "prefix", 16000), "exit 0", "pass",
     "prefix 16000 B"),
    ("a cut reported as success is silent truncation", "truncate", "blocking",
     got("close", "closed", "prefix", 16000), "exit 0", "fail",
     "silent truncation: a short read reported as success"),
    ("changed bytes", "corrupt", "blocking", got("receive", "cipher operation failed",
                                                 "corrupt", 100), "exit 0", "fail",
     "data differs from what was sent"),
    ("a damaged record by OpenSSL 3.0's provider text", "corrupt", "nonblocking",
     got("receive", "cipher operation failed", "prefix", 100), "exit 0", "pass",
     "receive:cipher operation failed"),
    ("a wrong error class", "garbage", "blocking",
     got("receive", "closed", "prefix", 0), "exit 0", "fail",
     "error 'closed' is not of class junk"),
    ("junk by a TLS 1.3 record layer that reads the type first (OpenSSL 3.2 on)",
     "garbage", "nonblocking", got("receive", "bad record type", "prefix", 32768), "exit 0",
     "pass", "receive:bad record type"),
    ("... which is junk, not a bad MAC", "corrupt", "blocking",
     got("receive", "bad record type", "prefix", 100), "exit 0", "fail",
     "error 'bad record type' is not of class badmac"),
    ("a wrong stage", "reset-handshake", "blocking", got("receive", "closed"), "exit 0",
     "fail", "stage receive, expected handshake"),
    ("a stall ends in the timeout", "stall", "blocking",
     got("receive", "wantread", "prefix", 100), "exit 0", "pass", "receive:wantread"),
    ("close_notify dropped: the end without it", "drop-close-notify", "blocking",
     got("close", "unexpected eof while reading", "full"), "exit 0", "pass", "close:"),
    ("*a: all data at the end", "none/*a", "blocking", got("done", None, "full"), "exit 0",
     "pass", "done:ok (full 40000 B)"),
    ("non-blocking *a whose last call meets the end alone: nil, 'closed', everything",
     "none/*a", "nonblocking", got("receive", "closed", "full"), "exit 0", "pass",
     "receive:closed (full 40000 B)"),
    ("... the same without a close_notify", "drop-close-notify/*a", "nonblocking",
     got("receive", "closed", "full"), "exit 0", "pass", "receive:closed"),
    ("... but not in blocking use", "none/*a", "blocking", got("receive", "closed", "full"),
     "exit 0", "fail", "stage receive, expected done"),
    ("... nor with part of the data", "none/*a", "nonblocking",
     got("receive", "closed", "prefix", 100), "exit 0", "fail",
     "stage receive, expected done"),
    ("*a through a reset: closed after a prefix", "reset/*a", "nonblocking",
     got("receive", "closed", "prefix", 100), "exit 0", "pass", "receive:closed"),
    ("every byte written", "none/write", "blocking", got("done", sent=faults.WRITE_SIZE),
     "exit 0", "pass", "sent %d B" % faults.WRITE_SIZE),
    ("a write cut short without an error", "none/write", "blocking",
     got("done", sent=1000), "exit 0", "fail", "sent 1000 of %d bytes" % faults.WRITE_SIZE),
    ("a reset while writing", "reset/write", "nonblocking",
     got("send", "closed", sent=65536), "exit 0", "pass", "send:closed"),
    ("a hang: killed past the bound", "none", "blocking", None,
     "hang: still running after 15 s, killed", "fail", "hang: still running"),
    ("a crash by a signal", "none", "blocking", None, "crash: signal 11", "fail",
     "crash: signal 11"),
]


class FaultVerdicts(unittest.TestCase):
    def test_rows(self):
        for name, label, io, res, how, verdict, words in ROWS:
            with self.subTest(name):
                result, outcome, detail, _ = faults.verdict(CASE[label], res, how, "peer ok",
                                                            0.5, io)
                self.assertEqual(result, verdict, detail)
                self.assertIn(words, detail)
                if res is None:
                    self.assertEqual(outcome, how.split(":")[0])

    def test_error_classes_match_whole_texts(self):
        for text, klass in (("closed", "closed"), ("unexpected eof while reading", "eof"),
                            ("wantread", "timeout"), ("wantwrite", "timeout"),
                            ("wrong version number", "junk"), ("bad record type", "junk"),
                            ("bad record type here", "other"),
                            ("decryption failed or bad record mac", "badmac"),
                            ("cipher operation failed", "badmac"),
                            ("closed early", "other"), (None, None)):
            with self.subTest(text):
                self.assertEqual(faults.error_class(text), klass)


if __name__ == "__main__":
    unittest.main()
