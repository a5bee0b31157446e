"""judge.evaluate(), row by row: an expectation, what each side reported,
and the verdict (pass / fail / unavailable) with the words that say why.
Rows cover every verdict the judge gives."""

import unittest

from fixtures import (ALL12, ECDHE_RSA_GCM, RSA_CCM8, Names, make_case, peer_caps, side,
                      sslua_caps, sslua_caps_ccm8_at_level0)
import judge
import oracle

OK13 = {"status": "ok", "version": "1.3", "cipher": None, "group": None, "alpn": None,
        "sni": None, "client_sees": "server-rsa", "server_sees": None, "resumed": None,
        "hostcheck": None}


def ok(**changes):
    exp = dict(OK13)
    exp.update(changes)
    return exp


def fail(side_, reason, stage="handshake"):
    return {"status": "fail", "side": side_, "reason": reason, "stage": stage}


def res(status="ok", **fields):
    out = {"status": status}
    out.update(fields)
    return out


def err(text, stage="handshake"):
    return res("fail", stage=stage, error=text)


CLIENT_OK = res(version="TLSv1.3", peer_cert="server-rsa", close="close_notify")
SERVER_OK = res(version="1.3")
SNI_FAMILY = {"family": "sni", "peer": {"sni_name": "server.sslua.test"}}

# name, sslua's role, expectation, client result, server result, verdict, words in the
# detail; optionally {"caps": the peer's capabilities, "family": ..., "peer": its side}
ROWS = [
    # the module lacks a parameter
    ("sslua client: unavailable", "client", OK13,
     res("unavailable", error="no verifyhost"), None, "unavailable", "sslua: no verifyhost"),
    ("sslua server: unavailable", "server", OK13, res("fail", error="x"),
     res("unavailable", error="no dhparam"), "unavailable", "sslua: no dhparam"),
    # expected success
    ("both sides as expected", "client", OK13, CLIENT_OK, SERVER_OK, "pass",
     "client: ok v1.3 | server: ok v1.3"),
    ("sslua client printed no result", "client", OK13, None, SERVER_OK, "fail",
     "no client result"),
    ("no server record", "server", OK13, CLIENT_OK, None, "fail", "no server result"),
    ("a side failed", "client", OK13, CLIENT_OK, err("bad record mac", "io"), "fail",
     "server failed: fail@io: bad record mac"),
    ("another version", "client", OK13, dict(CLIENT_OK, version="TLSv1.2"), SERVER_OK,
     "fail", "client negotiated TLS 1.2, expected 1.3"),
    ("the suite by its OpenSSL name", "client", ok(version="1.2", cipher=ECDHE_RSA_GCM),
     dict(CLIENT_OK, version="1.2", cipher="ECDHE-RSA-AES128-GCM-SHA256"),
     res(version="1.2", cipher=ECDHE_RSA_GCM), "pass", "ok v1.2 " + ECDHE_RSA_GCM),
    ("another suite", "client", ok(version="1.2", cipher=ECDHE_RSA_GCM),
     dict(CLIENT_OK, version="1.2", cipher="ECDHE-ECDSA-AES128-GCM-SHA256"),
     res(version="1.2"), "fail", "client cipher TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("the group in other letters", "client", ok(group="x25519"),
     dict(CLIENT_OK, group="X25519"), SERVER_OK, "pass", "client: ok v1.3"),
    ("another group", "client", ok(group="x25519"), dict(CLIENT_OK, group="secp256r1"),
     SERVER_OK, "fail", "client group secp256r1, expected x25519"),
    ("another ALPN protocol", "client", ok(alpn="h2"), dict(CLIENT_OK, alpn="http/1.1"),
     dict(SERVER_OK, alpn="h2"), "fail", "client ALPN 'http/1.1', expected 'h2'"),
    ("ALPN is not judged on a side that does not report it", "client", ok(alpn="h2"),
     dict(CLIENT_OK, alpn="h2"), SERVER_OK, "pass", "client: ok",
     {"caps": peer_caps(server_reports=["version", "cipher"])}),
    ("the client saw another certificate", "client", OK13,
     dict(CLIENT_OK, peer_cert="server-ecdsa"), SERVER_OK, "fail",
     "client saw certificate 'server-ecdsa', expected 'server-rsa'"),
    ("a resumed session need not show the certificate again", "client",
     ok(resumed=True), dict(CLIENT_OK, peer_cert=None, resumed=True),
     dict(SERVER_OK, resumed=True), "pass", "client: ok"),
    ("the server saw another client certificate", "server", ok(server_sees="client-ecdsa"),
     CLIENT_OK, dict(SERVER_OK, peer_cert="client-rsa"), "fail",
     "server saw client certificate 'client-rsa', expected 'client-ecdsa'"),
    ("the server saw another name", "client", ok(sni="server.sslua.test"), CLIENT_OK,
     dict(SERVER_OK, sni="other.sslua.test"), "fail",
     "server saw SNI 'other.sslua.test', expected 'server.sslua.test'", SNI_FAMILY),
    ("a server that only says '(other)' for a name it does not serve", "client",
     ok(sni="other.sslua.test"), CLIENT_OK, dict(SERVER_OK, sni="(other)"), "pass",
     "server: ok", SNI_FAMILY),
    ("... but not for the name it serves", "client", ok(sni="server.sslua.test"),
     CLIENT_OK, dict(SERVER_OK, sni="(other)"), "fail", "server saw SNI '(other)'",
     SNI_FAMILY),
    ("not resumed", "client", ok(resumed=True), dict(CLIENT_OK, resumed=False),
     SERVER_OK, "fail", "client resumed=False, expected True"),
    ("the server closed without close_notify", "client", OK13,
     dict(CLIENT_OK, close="no close_notify: read:errno=104"), SERVER_OK, "fail",
     "client: no close_notify: read:errno=104"),
    ("the application's host check", "client", ok(hostcheck="mismatch"),
     dict(CLIENT_OK, hostcheck="match"), SERVER_OK, "fail",
     "application host check 'match', expected 'mismatch'"),
    # expected failure
    ("expected to fail, but connected", "client", fail("client", "unknown_ca"), CLIENT_OK,
     SERVER_OK, "fail", "expected client to fail (unknown_ca) but the connection worked"),
    ("the deciding side names the reason, the other received the alert", "client",
     fail("client", "unknown_ca"), err("certificate verify failed"),
     err("tlsv1 alert unknown ca"), "pass", "client: fail@handshake"),
    ("the deciding side names the reason, the other just saw the end", "server",
     fail("server", "version"), err("Connection reset by peer"),
     err("unsupported protocol"), "pass", "server: fail@handshake: unsupported protocol"),
    ("only the alert received tells (the deciding side reported nothing)", "client",
     fail("server", "version"), err("tlsv1 alert protocol version"), None, "pass",
     "server: -"),
    ("the deciding side only received an alert", "client", fail("client", "unknown_ca"),
     err("sslv3 alert unknown ca"), None, "fail",
     "client only received an alert (sslv3 alert unknown ca): the server side decided"),
    ("the deciding side failed for another reason", "client", fail("client", "unknown_ca"),
     err("wrong version number"), None, "fail",
     "client failed for another reason: wrong version number"),
    ("the deciding side did not fail", "client", fail("server", "version"),
     err("tlsv1 alert protocol version"), SERVER_OK, "fail", "server did not fail"),
    ("the other side decided instead", "client", fail("client", "unknown_ca"),
     err("handshake failure"), err("unable to get local issuer certificate"), "fail",
     "server decided instead (unable to get local issuer certificate)"),
    ("the other side saw an unexpected error", "client", fail("client", "unknown_ca"),
     None, err("bad record mac"), "fail", "server saw an unexpected error: bad record mac"),
    ("... which does not matter once the deciding side named the reason", "client",
     fail("client", "unknown_ca"), err("certificate verify failed"), err("bad record mac"),
     "pass", "client: fail@handshake"),
    ("a setup error", "client", fail("client", "invalid_protocol", "setup"),
     err("invalid protocol (sslv3)", "setup"), None, "pass", "fail@setup"),
    ("a setup error expected, a handshake error seen", "client",
     fail("client", "invalid_protocol", "setup"), err("invalid protocol"), None, "fail",
     "expected a setup error, got one at handshake"),
    ("no evidence of the reason", "client", fail("client", "unknown_ca"), None,
     err("connection reset by peer"), "fail", "no evidence of the reason unknown_ca"),
    # expected alerts
    ("ALPN mismatch: the server's alert", "client", fail("server", "alpn"),
     err("tlsv1 alert no application protocol"), err("no application protocol"), "pass",
     "server: fail@handshake: no application protocol"),
    ("a required client certificate not sent: the alert the client received", "server",
     fail("server", "no_client_cert"),
     err("Received fatal alert: certificate_required"),
     err("peer did not return a certificate"), "pass", "peer did not return a certificate"),
    ("a version the peer lacks: the client's alert", "client", fail("server", "version"),
     err("tlsv1 alert protocol version"), err("unsupported protocol"), "pass",
     "client: fail@handshake: tlsv1 alert protocol version"),
]


class JudgeTable(unittest.TestCase):
    def test_rows(self):
        names = Names()
        for row in ROWS:
            name, role, exp, cres, sres, verdict, words = row[:7]
            extra = row[7] if len(row) > 7 else {}
            with self.subTest(name):
                case = make_case(role, exp, extra.get("caps"), extra.get("family", "sanity"),
                                 peer=extra.get("peer"))
                result, detail = judge.evaluate(names, case, cres, sres)
                self.assertEqual(result, verdict, detail)
                self.assertIn(words, detail)


class JudgeWithOracle(unittest.TestCase):
    """The oracle's expectation and realistic texts, judged together."""

    def judge_sslua_client(self, ours_caps, ours, caps, family, want, rows):
        """sslua's client against a peer server: the oracle's expectation
        is `want`, and each (client result, server result) gets its verdict."""
        exp = oracle.expect(side("sslua", ours_caps, **ours),
                            side("fake", caps, identity="server-rsa"))
        self.assertEqual(exp, want)
        case = make_case("client", exp, caps, family, ours=ours)
        for cres, sres, verdict in rows:
            with self.subTest(cres=cres.get("error"), sres=sres and sres.get("error")):
                self.assertEqual(judge.evaluate(Names(), case, cres, sres)[0], verdict)

    def test_version_the_peer_lacks(self):
        self.judge_sslua_client(
            sslua_caps(), {"range": ("1.0", "1.0"), "legacy": True, "protocol": "tlsv1"},
            peer_caps(versions=["1.2", "1.3"]), "version", fail("server", "version"), (
                (err("tlsv1 alert protocol version"), err("unsupported protocol"), "pass"),
                (err("tlsv1 alert protocol version"), None, "pass"),
                (CLIENT_OK, SERVER_OK, "fail")))

    def test_suite_below_sslua_level(self):
        """A pinned suite that sslua's OpenSSL does not use at its level
        (CCM_8 from OpenSSL 3.2 on): its client's own refusal passes,
        whatever the server then saw; a connection fails the case."""
        self.judge_sslua_client(
            sslua_caps_ccm8_at_level0(),
            {"range": ("1.2", "1.2"), "protocol": "tlsv1_2", "cipher12": RSA_CCM8},
            peer_caps(ciphers12=ALL12 + [RSA_CCM8]), "cipher12",
            fail("client", "no_shared_cipher"), (
                (err("no ciphers available"), err("unexpected message"), "pass"),
                (err("no ciphers available"), err("remote error: tls: internal error"), "pass"),
                (err("no ciphers available"), None, "pass"),
                (err("ssl/tls alert handshake failure"), err("no shared cipher"), "fail"),
                (dict(CLIENT_OK, version="1.2"), res(version="1.2"), "fail")))

    def test_every_reason_has_passing_evidence(self):
        """For each reason, the deciding side's own text passes; the same text
        reported as a received alert does not."""
        local_text = {"invalid_protocol": "invalid protocol", "version": "unsupported protocol",
                      "no_shared_cipher": "no shared cipher", "no_shared_group": "no shared group",
                      "unknown_ca": "certificate verify failed", "expired": "certificate has expired",
                      "notyet": "certificate is not yet valid",
                      "purpose": "unsuitable certificate purpose",
                      "hostname": "hostname mismatch", "chain_too_long": "certificate chain too long",
                      "revoked": "certificate revoked", "no_client_cert": "peer did not return a certificate",
                      "bad_client_cert": "certificate verify failed", "alpn": "no application protocol",
                      "unknown_group": 'unknown elliptic curve in "ffdhe9999"'}
        self.assertEqual(set(local_text), set(oracle.REASONS))
        for reason, text in sorted(local_text.items()):
            with self.subTest(reason):
                case = make_case("server", fail("server", reason), peer_caps())
                self.assertEqual(judge.evaluate(Names(), case, None, err(text))[0], "pass")
                received = err("Received alert: " + text)
                self.assertEqual(judge.evaluate(Names(), case, None, received)[0], "fail")


if __name__ == "__main__":
    unittest.main()
