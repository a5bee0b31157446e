"""The case matrix: for every available peer, role and variant, the
templates of cases.py that apply, each with the oracle's expectation."""

import cases as cases_mod
import oracle
from sslua_runner import sslua_caps

MESSAGE = "sslua-interop-ping-0123456789"
VARIANTS = ["blocking", "nonblocking", "relay"]
ROLES = ["client", "server"]


def message_for(tpl):
    """The line a case sends: the short ping, or `bulk` bytes of it."""
    size = getattr(tpl, "bulk", 0)
    if not size:
        return MESSAGE
    return (MESSAGE * (size // len(MESSAGE) + 1))[:size]


class Case:
    def __init__(self, peer, role, variant, tpl, expected, ours_side, peer_side):
        self.peer = peer
        self.role = role
        self.variant = variant
        self.tpl = tpl
        self.expected = expected
        self.ours_side = ours_side
        self.peer_side = peer_side

    @property
    def key(self):
        return "%s|%s|%s|%s" % (self.peer.name, self.role, self.variant, self.tpl.case_id)

    def row(self, result, detail, cres=None, sres=None, duration=0):
        """The case's line in the results (report.py, baseline.py)."""
        return {
            "peer": self.peer.name, "peer_version": self.peer.version, "role": self.role,
            "variant": self.variant, "case": self.tpl.case_id, "family": self.tpl.family,
            "features": self.tpl.features, "expected": oracle.summary(self.expected),
            "result": result, "detail": detail, "duration": round(duration, 3),
            "client": cres, "server": sres, "key": self.key, "quick": self.tpl.quick,
        }

    def closing_copy(self):
        """The batch's closing plain handshake: this sanity case again."""
        tpl = cases_mod.Template("sanity", "plain-last", self.tpl.ours, self.tpl.peer,
                                 ["sanity"], sanity=True)
        return Case(self.peer, self.role, self.variant, tpl, self.expected, self.ours_side,
                    self.peer_side)


def build_cases(env, specs, quick, families, variants):
    """[(spec, role, variant, [Case])]: one batch per peer, role and variant."""
    ours_caps = sslua_caps(env)
    sweep = env.ciphers.sweep12()
    batches = []
    for spec in specs:
        if not spec.available:
            continue
        for role in ROLES:
            templates = cases_mod.catalogue(role, sweep)
            if quick:
                templates = [t for t in templates if t.quick]
            if families:
                templates = [t for t in templates if t.sanity or t.family in families]
            peer_role = "server" if role == "client" else "client"
            templates = [t for t in templates if not t.requires
                         or spec.caps.get(t.requires) in (True, peer_role)]
            for variant in variants:
                batch = []
                for tpl in templates:
                    ours = {"stack": "sslua", "caps": ours_caps, "cfg": tpl.ours}
                    peer = {"stack": spec.name, "caps": spec.caps, "cfg": tpl.peer}
                    client, server = (ours, peer) if role == "client" else (peer, ours)
                    exp = oracle.expect(client, server)
                    batch.append(Case(spec, role, variant, tpl, exp, ours, peer))
                batches.append((spec, role, variant, batch))
    return batches
