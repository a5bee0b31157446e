"""oracle.expect(), row by row: each row is a client side, a server side
and what the oracle must expect of them."""

import re
import unittest

from fixtures import (ALL12, ALL13, CCM8_13, DHE_RSA_GCM, ECDHE_ECDSA_GCM, ECDHE_RSA_GCM,
                      RSA_CBC, RSA_CCM8, peer_caps, side, sslua_caps, sslua_caps_ccm8_at_level0)
import oracle

GNUTLS = dict(supported_versions_needs_13=True, server_checks_client_purpose=False,
              alpn_precedence="client")


def sslua(caps=None, **cfg):
    return side("sslua", caps or sslua_caps(), **cfg)


# sslua on OpenSSL 3.2 and later, and a peer that has the CCM_8 suites
LEVEL2 = sslua_caps_ccm8_at_level0()
CCM8_PEER = peer_caps(ciphers12=ALL12 + [RSA_CCM8], ciphers13=ALL13 + [CCM8_13])


def peer(caps=None, **cfg):
    return side("peer", caps or peer_caps(), **cfg)


def fail(side_, reason, stage="handshake"):
    return {"status": "fail", "side": side_, "reason": reason, "stage": stage}


def refused(side_, reason, *classes):
    """A verification failure: the reason and the reason classes."""
    return dict(fail(side_, reason), classes=classes)


SERVER = dict(identity="server-rsa", chain=True)

# name, client, server, expected (a failure in full; a success by the keys given)
ROWS = [
    # protocol versions
    ("open ends meet at TLS 1.3", sslua(verify=True), peer(**SERVER),
     {"status": "ok", "version": "1.3", "cipher": None, "group": None, "alpn": None,
      "sni": None, "client_sees": "server-rsa", "server_sees": None, "resumed": None,
      "hostcheck": None}),
    ("sslua pinned to TLS 1.2", sslua(range=("1.2", "1.2")), peer(**SERVER),
     {"status": "ok", "version": "1.2", "cipher": None}),
    ("below TLS 1.2 sslua needs @SECLEVEL=0: without it, no version to offer",
     sslua(range=("1.0", "1.0")), peer(**SERVER), fail("client", "version")),
    ("a version the peer lacks: sslua's TLS 1.0 hello, a server without 1.0 and 1.1",
     sslua(range=("1.0", "1.0"), legacy=True),
     peer(peer_caps(versions=["1.2", "1.3"]), **SERVER), fail("server", "version")),
    ("a version the peer lacks: its open range is cut to what it has",
     sslua(), peer(peer_caps(versions=["1.0", "1.1", "1.2"]), range=("1.0", "1.3"), **SERVER),
     {"status": "ok", "version": "1.2"}),
    ("a version the peer lacks: a client without TLS 1.3, sslua's server TLS 1.3 only",
     peer(peer_caps(versions=["1.0", "1.1", "1.2"]), range=("1.0", "1.3")),
     sslua(range=("1.3", "1.3"), **SERVER), fail("server", "version")),
    ("a TLS 1.3 client lists its versions and the server refuses",
     peer(range=("1.2", "1.3")), sslua(range=("1.0", "1.1"), legacy=True, **SERVER),
     fail("server", "version")),
    ("a server that reads that list only with TLS 1.3 on answers 1.1: the client refuses",
     sslua(range=("1.2", "1.3")), peer(peer_caps(**GNUTLS), range=("1.0", "1.1"), **SERVER),
     fail("client", "version")),
    ("... but to a TLS 1.3-only client it has no suite to answer with",
     sslua(range=("1.3", "1.3")), peer(peer_caps(**GNUTLS), range=("1.0", "1.2"), **SERVER),
     fail("server", "version")),
    ("sslua refuses SSLv3 at setup, as client", sslua(protocol="sslv3"), peer(**SERVER),
     fail("client", "invalid_protocol", "setup")),
    ("sslua refuses SSLv3 at setup, as server", peer(), sslua(protocol="sslv3", **SERVER),
     fail("server", "invalid_protocol", "setup")),
    ("a hand-made SSLv3 hello is refused by the server", peer(raw_sslv3=True),
     sslua(**SERVER), fail("server", "version")),
    # certificate types and suites
    ("an Ed25519 certificate for a client without Ed25519 signatures",
     peer(peer_caps(sigs=["rsa", "ecdsa"])), sslua(identity="server-ed25519"),
     fail("server", "no_shared_cipher")),
    ("an Ed25519 certificate in TLS 1.1", sslua(range=("1.1", "1.1"), legacy=True),
     peer(identity="server-ed25519"), fail("server", "no_shared_cipher")),
    ("a TLS 1.3 suite pinned on sslua", sslua(range=("1.3", "1.3"),
                                              cipher13="TLS_CHACHA20_POLY1305_SHA256"),
     peer(**SERVER), {"status": "ok", "version": "1.3",
                      "cipher": "TLS_CHACHA20_POLY1305_SHA256"}),
    ("a TLS 1.3 suite the peer lacks", sslua(range=("1.3", "1.3"),
                                             cipher13="TLS_AES_128_CCM_8_SHA256"),
     peer(**SERVER), fail("server", "no_shared_cipher")),
    ("a TLS 1.2 suite pinned on sslua", sslua(range=("1.2", "1.2"), cipher12=ECDHE_RSA_GCM),
     peer(**SERVER), {"status": "ok", "version": "1.2", "cipher": ECDHE_RSA_GCM}),
    ("an ECDSA suite with an RSA certificate", sslua(range=("1.2", "1.2"),
                                                     cipher12=ECDHE_ECDSA_GCM),
     peer(**SERVER), fail("server", "no_shared_cipher")),
    ("server preference, TLS 1.2: the server's first usable suite", peer(),
     sslua(range=("1.2", "1.2"), server_pref=True,
           server_list12=[ECDHE_ECDSA_GCM, RSA_CBC, ECDHE_RSA_GCM], **SERVER),
     {"status": "ok", "version": "1.2", "cipher": RSA_CBC}),
    ("server preference, TLS 1.3", peer(),
     sslua(range=("1.3", "1.3"), server_pref=True,
           server_list13=["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"], **SERVER),
     {"status": "ok", "version": "1.3", "cipher": "TLS_AES_128_GCM_SHA256"}),
    # suites below sslua's security level (its OpenSSL's `openssl ciphers -s`)
    ("a TLS 1.2 suite sslua uses at its level", sslua(range=("1.2", "1.2"), cipher12=RSA_CCM8),
     peer(CCM8_PEER, **SERVER), {"status": "ok", "version": "1.2", "cipher": RSA_CCM8}),
    ("... below its level: sslua's client sends no hello (no ciphers available)",
     sslua(LEVEL2, range=("1.2", "1.2"), cipher12=RSA_CCM8), peer(CCM8_PEER, **SERVER),
     fail("client", "no_shared_cipher")),
    ("... also where the peer lacks the suite: the client decides first",
     sslua(LEVEL2, range=("1.2", "1.2"), cipher12=RSA_CCM8), peer(**SERVER),
     fail("client", "no_shared_cipher")),
    ("... sslua's server finds no shared suite", peer(CCM8_PEER),
     sslua(LEVEL2, range=("1.2", "1.2"), cipher12=RSA_CCM8, **SERVER),
     fail("server", "no_shared_cipher")),
    ("... at @SECLEVEL=0 (a legacy case) the suite is used",
     sslua(LEVEL2, range=("1.2", "1.2"), legacy=True, cipher12=RSA_CCM8),
     peer(CCM8_PEER, **SERVER), {"status": "ok", "version": "1.2", "cipher": RSA_CCM8}),
    ("a TLS 1.3 suite sslua uses at its level", sslua(range=("1.3", "1.3"), cipher13=CCM8_13),
     peer(CCM8_PEER, **SERVER), {"status": "ok", "version": "1.3", "cipher": CCM8_13}),
    ("... below its level: sslua's client sends no hello",
     sslua(LEVEL2, range=("1.3", "1.3"), cipher13=CCM8_13), peer(CCM8_PEER, **SERVER),
     fail("client", "no_shared_cipher")),
    ("... even with TLS 1.2 suites: none for its highest version",
     sslua(LEVEL2, range=("1.2", "1.3"), cipher13=CCM8_13), peer(CCM8_PEER, **SERVER),
     fail("client", "no_shared_cipher")),
    ("... sslua's server finds no shared suite", peer(CCM8_PEER),
     sslua(LEVEL2, range=("1.3", "1.3"), cipher13=CCM8_13, **SERVER),
     fail("server", "no_shared_cipher")),
    ("sslua's default TLS 1.3 suites are those its OpenSSL lists",
     sslua(sslua_caps(default13=["TLS_AES_128_GCM_SHA256"]), range=("1.3", "1.3")),
     peer(**SERVER), {"status": "ok", "version": "1.3"}),
    ("... and without one it sends no hello",
     sslua(sslua_caps(default13=[CCM8_13], ciphers13=list(ALL13)), range=("1.3", "1.3")),
     peer(CCM8_PEER, **SERVER), fail("client", "no_shared_cipher")),
    ("DHE on an sslua server without dhparam is refused", peer(),
     sslua(range=("1.2", "1.2"), cipher12=DHE_RSA_GCM, **SERVER),
     fail("server", "no_shared_cipher")),
    ("DHE on an sslua server with dhparam", peer(),
     sslua(range=("1.2", "1.2"), cipher12=DHE_RSA_GCM, dhparam=True, **SERVER),
     {"status": "ok", "version": "1.2", "cipher": DHE_RSA_GCM}),
    # groups
    ("ECDHE without a shared curve: a group refusal", peer(),
     sslua(range=("1.2", "1.2"), cipher12=ECDHE_RSA_GCM, group="ffdhe3072", **SERVER),
     fail("server", "no_shared_group")),
    ("a TLS 1.3 group the peer lacks", sslua(range=("1.3", "1.3"), group="ffdhe4096"),
     peer(**SERVER), fail("server", "no_shared_group")),
    ("a TLS 1.3 group both have", sslua(range=("1.3", "1.3"), group="x448"), peer(**SERVER),
     {"status": "ok", "group": "x448"}),
    ("a group the peer client's defaults lack (OpenSSL 3.5's: no ffdhe4096)",
     peer(), sslua(range=("1.3", "1.3"), group="ffdhe4096", **SERVER),
     fail("server", "no_shared_group")),
    ("... a client whose defaults have it", peer(peer_caps(groups=["x25519", "ffdhe4096"])),
     sslua(range=("1.3", "1.3"), group="ffdhe4096", **SERVER),
     {"status": "ok", "group": "ffdhe4096"}),
    ("a group sslua's OpenSSL does not take: refused at setup, as client",
     sslua(sslua_caps(pinnable_groups=["x25519"]), range=("1.3", "1.3"), group="x448"),
     peer(**SERVER), fail("client", "unknown_group", "setup")),
    ("... and as server", peer(),
     sslua(sslua_caps(pinnable_groups=["x25519"]), range=("1.3", "1.3"), group="x448",
           **SERVER), fail("server", "unknown_group", "setup")),
    ("TLS 1.2 ECDHE needs a curve among sslua's default groups",
     sslua(sslua_caps(groups=["ffdhe2048"]), range=("1.2", "1.2"), cipher12=ECDHE_RSA_GCM),
     peer(**SERVER), fail("server", "no_shared_cipher")),
    # the client verifies the server
    ("expired server certificate", sslua(verify=True), peer(identity="expired"),
     refused("client", "expired", "expired")),
    ("not yet valid", peer(verify=True), sslua(identity="notyet", chain=True),
     refused("client", "notyet", "not_yet_valid")),
    ("untrusted issuer: the rogue CA comes in the chain", sslua(verify=True),
     peer(identity="untrusted"), refused("client", "unknown_ca", "untrusted_root")),
    ("... without the chain the issuer is not found", sslua(verify=True),
     peer(identity="untrusted", chain=False), refused("client", "unknown_ca", "unknown_issuer")),
    ("a self-signed server certificate", peer(verify=True),
     sslua(identity="selfsigned", chain=True), refused("client", "unknown_ca", "self_signed")),
    ("missing intermediate", sslua(verify=True), peer(identity="server-rsa", chain=False),
     refused("client", "unknown_ca", "unknown_issuer")),
    ("wrong purpose", sslua(verify=True), peer(identity="server-eku-client"),
     refused("client", "purpose", "bad_purpose")),
    ("verify none accepts an expired certificate", sslua(verify=False),
     peer(identity="expired"), {"status": "ok", "client_sees": "expired"}),
    ("sslua checks no host name in the handshake: the application's check says mismatch",
     sslua(verify=True, checkhost="localhost"), peer(identity="wronghost"),
     {"status": "ok", "hostcheck": "mismatch"}),
    ("... unless verifyhost is set", sslua(verify=True, verifyhost="localhost"),
     peer(identity="wronghost"), refused("client", "hostname", "hostname_mismatch")),
    ("verifyhost with a name the certificate lacks", sslua(verify=True,
                                                           verifyhost="www.sslua.test"),
     peer(**SERVER), refused("client", "hostname", "hostname_mismatch")),
    ("verifyhost with the certificate's IP address", sslua(verify=True,
                                                           verifyhost="127.0.0.1"),
     peer(**SERVER), {"status": "ok"}),
    ("a peer client checks the host name itself", peer(verify=True),
     sslua(identity="wronghost"), refused("client", "hostname", "hostname_mismatch")),
    ("a revoked certificate passes without a CRL", sslua(verify=True),
     peer(identity="revoked"), {"status": "ok"}),
    ("... and fails with one", sslua(verify=True, crl=True), peer(identity="revoked"),
     refused("client", "revoked", "revoked")),
    ("a deep chain within the default depth", sslua(verify=True), peer(identity="deep"),
     {"status": "ok", "client_sees": "deep"}),
    ("a deep chain beyond depth 2", sslua(verify=True, depth=2), peer(identity="deep"),
     refused("client", "chain_too_long", "chain_too_long")),
    # the server asks for a client certificate
    ("required, none sent", peer(verify=True), sslua(verify=True, require=True, **SERVER),
     fail("server", "no_client_cert")),
    ("optional, none sent", peer(verify=True), sslua(verify=True, **SERVER),
     {"status": "ok", "server_sees": None}),
    ("required and good", peer(verify=True, identity="client-ecdsa"),
     sslua(verify=True, require=True, **SERVER),
     {"status": "ok", "server_sees": "client-ecdsa"}),
    ("not requested: the server sees none", peer(identity="client-rsa"), sslua(**SERVER),
     {"status": "ok", "server_sees": None}),
    ("a client certificate for servers only", sslua(identity="client-eku-server"),
     peer(verify=True, require=True, **SERVER), refused("server", "purpose", "bad_purpose")),
    ("... accepted by a server that does not check the purpose",
     sslua(identity="client-eku-server"),
     peer(peer_caps(**GNUTLS), verify=True, require=True, **SERVER),
     {"status": "ok", "server_sees": "client-eku-server"}),
    ("an untrusted client certificate (also of the wrong purpose)",
     sslua(identity="untrusted"), peer(verify=True, **SERVER),
     refused("server", "bad_client_cert", "untrusted_root", "bad_purpose")),
    ("a self-signed client certificate (also of the wrong purpose)",
     peer(identity="selfsigned"), sslua(verify=True, require=True, **SERVER),
     refused("server", "bad_client_cert", "self_signed", "bad_purpose")),
    ("... is an unknown CA to a server that does not check the purpose",
     sslua(identity="untrusted"), peer(peer_caps(**GNUTLS), verify=True, **SERVER),
     refused("server", "unknown_ca", "untrusted_root")),
    # SNI, ALPN, resumption
    ("SNI selects the other certificate where the server can switch",
     sslua(sni="server.sslua.test"),
     peer(sni_name="server.sslua.test", sni_identity="server-ecdsa", **SERVER),
     {"status": "ok", "sni": "server.sslua.test", "client_sees": "server-ecdsa"}),
    ("sslua's server does not switch certificates", peer(sni="server.sslua.test"),
     sslua(sni_name="server.sslua.test", sni_identity="server-ecdsa", **SERVER),
     {"status": "ok", "sni": "server.sslua.test", "client_sees": "server-rsa"}),
    ("ALPN: the server's preference", peer(alpn=["h2", "http/1.1"]),
     sslua(alpn=["http/1.1", "h2"], **SERVER), {"status": "ok", "alpn": "http/1.1"}),
    ("ALPN: a server that takes the client's preference", sslua(alpn=["h2", "http/1.1"]),
     peer(peer_caps(**GNUTLS), alpn=["http/1.1", "h2"], **SERVER),
     {"status": "ok", "alpn": "h2"}),
    ("ALPN mismatch: a server that sends an alert", sslua(alpn=["h2"]),
     peer(alpn=["http/1.1"], **SERVER), fail("server", "alpn")),
    ("ALPN mismatch: sslua's server goes on without", peer(alpn=["h2"]),
     sslua(alpn=["http/1.1"], **SERVER), {"status": "ok", "alpn": None}),
    ("resumption where the client can", sslua(resume=True), peer(**SERVER),
     {"status": "ok", "resumed": True}),
    ("a client that cannot resume", peer(peer_caps(client_resume=False), resume=True),
     sslua(**SERVER), {"status": "ok", "resumed": False}),
]


class OracleTable(unittest.TestCase):
    def test_rows(self):
        for name, client, server, want in ROWS:
            with self.subTest(name):
                got = oracle.expect(client, server)
                if want["status"] == "fail":
                    self.assertEqual(got, want)
                else:
                    self.assertEqual({k: got.get(k) for k in want}, want)


class OracleSummary(unittest.TestCase):
    def test_rows(self):
        for exp, text in (
                (fail("server", "version"), "fail(server:version)"),
                (refused("server", "bad_client_cert", "untrusted_root", "bad_purpose"),
                 "fail(server:bad_client_cert class=untrusted_root|bad_purpose)"),
                ({"status": "ok", "version": "1.3"}, "ok v1.3"),
                ({"status": "ok", "version": "1.2", "cipher": RSA_CBC, "group": "x25519",
                  "alpn": "h2", "sni": "a.test", "resumed": True, "hostcheck": "match"},
                 "ok v1.2 cipher=%s group=x25519 alpn=h2 sni=a.test resumed hostcheck=match"
                 % RSA_CBC)):
            with self.subTest(text):
                self.assertEqual(oracle.summary(exp), text)


class Reasons(unittest.TestCase):
    def test_every_reason_has_both_texts(self):
        for name, reason in oracle.REASONS.items():
            with self.subTest(name):
                self.assertEqual(set(reason), {"local", "remote"})
                for rx in reason.values():
                    re.compile(rx, re.I)

    def test_received_alert_tells_alerts_from_decisions(self):
        for text, received in (("tlsv1 alert unknown ca", True),
                               ("ssl/tls alert handshake failure", True),
                               ("Received fatal alert: handshake_failure", True),
                               ("remote error: tls: bad certificate", True),
                               ("certificate verify failed", False),
                               ("no shared cipher", False)):
            with self.subTest(text):
                self.assertEqual(bool(oracle.RECEIVED_ALERT.search(text)), received)


if __name__ == "__main__":
    unittest.main()
