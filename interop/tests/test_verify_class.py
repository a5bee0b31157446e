"""Reason classes of verification failures (verify_classes.py) and each
stack's way of naming them (verify_reports.py), row by row. Every sample is
an error text a side gave in `make interop`; each is checked against every
class: the class it stands for is named, every other is a mismatch. The
classes the matrix expects of each stack have samples, and judge.evaluate()
passes the right class and fails a wrong one."""

import ctypes
import ctypes.util
import unittest

from fixtures import ALL12, make_case, peer_caps, side, sslua_caps
import cases
import judge
import oracle
import verify_classes
import verify_reports
from verify_classes import CLASSES, TRUST

ROLES = ("client", "server")
ROGUE = "CN=sslua Rogue CA,OU=rogue-ca,O=sslua Test PKI"
PKIX = ("SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath."
        "SunCertPathBuilderException: unable to find valid certification path to requested "
        "target <- ValidatorException: PKIX path building failed")
VALIDITY = ("SSLHandshakeException: PKIX path validation failed: java.security.cert."
            "CertPathValidatorException: validity check failed <- CertPathValidatorException: "
            "validity check failed <- ")
GNUTLS_CLIENT = "Fatal error: Error in the certificate.; Status: The certificate is NOT trusted. "
GNUTLS_SERVER = "; Error in handshake: Error in the certificate."
GO_TIME = "x509: certificate has expired or is not yet valid: current time 2026-12-07T04:24:16Z "


def openssl_tool(text):
    return "verify error: %s; certificate verify failed; Verification error: %s" % (text, text)


# stack, the side that verifies, its error text, the classes it stands for
SAMPLES = [
    ("sslua", "client", "certificate verify failed (unable to get local issuer certificate)",
     {"unknown_issuer"}),
    ("sslua", "client", "certificate verify failed (self-signed certificate in certificate "
     "chain at depth 1: %s)" % ROGUE, {"untrusted_root"}),
    ("sslua", "client", "certificate verify failed (self-signed certificate)", {"self_signed"}),
    ("sslua", "client", "certificate verify failed (certificate has expired)", {"expired"}),
    ("sslua", "client", "certificate verify failed (certificate is not yet valid)",
     {"not_yet_valid"}),
    ("sslua", "client", "certificate verify failed (certificate is not yet valid or the "
     "system clock is incorrect)", {"not_yet_valid"}),
    ("sslua", "client", "certificate verify failed (unsuitable certificate purpose)",
     {"bad_purpose"}),
    ("sslua", "client", 'certificate verify failed (hostname mismatch: "localhost")',
     {"hostname_mismatch"}),
    ("sslua", "client", "certificate verify failed (certificate chain too long at depth 3: "
     "CN=sslua Deep CA 2,OU=deep2,O=sslua Test PKI)", {"chain_too_long"}),
    ("sslua", "client", "certificate verify failed (certificate revoked)", {"revoked"}),
    ("sslua", "server", "certificate verify failed (self-signed certificate in certificate "
     "chain at depth 1: %s)" % ROGUE, {"untrusted_root"}),
    ("sslua", "server", "certificate verify failed (self-signed certificate)", {"self_signed"}),
    ("sslua", "server", "certificate verify failed (unsuitable certificate purpose)",
     {"bad_purpose"}),
    ("sslua", "client", "certificate verify failed", set()),
    ("openssl", "client", openssl_tool("unable to get local issuer certificate"),
     {"unknown_issuer"}),
    ("openssl", "client", openssl_tool("self-signed certificate in certificate chain"),
     {"untrusted_root"}),
    ("openssl", "client", openssl_tool("self-signed certificate"), {"self_signed"}),
    ("openssl", "client", openssl_tool("certificate has expired"), {"expired"}),
    ("openssl", "client", openssl_tool("certificate is not yet valid"), {"not_yet_valid"}),
    ("openssl", "client", openssl_tool("certificate is not yet valid or the system clock is "
                                       "incorrect"), {"not_yet_valid"}),
    ("openssl", "client", openssl_tool("unsuitable certificate purpose"), {"bad_purpose"}),
    ("openssl", "client", openssl_tool("hostname mismatch"), {"hostname_mismatch"}),
    ("openssl", "server", "verify error: self-signed certificate in certificate chain; "
     "certificate verify failed", {"untrusted_root"}),
    ("openssl", "server", "verify error: self-signed certificate; certificate verify failed",
     {"self_signed"}),
    ("openssl", "server", "verify error: unsuitable certificate purpose; "
     "certificate verify failed", {"bad_purpose"}),
    ("gnutls", "client", GNUTLS_CLIENT + "The certificate issuer is unknown.", set(TRUST)),
    ("gnutls", "client", GNUTLS_CLIENT + "The certificate chain uses expired certificate.",
     {"expired"}),
    ("gnutls", "client", GNUTLS_CLIENT + "The certificate chain uses not yet valid "
     "certificate.", {"not_yet_valid"}),
    ("gnutls", "client", GNUTLS_CLIENT + "The certificate chain does not match the intended "
     "purpose.", {"bad_purpose"}),
    ("gnutls", "client", GNUTLS_CLIENT + "The name in the certificate does not match the "
     "expected.", {"hostname_mismatch"}),
    ("gnutls", "server", "Status: The certificate is NOT trusted. The certificate issuer is "
     "unknown." + GNUTLS_SERVER, set(TRUST)),
    ("python", "client", "certificate verify failed: unable to get local issuer certificate",
     {"unknown_issuer"}),
    ("python", "client", "certificate verify failed: self-signed certificate in certificate "
     "chain", {"untrusted_root"}),
    ("python", "client", "certificate verify failed: self-signed certificate", {"self_signed"}),
    ("python", "client", "certificate verify failed: certificate has expired", {"expired"}),
    ("python", "client", "certificate verify failed: certificate is not yet valid",
     {"not_yet_valid"}),
    ("python", "client", "certificate verify failed: unsuitable certificate purpose",
     {"bad_purpose"}),
    ("python", "client", "certificate verify failed: Hostname mismatch, certificate is not "
     "valid for 'localhost'.", {"hostname_mismatch"}),
    ("python", "server", "certificate verify failed: self-signed certificate in certificate "
     "chain", {"untrusted_root"}),
    ("python", "server", "certificate verify failed: self-signed certificate", {"self_signed"}),
    ("python", "server", "certificate verify failed: unsuitable certificate purpose",
     {"bad_purpose"}),
    ("node", "client", "unable to verify the first certificate "
     "(UNABLE_TO_VERIFY_LEAF_SIGNATURE)", {"unknown_issuer"}),
    ("node", "client", "self-signed certificate in certificate chain "
     "(SELF_SIGNED_CERT_IN_CHAIN)", {"untrusted_root"}),
    ("node", "client", "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)", {"self_signed"}),
    ("node", "client", "certificate has expired (CERT_HAS_EXPIRED)", {"expired"}),
    ("node", "client", "certificate is not yet valid (CERT_NOT_YET_VALID)", {"not_yet_valid"}),
    ("node", "client", "unsuitable certificate purpose (INVALID_PURPOSE)", {"bad_purpose"}),
    ("node", "client", "Host: localhost. is not in the cert's altnames: DNS:wrong.sslua.test "
     "(ERR_TLS_CERT_ALTNAME_INVALID)", {"hostname_mismatch"}),
    # Node's server reports the last error of the chain: the purpose, for the
    # untrusted and self-signed client certificates too
    ("node", "server", "client certificate rejected: INVALID_PURPOSE", {"bad_purpose"}),
    ("java", "client", PKIX, set(TRUST)),
    ("java", "client", VALIDITY + "CertificateExpiredException: NotAfter: Sun Dec 07 04:23:09 "
     "UTC 2025", {"expired"}),
    ("java", "client", VALIDITY + "CertificateNotYetValidException: NotBefore: Tue Dec 07 "
     "04:23:09 UTC 2027", {"not_yet_valid"}),
    ("java", "client", "SSLHandshakeException: Extended key usage does not permit use for TLS "
     "server authentication <- ValidatorException: Extended key usage does not permit use "
     "for TLS server authentication", {"bad_purpose"}),
    ("java", "client", "SSLHandshakeException: No subject alternative DNS name matching "
     "localhost found. <- CertificateException: No subject alternative DNS name matching "
     "localhost found.", {"hostname_mismatch"}),
    ("java", "server", PKIX, set(TRUST)),
    ("java", "server", "SSLHandshakeException: Extended key usage does not permit use for TLS "
     "client authentication <- ValidatorException: Extended key usage does not permit use "
     "for TLS client authentication", {"bad_purpose"}),
    ("go", "client", "x509: certificate signed by unknown authority", set(TRUST)),
    ("go", "client", GO_TIME + "is after 2025-12-07T04:23:09Z", {"expired"}),
    ("go", "client", GO_TIME + "is before 2027-12-07T04:23:09Z", {"not_yet_valid"}),
    ("go", "client", "x509: certificate specifies an incompatible key usage", {"bad_purpose"}),
    ("go", "client", "x509: certificate is valid for wrong.sslua.test, not localhost",
     {"hostname_mismatch"}),
    ("go", "server", "tls: failed to verify client certificate: x509: certificate signed by "
     "unknown authority", set(TRUST)),
    ("go", "server", "tls: failed to verify client certificate: x509: certificate specifies "
     "an incompatible key usage", {"bad_purpose"}),
    ("go", "client", "tls: failed to verify certificate", set()),
]

# What a peer's capabilities change about the classes expected of it.
PEER_CAPS = {"gnutls": peer_caps(server_checks_client_purpose=False)}


def err(text):
    return {"status": "fail", "stage": "handshake", "error": text}


def verifying_case(stack, verifier, classes, peer_name=None):
    """A case where `verifier` (the side that verifies) fails for `classes`;
    sslua's role follows from which stack verifies."""
    role = verifier if stack == "sslua" else judge.other(verifier)
    name = peer_name or ("fake" if stack == "sslua" else stack)
    return make_case(role, oracle.verify_fail(verifier, classes), peer_name=name)


def results(verifier, text):
    """(client result, server result): the verifier's failure, no other."""
    return (err(text), None) if verifier == "client" else (None, err(text))


def matrix_classes():
    """{(stack, verifying side): [expected classes]} over the whole
    catalogue, for each peer in verify_reports (with its capabilities)."""
    out = {}
    for peer in verify_reports.REPORTS:
        caps = PEER_CAPS.get(peer, peer_caps())
        for role in ROLES:
            for tpl in cases.catalogue(role, ALL12):
                ours = side("sslua", sslua_caps(), **tpl.ours)
                theirs = side(peer, caps, **tpl.peer)
                client, server = (ours, theirs) if role == "client" else (theirs, ours)
                exp = oracle.expect(client, server)
                if exp.get("classes"):
                    stack = "sslua" if exp["side"] == role else peer
                    out.setdefault((stack, exp["side"]), []).append(set(exp["classes"]))
    return out


class ClassTable(unittest.TestCase):
    def test_openssl_texts_are_the_local_openssl_strings(self):
        path = ctypes.util.find_library("crypto")
        self.assertTrue(path, "libcrypto not found")
        text_of = ctypes.CDLL(path).X509_verify_cert_error_string
        text_of.restype, text_of.argtypes = ctypes.c_char_p, [ctypes.c_long]
        # each error's wording in the local library is one of its rows
        wordings = {}
        for name, (_, _, errors) in CLASSES.items():
            for number, code, text in errors:
                wordings.setdefault((number, code), set()).add(text)
        for (number, code), texts in wordings.items():
            with self.subTest(code):
                self.assertIn(text_of(number).decode(), texts)

    def test_every_class_belongs_to_a_reason(self):
        for name, (reason, _, _) in CLASSES.items():
            with self.subTest(name):
                self.assertIn(reason, oracle.REASONS)
        self.assertEqual(verify_classes.reason_of(("untrusted_root", "bad_purpose")),
                         "bad_client_cert")


class Samples(unittest.TestCase):
    def test_each_sample_against_each_class(self):
        """The class a text stands for is checked; every other class is a
        mismatch."""
        for stack, verifier, text, stands_for in SAMPLES:
            for cls in CLASSES:
                with self.subTest(stack=stack, verifier=verifier, text=text[:60], cls=cls):
                    case = verifying_case(stack, verifier, (cls,))
                    state, note = judge.verify_class(case, *results(verifier, text))
                    self.assertEqual(state, "checked" if cls in stands_for else "mismatch",
                                     note)

    def test_the_matrix_classes_have_samples(self):
        """Each class set the oracle expects of a stack, on the side it
        verifies, is named by one of that stack's samples there."""
        found = matrix_classes()
        self.assertEqual(set(found), {(stack, verifier) for stack in ("sslua",) +
                                      tuple(verify_reports.REPORTS) for verifier in ROLES})
        for (stack, verifier), wanted in sorted(found.items()):
            named = [s for st, v, _, s in SAMPLES if (st, v) == (stack, verifier)]
            for classes in wanted:
                with self.subTest(stack=stack, verifier=verifier, classes=sorted(classes)):
                    self.assertTrue(any(classes & s for s in named))

    def test_every_peer_reports_in_both_roles(self):
        for peer in ("openssl", "gnutls", "python", "node", "java", "go"):
            for role in ROLES:
                with self.subTest(peer=peer, role=role):
                    self.assertIsNotNone(verify_reports.table(peer, role))


class NotChecked(unittest.TestCase):
    def test_a_peer_without_a_table_is_marked_not_checked(self):
        case = verifying_case("fake", "client", ("expired",), peer_name="fake")
        cres = err("certificate has expired")
        self.assertEqual(judge.verify_class(case, cres, None)[0], "not reported")
        result, detail = judge.evaluate(None, case, cres, None)
        self.assertEqual(result, "pass", detail)
        self.assertIn("verify class expired not checked: fake's client reports no reason",
                      detail)

    def test_a_side_without_a_failure_is_marked_not_checked(self):
        case = verifying_case("sslua", "client", ("expired",))
        self.assertEqual(judge.verify_class(case, None, err("tlsv1 alert certificate expired")),
                         ("no report", "verify class expired not checked: no failure from "
                          "the client"))

    def test_no_class_expected_no_check(self):
        case = make_case("client", oracle.fail("server", "version"))
        self.assertEqual(judge.verify_class(case, None, err("unsupported protocol")),
                         (None, ""))


# stack, the side that verifies, its text, the right class, a wrong class of
# the same reason or one whose reason the text also matches (so only the
# class check tells)
VERDICTS = [
    ("sslua", "client", "certificate verify failed (self-signed certificate)",
     "self_signed", "untrusted_root"),
    ("sslua", "server", "certificate verify failed (self-signed certificate in certificate "
     "chain at depth 1: %s)" % ROGUE, "untrusted_root", "unknown_issuer"),
    ("openssl", "client", openssl_tool("self-signed certificate in certificate chain"),
     "untrusted_root", "self_signed"),
    ("python", "client", "certificate verify failed: self-signed certificate", "self_signed",
     "unknown_issuer"),
    ("node", "client", "unable to verify the first certificate "
     "(UNABLE_TO_VERIFY_LEAF_SIGNATURE)", "unknown_issuer", "untrusted_root"),
    ("gnutls", "client", GNUTLS_CLIENT + "The certificate chain uses expired certificate.",
     "expired", "not_yet_valid"),
    ("java", "client", VALIDITY + "CertificateExpiredException: NotAfter: Sun Dec 07 04:23:09 "
     "UTC 2025", "expired", "not_yet_valid"),
    ("go", "client", GO_TIME + "is after 2025-12-07T04:23:09Z", "expired", "not_yet_valid"),
    ("go", "server", "tls: failed to verify client certificate: x509: certificate specifies "
     "an incompatible key usage", "bad_purpose", "expired"),
]


class Verdicts(unittest.TestCase):
    def test_right_class_passes_wrong_class_fails(self):
        for stack, verifier, text, right, wrong in VERDICTS:
            for cls, verdict in ((right, "pass"), (wrong, "fail")):
                with self.subTest(stack=stack, verifier=verifier, cls=cls):
                    case = verifying_case(stack, verifier, (cls,))
                    result, detail = judge.evaluate(None, case, *results(verifier, text))
                    self.assertEqual(result, verdict, detail)
                    if verdict == "fail":
                        self.assertIn("names verify class %s, expected %s" % (right, cls),
                                      detail)
                    else:
                        self.assertIn("verify class %s: named by the %s" % (cls, verifier),
                                      detail)

    def test_a_certificate_with_two_defects_may_name_either(self):
        case = verifying_case("node", "server", ("untrusted_root", "bad_purpose"))
        for text, verdict in (("client certificate rejected: INVALID_PURPOSE", "pass"),
                              ("client certificate rejected: SELF_SIGNED_CERT_IN_CHAIN", "pass"),
                              ("client certificate rejected: CERT_HAS_EXPIRED", "fail")):
            with self.subTest(text):
                self.assertEqual(judge.evaluate(None, case, None, err(text))[0], verdict)


if __name__ == "__main__":
    unittest.main()
