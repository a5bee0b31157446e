"""What the oracle learns of sslua's suites from its OpenSSL's command line
(ciphers.CipherTable, against the local openssl), how sslua_runner hands
it on, and the check that the command speaks for sslua's library
(environment.openssl_mismatch)."""

import unittest

import fixtures  # noqa: F401  (the import path)
import ciphers
import environment
import sslua_runner

NULL12 = "TLS_RSA_WITH_NULL_SHA256"     # no encryption: level 0 only, on every OpenSSL 3


class LocalOpenSSL(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.table = ciphers.CipherTable()

    def test_level_0_uses_more(self):
        default12, default13 = self.table.usable["default"]
        legacy12, legacy13 = self.table.usable["legacy"]
        self.assertTrue(default12 and default13)
        self.assertLess(set(default12), set(legacy12))
        self.assertLessEqual(set(default13), set(legacy13))
        self.assertIn(NULL12, legacy12)
        self.assertNotIn(NULL12, default12)

    def test_lists_keep_versions_apart(self):
        tls13 = {name for _, name in ciphers.TLS13}
        for level, (c12, c13) in self.table.usable.items():
            with self.subTest(level):
                self.assertFalse(set(c12) & tls13)
                self.assertLessEqual(set(c13), tls13)

    def test_default_tls13_suites_are_usable(self):
        self.assertTrue(self.table.default13)
        self.assertLessEqual(set(self.table.default13), set(self.table.usable["default"][1]))


class StubTable:
    default12, default13 = ["D12"], ["D13"]
    usable = {"default": (["A12"], ["A13"]), "legacy": (["L12"], ["L13"])}
    openssl_of = {}


class StubEnv:
    ciphers = StubTable()
    sslua_groups = (["G1"], ["G1", "G2"])


class SsluaCaps(unittest.TestCase):
    def test_each_level_in_its_place(self):
        caps = sslua_runner.sslua_caps(StubEnv())
        for key, want in (("default12", ["D12"]), ("default13", ["D13"]),
                          ("ciphers12", ["A12"]), ("ciphers13", ["A13"])):
            with self.subTest(key):
                self.assertEqual(caps[key], want)
        self.assertEqual(caps["legacy"], {"ciphers12": ["L12"], "ciphers13": ["L13"]})
        self.assertEqual((caps["groups"], caps["pinnable_groups"]), (["G1"], ["G1", "G2"]))

    def test_legacy_cases_run_at_the_level_probed(self):
        flags = sslua_runner.sslua_flags(StubEnv(), {"legacy": True}, "client")
        self.assertEqual(flags[flags.index("--ciphers") + 1],
                         "DEFAULT" + ciphers.LEVELS["legacy"])


class OpenSSLMismatch(unittest.TestCase):
    CLI35 = "OpenSSL 3.5.7 9 Jun 2026 (Library: OpenSSL 3.5.7 9 Jun 2026)"

    def test_rows(self):
        for name, cli, module, refused in (
                ("the same library", self.CLI35, "OpenSSL 3.5.7", False),
                ("the system's CLI for a 3.5 module",
                 "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)",
                 "OpenSSL 3.5.7", True),
                ("a CLI linked to another library: the library counts",
                 "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.5.7 9 Jun 2026)",
                 "OpenSSL 3.5.7", False),
                ("a module that did not load", self.CLI35, "?", False)):
            with self.subTest(name):
                got = environment.openssl_mismatch({"openssl": cli, "sslua_openssl": module})
                self.assertEqual(bool(got), refused, got)


if __name__ == "__main__":
    unittest.main()
