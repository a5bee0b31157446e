"""The case catalogue: families of cases, each written once for both roles.

A family function takes the role of sslua ("client": sslua connects to the
peer's server; "server": the peer's client connects to sslua) and yields
Template objects holding the two sides' neutral configurations; the
expected result comes from oracle.expect() with the peer's capabilities.

Neutral configuration keys (both sides unless noted):
  range (lo, hi)      versions the side accepts
  protocol, options   sslua only: how the range is expressed in LuaSec terms
  legacy              sslua only: @SECLEVEL=0 (needed below TLS 1.2)
  cipher12, cipher13  one pinned suite (IANA name); sslua only
  group               one pinned key exchange group; sslua only
  identity, chain     certificate (file stem in certs/) and whether the
                      intermediates are sent
  verify, require     client: verify the server; server: ask for / require
                      a client certificate
  depth, crl          sslua client only: verify depth, CRL check
  checkhost           sslua client only: host name checked by the application
  sni                 client: server name sent
  sni_name, sni_identity  server: the name that selects another certificate
  alpn                list of protocols
  resume              client: connect twice, resuming the session
  server_pref         sslua server only: cipher_server_preference
  raw_sslv3           peer client only: a hand-made SSLv3 ClientHello
"""

ORDER = ["1.0", "1.1", "1.2", "1.3"]
PIN = {"1.0": "tlsv1", "1.1": "tlsv1_1", "1.2": "tlsv1_2", "1.3": "tlsv1_3"}
NO = {"1.0": "no_tlsv1", "1.1": "no_tlsv1_1", "1.2": "no_tlsv1_2", "1.3": "no_tlsv1_3"}
LABEL = {"1.0": "TLS1.0", "1.1": "TLS1.1", "1.2": "TLS1.2", "1.3": "TLS1.3"}

TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                "TLS_AES_128_CCM_8_SHA256"]
GROUPS13 = ["x25519", "x448", "secp256r1", "secp384r1", "secp521r1",
            "ffdhe2048", "ffdhe3072", "ffdhe4096"]
GROUPS12 = ["x25519", "x448", "secp256r1", "secp384r1", "secp521r1"]


class Template:
    def __init__(self, family, name, ours, peer, features, quick=False, sanity=False,
                 requires=None, bulk=0):
        self.requires = requires      # a peer capability the case needs
        self.bulk = bulk              # bytes in the line exchanged (0: a short ping)
        self.family = family
        self.name = name
        self.ours = ours
        self.peer = peer
        self.features = features
        self.quick = quick
        self.sanity = sanity

    @property
    def case_id(self):
        return "%s/%s" % (self.family, self.name)


def pinned(v):
    cfg = {"protocol": PIN[v], "range": (v, v)}
    if v in ("1.0", "1.1"):
        cfg["legacy"] = True
    return cfg


def by_options(lo, hi):
    opts = [NO[v] for v in ORDER if ORDER.index(v) < ORDER.index(lo)
            or ORDER.index(v) > ORDER.index(hi)]
    cfg = {"protocol": "any", "options": opts, "range": (lo, hi)}
    if lo in ("1.0", "1.1"):
        cfg["legacy"] = True
    return cfg


def ours_default(role):
    """sslua's side when the case is about something else."""
    if role == "client":
        return {"verify": True, "checkhost": "localhost"}
    return {"identity": "server-rsa", "chain": True}


def peer_default(role):
    """The peer's side when the case is about something else."""
    if role == "client":      # the peer is the server
        return {"identity": "server-rsa", "chain": True}
    return {"verify": True}


def merged(*dicts):
    out = {}
    for d in dicts:
        out.update(d)
    return out


# ---------------------------------------------------------------- families

def sanity(role):
    yield Template("sanity", "plain", ours_default(role), peer_default(role),
                   ["sanity"], quick=True, sanity=True)


def versions(role):
    """sslua's version setting (one pinned protocol, or 'any' with no_*
    options for every range) against peers pinned to one version or open."""
    ours_specs = []
    for v in ORDER:
        ours_specs.append(("protocol=%s" % PIN[v], pinned(v), ["protocol " + PIN[v]]))
    for lo in ORDER:
        for hi in ORDER[ORDER.index(lo):]:
            cfg = by_options(lo, hi)
            name = "any+" + (",".join(cfg["options"]) or "none")
            feats = ["option " + o for o in cfg["options"]] or ["protocol any"]
            ours_specs.append((name, cfg, feats))
    # protocol = {min = ..., max = ...} (a range table, where the module has it)
    for lo, hi in (("1.0", "1.3"), ("1.2", "1.3"), ("1.0", "1.2"), ("1.3", "1.3")):
        cfg = {"protocol_range": (PIN[lo], PIN[hi]), "range": (lo, hi)}
        if lo in ("1.0", "1.1"):
            cfg["legacy"] = True
        ours_specs.append(("range=%s..%s" % (PIN[lo], PIN[hi]), cfg, ["protocol range"]))
    peer_specs = [("1.0-1.3", ("1.0", "1.3")), ("1.0", ("1.0", "1.0")),
                  ("1.1", ("1.1", "1.1")), ("1.2", ("1.2", "1.2")), ("1.3", ("1.3", "1.3"))]
    quick_ours = {"protocol=tlsv1_2", "any+none", "any+no_tlsv1,no_tlsv1_1",
                  "any+no_tlsv1,no_tlsv1_1,no_tlsv1_2", "any+no_tlsv1_3"}
    quick_peer = {"1.0-1.3", "1.2"}
    for oname, ocfg, feats in ours_specs:
        for pname, prange in peer_specs:
            ours = merged(ours_default(role), ocfg)
            peer = merged(peer_default(role), {"range": prange})
            common = [v for v in ORDER[ORDER.index(ocfg["range"][0]):
                                       ORDER.index(ocfg["range"][1]) + 1]
                      if prange[0] <= v <= prange[1]]
            f = list(feats)
            if common:
                f.append(LABEL[common[-1]])
            else:
                f.append("version refusal")
            yield Template("version", "%s~peer=%s" % (oname, pname), ours, peer, f,
                           quick=oname in quick_ours and pname in quick_peer)


def sslv3(role):
    if role == "client":
        ours = merged(ours_default(role), {"protocol": "sslv3", "range": ("1.0", "1.3")})
        yield Template("sslv3", "refuse-sslv3-protocol", ours, peer_default(role),
                       ["SSLv3 refusal"], quick=True)
    else:
        yield Template("sslv3", "refuse-sslv3-hello", ours_default(role),
                       {"raw_sslv3": True}, ["SSLv3 refusal"], quick=True,
                       requires="raw_sslv3")


def ciphers12(role, suites):
    """Every TLS 1.2 suite of the local OpenSSL, pinned on sslua's side."""
    quick = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
             "TLS_RSA_WITH_AES_256_CBC_SHA"}
    for suite in suites:
        identity = "server-ecdsa" if "_ECDSA_" in suite else "server-rsa"
        ours = merged(ours_default(role), pinned("1.2"), {"cipher12": suite})
        peer = merged(peer_default(role), {"range": ("1.0", "1.3")})
        if role == "client":
            peer["identity"] = identity
        else:
            ours["identity"] = identity
            if suite.startswith("TLS_DHE_"):
                ours["dhparam"] = True     # LuaSec servers need it for DHE
        yield Template("cipher12", suite, ours, peer, ["TLS1.2 cipher " + suite],
                       quick=suite in quick)


def ciphers13(role):
    for suite in TLS13_SUITES:
        ours = merged(ours_default(role), pinned("1.3"), {"cipher13": suite})
        peer = merged(peer_default(role), {"range": ("1.0", "1.3")})
        yield Template("cipher13", suite, ours, peer, ["TLS1.3 cipher " + suite],
                       quick=suite in ("TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256"))


def groups(role):
    for g in GROUPS13:
        ours = merged(ours_default(role), pinned("1.3"), {"group": g})
        yield Template("group13", g, ours, peer_default(role), ["group " + g],
                       quick=g in ("x25519", "secp384r1"))
    for g in GROUPS12:
        ours = merged(ours_default(role), pinned("1.2"), {"group": g,
                      "cipher12": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})
        yield Template("group12", g, ours, peer_default(role), ["group " + g])


def cert_types(role):
    for t in ("rsa", "ecdsa", "ed25519"):
        for v in ("1.2", "1.3"):
            ours = merged(ours_default(role), pinned(v))
            peer = dict(peer_default(role))
            if role == "client":
                peer["identity"] = "server-" + t
            else:
                ours["identity"] = "server-" + t
            yield Template("certtype", "server-%s~%s" % (t, LABEL[v]), ours, peer,
                           ["server cert " + t], quick=(t != "rsa" and v == "1.3"))
    for t in ("rsa", "ecdsa", "ed25519"):
        for v in ("1.2", "1.3"):
            ident = {"identity": "client-" + t, "chain": True}
            need = {"verify": True, "require": True}
            if role == "client":
                ours = merged(ours_default(role), pinned(v), ident)
                peer = merged(peer_default(role), need)
            else:
                ours = merged(ours_default(role), pinned(v), need)
                peer = merged(peer_default(role), ident)
            yield Template("clientcert", "client-%s~%s" % (t, LABEL[v]), ours, peer,
                           ["client cert " + t], quick=(t == "ecdsa" and v == "1.2"))


SERVER_SCENARIOS = [
    # name, server identity, chain, client extra, features, quick
    ("good", "server-rsa", True, {}, "verify good chain", True),
    ("missing-intermediate", "server-rsa", False, {}, "verify missing intermediate", False),
    ("expired", "expired", True, {}, "verify expired", True),
    ("notyet", "notyet", True, {}, "verify not yet valid", False),
    ("untrusted", "untrusted", True, {}, "verify untrusted issuer", True),
    ("selfsigned", "selfsigned", True, {}, "verify self-signed", False),
    ("wronghost", "wronghost", True, {}, "verify host name", False),
    ("eku-client", "server-eku-client", True, {}, "verify purpose", False),
    ("deep-chain", "deep", True, {}, "verify deep chain", False),
]


def verify_server(role):
    """The client verifies the server's certificate, for every scenario."""
    for name, ident, chain, extra, feature, quick in SERVER_SCENARIOS:
        client = merged({"verify": True, "checkhost": "localhost"}, extra)
        server = {"identity": ident, "chain": chain}
        if role == "client":
            ours, peer = client, server
        else:
            ours, peer = server, {"verify": True}
        yield Template("verify", name, ours, peer, [feature], quick=quick)
    if role == "client":
        # sslua's own verification options
        yield Template("verify", "verify-none-expired", {"verify": False},
                       {"identity": "expired", "chain": True}, ["verify none"], quick=True)
        yield Template("verify", "depth-2-deep-chain",
                       {"verify": True, "depth": 2}, {"identity": "deep", "chain": True},
                       ["verify depth"])
        yield Template("verify", "crl-revoked", {"verify": True, "crl": True},
                       {"identity": "revoked", "chain": True}, ["verify CRL"])
        yield Template("verify", "crl-good", {"verify": True, "crl": True},
                       {"identity": "server-rsa", "chain": True}, ["verify CRL"])
        # host name checked in the handshake (verifyhost, where the module has it)
        for name, host, ident in (("verifyhost-good", "localhost", "server-rsa"),
                                  ("verifyhost-ip", "127.0.0.1", "server-rsa"),
                                  ("verifyhost-wronghost", "localhost", "wronghost"),
                                  ("verifyhost-other-name", "www.sslua.test", "server-rsa")):
            yield Template("verify", name, {"verify": True, "verifyhost": host},
                           {"identity": ident, "chain": True}, ["verify hostname"],
                           quick=name == "verifyhost-wronghost")
    else:
        yield Template("verify", "peer-verify-none-expired", {"identity": "expired", "chain": True},
                       {"verify": False}, ["verify none"], quick=True)


CLIENT_POLICIES = [
    # name, server verify, require, client identity, versions, features, quick
    ("none-sends-cert", False, False, "client-rsa", ["1.3"], "client cert not requested", False),
    ("optional-no-cert", True, False, None, ["1.2", "1.3"], "client cert optional", True),
    ("optional-good", True, False, "client-rsa", ["1.3"], "client cert optional", False),
    ("required-no-cert", True, True, None, ["1.2", "1.3"], "client cert required", True),
    ("required-good", True, True, "client-ecdsa", ["1.3"], "client cert required", True),
    ("required-untrusted", True, True, "untrusted", ["1.2", "1.3"], "client cert untrusted",
     False),
    ("required-selfsigned", True, True, "selfsigned", ["1.3"], "client cert untrusted", False),
    ("required-eku-server", True, True, "client-eku-server", ["1.2", "1.3"],
     "client cert purpose", False),
    ("optional-untrusted", True, False, "untrusted", ["1.3"], "client cert untrusted", False),
]


def client_policies(role):
    for name, verify, require, ident, vs, feature, quick in CLIENT_POLICIES:
        for v in vs:
            server = {"identity": "server-rsa", "chain": True, "verify": verify,
                      "require": require}
            client = {"verify": True}
            if ident:
                client.update(identity=ident, chain=True)
            if role == "client":
                ours = merged(client, pinned(v), {"checkhost": "localhost"})
                peer = server
            else:
                ours = merged(server, pinned(v))
                peer = client
            yield Template("clientpolicy", "%s~%s" % (name, LABEL[v]), ours, peer, [feature],
                           quick=quick and v == "1.3")


def sni(role):
    server = {"identity": "server-rsa", "chain": True, "sni_name": "server.sslua.test",
              "sni_identity": "server-ecdsa"}
    for name, sent, quick in (("match", "server.sslua.test", True),
                              ("other-name", "other.sslua.test", False),
                              ("none", None, False)):
        client = {"verify": False}
        if sent:
            client["sni"] = sent
        if role == "client":
            ours, peer = client, server
        else:
            ours, peer = {"identity": "server-rsa", "chain": True}, client
        yield Template("sni", name, ours, peer, ["SNI"], quick=quick)


def alpn(role):
    lists = [
        ("single-overlap", ["h2", "http/1.1"], ["http/1.1", "spdy/3"], True),
        ("preference", ["h2", "http/1.1"], ["http/1.1", "h2"], False),
        ("mismatch", ["h2"], ["http/1.1"], False),
        ("server-none", ["h2", "http/1.1"], None, False),
    ]
    for name, clist, slist, quick in lists:
        client = {"verify": True, "alpn": clist}
        server = {"identity": "server-rsa", "chain": True}
        if slist:
            server["alpn"] = slist
        if role == "client":
            ours, peer = merged(client, {"checkhost": "localhost"}), server
        else:
            ours, peer = server, client
        yield Template("alpn", name, ours, peer, ["ALPN"], quick=quick)


def resume(role):
    for v in ("1.2", "1.3"):
        client = {"verify": True, "resume": True}
        server = {"identity": "server-rsa", "chain": True, "sessioncache": True}
        if role == "client":
            ours, peer = merged(client, pinned(v)), merged(server, {"range": (v, v)})
        else:
            ours, peer = merged(server, pinned(v)), merged(client, {"range": (v, v)})
        yield Template("resume", LABEL[v], ours, peer, ["resumption"], quick=(v == "1.3"))


def server_preference(role):
    if role != "server":
        return
    # DHE without a dhparam function: refused, as in LuaSec
    ours = merged(ours_default(role), pinned("1.2"),
                  {"cipher12": "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"})
    yield Template("option", "dhe-without-dhparam", ours, peer_default(role),
                   ["option dhparam"])
    ours = merged(ours, {"dhparam": True})
    yield Template("option", "dhe-with-dhparam", ours, peer_default(role),
                   ["option dhparam"], quick=True)
    ours = merged(ours_default(role), pinned("1.2"), {
        "server_pref": True,
        "ciphers_raw": "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:"
                       "ECDHE-RSA-AES256-GCM-SHA384",
        "server_list12": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]})
    yield Template("option", "cipher_server_preference~TLS1.2", ours, peer_default(role),
                   ["option cipher_server_preference"], quick=True)
    ours = merged(ours_default(role), pinned("1.3"), {
        "server_pref": True,
        "ciphersuites_raw": "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:"
                            "TLS_AES_128_GCM_SHA256",
        "server_list13": ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384",
                          "TLS_AES_128_GCM_SHA256"]})
    yield Template("option", "cipher_server_preference~TLS1.3", ours, peer_default(role),
                   ["option cipher_server_preference"])


def bulk(role):
    """Application data over several records: a 40000-byte line each way,
    in TLS 1.2 and 1.3."""
    for v in ("1.2", "1.3"):
        ours = merged(ours_default(role), pinned(v))
        yield Template("bulk", "40000-bytes~" + LABEL[v], ours, peer_default(role),
                       ["bulk data"], quick=(v == "1.3"), requires="long_lines", bulk=40000)


def catalogue(role, suites12):
    """Every template for one role, sanity first."""
    out = list(sanity(role))
    for fam in (versions, sslv3, ciphers13, groups, cert_types, verify_server,
                client_policies, sni, alpn, resume, server_preference, bulk):
        out.extend(fam(role))
    out.extend(ciphers12(role, suites12))
    return out
