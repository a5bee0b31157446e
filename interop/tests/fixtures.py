"""What the unit tests share: the import path to interop/ (and bench/),
and small stand-ins for a peer, its capabilities and the cipher table."""

import os
import sys

sys.dont_write_bytecode = True      # no __pycache__ in the work tree

TESTS = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.dirname(TESTS)
ROOT = os.path.dirname(INTEROP)
for path in (os.path.join(ROOT, "bench"), INTEROP):
    if path not in sys.path:
        sys.path.insert(0, path)

import cases  # noqa: E402
import matrix  # noqa: E402
import oracle  # noqa: E402

ECDHE_RSA_GCM = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
ECDHE_ECDSA_GCM = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
DHE_RSA_GCM = "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
RSA_CBC = "TLS_RSA_WITH_AES_128_CBC_SHA"
RSA_CCM8 = "TLS_RSA_WITH_AES_128_CCM_8"
CCM8_13 = "TLS_AES_128_CCM_8_SHA256"
ALL12 = [ECDHE_RSA_GCM, ECDHE_ECDSA_GCM, DHE_RSA_GCM, RSA_CBC]
ALL13 = ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"]
GROUPS = ["x25519", "secp256r1", "x448", "secp521r1", "secp384r1", "ffdhe2048"]
REPORTS = ["version", "cipher", "group", "alpn", "peer_cert", "sni", "resumed"]


def sslua_caps(**changes):
    """sslua on an OpenSSL that uses every suite here at its default level
    (as 3.0 and 3.1 do), with `changes` on top."""
    every = {"ciphers12": ALL12 + [RSA_CCM8], "ciphers13": ALL13 + [CCM8_13]}
    caps = dict(oracle.SSLUA_CAPS, default12=list(ALL12), default13=list(ALL13),
                legacy=dict(every), groups=list(GROUPS),
                pinnable_groups=sorted(set(GROUPS + cases.GROUPS13 + cases.GROUPS12)),
                **every)
    caps.update(changes)
    return caps


def sslua_caps_ccm8_at_level0():
    """sslua on OpenSSL 3.2 and later: the CCM_8 suites only at level 0."""
    return sslua_caps(ciphers12=list(ALL12), ciphers13=list(ALL13))


def peer_caps(**changes):
    """A peer that can do everything (like the openssl or python drivers),
    with `changes` on top."""
    caps = {"versions": ["1.0", "1.1", "1.2", "1.3"], "ciphers12": list(ALL12),
            "ciphers13": list(ALL13), "groups": list(GROUPS),
            "sigs": ["rsa", "ecdsa", "ed25519"], "dhe_server": True,
            "alpn_mismatch": "alert", "client_resume": True, "sni_switch": True,
            "server_reports": list(REPORTS), "client_reports": list(REPORTS)}
    caps.update(changes)
    return caps


def side(stack, caps, **cfg):
    return {"stack": stack, "caps": caps, "cfg": cfg}


class FakePeer:
    """A peer spec as peers.py makes them, for Case."""

    def __init__(self, caps=None, name="fake"):
        self.name, self.version = name, "fake 1.0"
        self.caps = caps if caps is not None else peer_caps()


class Names:
    """The cipher table's iana() for the names used here."""
    OPENSSL = {"ECDHE-RSA-AES128-GCM-SHA256": ECDHE_RSA_GCM,
               "ECDHE-ECDSA-AES128-GCM-SHA256": ECDHE_ECDSA_GCM}

    def iana(self, name):
        return self.OPENSSL.get(name, name)


def make_case(role, expected, peer_caps_=None, family="sanity", ours=None, peer=None,
              peer_name="fake"):
    tpl = cases.Template(family, "t", ours or {}, peer or {}, [family])
    spec = FakePeer(peer_caps_, peer_name)
    return matrix.Case(spec, role, "blocking", tpl, expected,
                       {"stack": "sslua", "caps": sslua_caps(), "cfg": tpl.ours},
                       {"stack": spec.name, "caps": spec.caps, "cfg": tpl.peer})
