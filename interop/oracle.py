"""The oracle: the expected outcome of a case, computed from the two sides'
configurations and the capabilities of the two TLS stacks, the way
OpenSSL's ssl-tests derive their version matrix: nothing here is a table of
recorded results.

A side is a dict:
  stack    "sslua" or a peer name; caps: the stack's capabilities (the
           peer's "hello" answer, or SSLUA_CAPS)
  cfg      the neutral configuration (see cases.py): range, legacy,
           cipher12, cipher13, group, identity, chain, verify, require,
           depth, crl, checkhost, hostname, sni, sni_name, sni_identity,
           alpn, resume, server_pref, protocol (sslua's pinned protocol)

expect(client, server) returns a dict:
  {"status": "ok", "version": "1.3", "cipher": IANA or None, "group": ...,
   "alpn": name or None, "sni": name or None, "client_sees": OU of the
   server certificate, "server_sees": OU of the client certificate or
   None, "resumed": bool or None, "hostcheck": "match"/"mismatch"/None}
or
  {"status": "fail", "side": "client"|"server", "reason": a key of REASONS,
   "stage": "setup"|"handshake"}
with, where that side fails to verify the other's certificate, "classes":
the reason classes (verify_classes.py) its report may name - one, or each
defect of a certificate that has two.
"""

import re

from verify_classes import ordered, reason_of

ORDER = ["1.0", "1.1", "1.2", "1.3"]

# Reasons: what the side that detects the problem says ("local"), and what
# the other side receives ("remote": the alert). Both are regular
# expressions over the error texts of every stack (OpenSSL and its users,
# GnuTLS, JSSE, Go), matched case-insensitively.
REASONS = {
    "invalid_protocol": {
        "local": r"invalid protocol",
        "remote": r"$^",
    },
    "version": {
        "local": r"unsupported protocol|wrong version number|version too low|no protocols "
                 r"available|unsupported version|protocol version|not supported|"
                 r"No appropriate protocol|ProtocolVersion|protocol_version|"
                 r"illegal or unsupported version|no supported version|"
                 r"unsupported or disabled|no shared cipher|client requested protocol|"
                 r"No supported cipher suites|"
                 r"handshake failure|client offered only unsupported versions|"
                 r"received alert protocol version|server selected unsupported protocol",
        "remote": r"protocol version|protocol_version|ProtocolVersion|handshake failure|"
                  r"handshake_failure|insufficient security|illegal or unsupported version|"
                  r"Received alert \[70\]|Received alert \[40\]|unsupported version|"
                  r"Received alert '?70|Received alert '?40",
    },
    "no_shared_cipher": {
        "local": r"no shared cipher|no cipher suite supported|no cipher match|"
                 r"no ciphers available|no appropriate cipher|No appropriate protocol|"
                 r"Could not negotiate a supported cipher|insufficient security|"
                 r"no suitable signature|no shared signature|no suitable key share|"
                 r"handshake failure|unsupported cipher|no_cipher|No supported cipher suites|"
                 r"no cipher suites in common|no cipher suite supported",
        "remote": r"handshake failure|handshake_failure|insufficient security|"
                  r"Received alert \[40\]|Received alert '?40|illegal parameter|"
                  r"Received alert \[71\]",
    },
    "no_shared_group": {
        "local": r"no shared group|no suitable key share|no ECDHE curve|no common|"
                 r"no shared cipher|handshake failure|no suitable|insufficient security|"
                 r"Could not negotiate|No supported|unsupported group|"
                 r"illegal parameter|bad key share|no cipher suite supported|"
                 r"no cipher suites in common|No supported cipher suites",
        "remote": r"handshake failure|handshake_failure|insufficient security|"
                  r"illegal parameter|Received alert \[40\]|Received alert '?40|"
                  r"Received alert \[47\]",
    },
    "unknown_ca": {
        "local": r"certificate verify failed|unable to get local issuer|self.signed|"
                 r"unknown (authority|ca)|issuer is unknown|NOT trusted|"
                 r"unable to find valid certification path|PKIX path|"
                 r"UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER|SELF_SIGNED|"
                 r"signed by unknown authority|Error in the certificate|"
                 r"unable to verify the first certificate",
        "remote": r"unknown ca|unknown_ca|bad certificate|bad_certificate|certificate unknown|"
                  r"certificate_unknown|Received alert \[4[268]\]|Received alert '?4[268]|"
                  r"access denied|decrypt error",
    },
    "expired": {
        "local": r"expired|CERT_HAS_EXPIRED|NotAfter|validity check failed|"
                 r"certificate verify failed",
        "remote": r"certificate expired|certificate_expired|bad certificate|certificate unknown|"
                  r"certificate_unknown|Received alert \[4[256]\]|Received alert '?4[256]",
    },
    "notyet": {
        "local": r"not yet valid|CERT_NOT_YET_VALID|NotBefore|not valid yet|"
                 r"validity check failed|not activated|certificate verify failed",
        "remote": r"certificate expired|certificate_expired|bad certificate|certificate unknown|"
                  r"certificate_unknown|Received alert \[4[256]\]|Received alert '?4[256]",
    },
    "purpose": {
        "local": r"unsuitable certificate purpose|incompatible key usage|key usage|"
                 r"INVALID_PURPOSE|Extended key usage|KeyUsage|purpose|not authorized|"
                 r"certificate verify failed",
        "remote": r"unsupported certificate|unsupported_certificate|bad certificate|"
                  r"certificate unknown|certificate_unknown|"
                  r"Received alert \[4[236]\]|Received alert '?4[236]",
    },
    "hostname": {
        "local": r"hostname mismatch|Hostname mismatch|not valid for|doesn't match|"
                 r"does not match|No subject alternative|ERR_TLS_CERT_ALTNAME_INVALID|"
                 r"IP address mismatch|host name|certificate is valid for|"
                 r"certificate verify failed",
        "remote": r"bad certificate|certificate unknown|certificate_unknown|"
                  r"Received alert \[4[26]\]|Received alert '?4[26]|unknown ca",
    },
    "chain_too_long": {
        "local": r"certificate chain too long|CERT_CHAIN_TOO_LONG|chain too long|"
                 r"certificate verify failed",
        "remote": r"unknown ca|bad certificate|certificate unknown|Received alert \[4[268]\]",
    },
    "revoked": {
        "local": r"certificate revoked|CERT_REVOKED|revoked|certificate verify failed",
        "remote": r"certificate revoked|certificate_revoked|Received alert \[44\]|"
                  r"bad certificate|certificate unknown",
    },
    "no_client_cert": {
        "local": r"peer did not return a certificate|certificate required|"
                 r"No certificate was found|Certificate is required|didn't provide a certificate|"
                 r"Empty client certificate chain|empty certificate|PEER_DID_NOT_RETURN|"
                 r"client didn't provide|no certificate",
        "remote": r"certificate required|certificate_required|handshake failure|"
                  r"handshake_failure|bad certificate|decode error|"
                  r"Received alert \[(116|40|42|50)\]|Received alert '?(116|40|42|50)",
    },
    "bad_client_cert": {},   # unknown_ca or purpose: filled in below
    "unknown_group": {
        "local": r"unknown elliptic curve|elliptic curve .* not supported",
        "remote": r"$^",
    },
    "alpn": {
        "local": r"no application protocol|No common application protocol|"
                 r"no_application_protocol|No matching application|"
                 r"client requested unsupported application protocol|application protocol",
        "remote": r"no application protocol|no_application_protocol|"
                  r"Received alert \[120\]|Received alert '?120|application protocol",
    },
}

REASONS["bad_client_cert"] = {
    k: REASONS["unknown_ca"][k] + "|" + REASONS["purpose"][k] for k in ("local", "remote")}

# Texts that say "the other side sent an alert" rather than "I decided".
RECEIVED_ALERT = re.compile(
    r"(sslv3|tlsv1|tlsv13|ssl/tls) alert|remote error|Received fatal alert|Received alert|"
    r"fatal alert has been received|alert number|received alert", re.I)

# sslua: how it behaves with default settings. Its suites and groups come
# from its OpenSSL and the module at run time (sslua_runner.sslua_caps):
# default12 / default13 (the suites it offers unless told otherwise),
# ciphers12 / ciphers13 (those it uses at the default security level,
# pinned or not) and the same two under "legacy" (its legacy cases'
# @SECLEVEL=0); groups (offered and accepted by default) and
# pinnable_groups (those its curve options take).
SSLUA_CAPS = {
    "versions": ORDER,
    # OpenSSL's client sends no hello without a usable suite for its
    # highest version: it fails with "no ciphers available"
    "hello_needs_suite": True,
    "sigs": ["rsa", "ecdsa", "ed25519"],
    "dhe_server": True,
    "alpn_mismatch": "ignore",
    "alpn_precedence": "server",
    "client_resume": True,      # when the module has the session API
    "checks_hostname": False,
    "server_checks_client_purpose": True,
    "sni_switch": False,
    "reply": "reverse",
}

IDENTITY_TYPE = {"server-ecdsa": "ecdsa", "client-ecdsa": "ecdsa",
                 "server-ed25519": "ed25519", "client-ed25519": "ed25519"}

# Why verifying a server certificate of each identity fails (the reason
# class, verify_classes.py); the good ones are not listed. The rogue CA is
# sent in the untrusted certificate's chain.
SERVER_CERT_CLASS = {
    "expired": "expired", "notyet": "not_yet_valid", "untrusted": "untrusted_root",
    "selfsigned": "self_signed", "server-eku-client": "bad_purpose",
    "wronghost": "hostname_mismatch", "revoked": "revoked",
}
# Names (DNS and IP SANs) of the server certificates (certs/README.md).
SERVER_NAMES = {"localhost", "server.sslua.test", "127.0.0.1", "::1"}
CERT_NAMES = {"wronghost": {"wrong.sslua.test"}}

CLIENT_CERT_CLASSES = {
    "client-eku-server": ("bad_purpose",),
    # these two have an untrusted issuer AND the server purpose only
    "untrusted": ("untrusted_root", "bad_purpose"), "selfsigned": ("self_signed", "bad_purpose"),
    "expired": ("expired",),
}


def cert_type(identity):
    return IDENTITY_TYPE.get(identity, "rsa")


def version_range(side):
    """The versions a side will negotiate: its configuration, cut to what
    the stack can do (sslua/OpenSSL 3 needs @SECLEVEL=0 below TLS 1.2)."""
    cfg, caps = side["cfg"], side["caps"]
    lo, hi = cfg.get("range") or ("1.0", "1.3")
    versions = [v for v in ORDER[ORDER.index(lo):ORDER.index(hi) + 1]
                if v in caps.get("versions", ORDER)]
    if side["stack"] == "sslua" and not cfg.get("legacy"):
        versions = [v for v in versions if v in ("1.2", "1.3")]
    return versions


def suite_versions(name):
    """TLS <= 1.2 suites: AEAD and SHA-2 MAC suites are TLS 1.2 only."""
    if re.search(r"_GCM_|_CCM|CHACHA20|_SHA256$|_SHA384$", name):
        return ["1.2"]
    return ["1.0", "1.1", "1.2"]


def suite_auth(name):
    if "_ECDSA_" in name:
        return "ecdsa"
    if name.startswith("TLS_RSA_") or "_RSA_" in name:
        return "rsa"
    return "other"


def suite_kx(name):
    if name.startswith("TLS_ECDHE_"):
        return "ecdhe"
    if name.startswith("TLS_DHE_"):
        return "dhe"
    if name.startswith("TLS_RSA_"):
        return "rsa"
    return "other"


def suites_at_level(side, key):
    """The suites (key "ciphers12" or "ciphers13") the side's stack uses
    at its security level: sslua's legacy cases run at @SECLEVEL=0, whose
    suites its capabilities list under "legacy"."""
    caps = side["caps"]
    if side["cfg"].get("legacy") and "legacy" in caps:
        caps = caps["legacy"]
    return caps.get(key) or []


def offered(side, key):
    """The suites the side offers or accepts (key "12" or "13"): the one
    pinned, the server's list, sslua's default list or the peer's own -
    those its stack uses at its level."""
    cfg, caps = side["cfg"], side["caps"]
    have = suites_at_level(side, "ciphers" + key)
    if cfg.get("cipher" + key):
        listed = [cfg["cipher" + key]]
    elif cfg.get("server_list" + key):
        listed = cfg["server_list" + key]
    elif side["stack"] == "sslua":
        listed = caps.get("default" + key) or []
    else:
        return have
    return [c for c in listed if c in have]


def suites_for(side, version):
    """What the side offers that can run in this version."""
    if version == "1.3":
        return offered(side, "13")
    return [c for c in offered(side, "12") if version in suite_versions(c)]


def groups_of(side):
    cfg, caps = side["cfg"], side["caps"]
    if cfg.get("group"):
        return [cfg["group"]]
    return caps.get("groups") or []


def fail(side, reason, stage="handshake"):
    return {"status": "fail", "side": side, "reason": reason, "stage": stage}


def verify_fail(side, classes):
    """`side` refuses the other's certificate, for these reason classes."""
    exp = fail(side, reason_of(classes))
    exp["classes"] = ordered(classes)
    return exp


def setup_refusal(side):
    """Why the side refuses its configuration before any connection (a key
    of REASONS), or None: sslua has no SSLv3, and takes only the groups its
    OpenSSL knows."""
    cfg, caps = side["cfg"], side["caps"]
    if side["stack"] == "sslua" and cfg.get("protocol") == "sslv3":
        return "invalid_protocol"
    known = caps.get("pinnable_groups")
    if cfg.get("group") and known is not None and cfg["group"] not in known:
        return "unknown_group"
    return None


def expect(client, server):
    ccfg, scfg = client["cfg"], server["cfg"]

    for role, side in (("client", client), ("server", server)):
        refusal = setup_refusal(side)
        if refusal:
            return fail(role, refusal, "setup")
    if ccfg.get("raw_sslv3"):
        return fail("server", "version")

    # 1. protocol version
    cv, sv = version_range(client), version_range(server)
    if cv and client["caps"].get("hello_needs_suite") and not suites_for(client, cv[-1]):
        return fail("client", "no_shared_cipher")
    common = [v for v in cv if v in sv]
    if not common:
        if not cv or not sv:
            return fail("client" if not cv else "server", "version")
        # A client that can do TLS 1.3 lists its versions (supported_versions)
        # and a TLS 1.3 server reads that list, whatever its own range: the
        # server refuses. Without the list (or with a server that reads it
        # only when it has TLS 1.3 on), the server answers with
        # min(client max, server max) unless that is below its own minimum,
        # and the client refuses a version below its minimum.
        listed = cv[-1] == "1.3" or client["caps"].get("always_supported_versions")
        reads = sv[-1] == "1.3" or not server["caps"].get("supported_versions_needs_13")
        if listed and reads:
            return fail("server", "version")
        legacy_max = min(ORDER.index(cv[-1]), ORDER.index("1.2"))
        if ORDER.index(sv[0]) > legacy_max:
            return fail("server", "version")
        if cv == ["1.3"]:       # no TLS <= 1.2 suites to answer with
            return fail("server", "version")
        return fail("client", "version")
    version = common[-1]

    # 2. signature / certificate type
    stype = cert_type(scfg.get("identity") or "server-rsa")
    if stype not in client["caps"].get("sigs", []):
        return fail("server", "no_shared_cipher")
    if stype == "ed25519" and version in ("1.0", "1.1"):
        return fail("server", "no_shared_cipher")

    # 3. cipher suite
    cipher = None
    if version == "1.3":
        c13 = offered(client, "13")
        s13 = offered(server, "13")
        shared = [c for c in c13 if c in s13]
        if not shared:
            return fail("server", "no_shared_cipher")
        if ccfg.get("cipher13") or scfg.get("cipher13"):
            cipher = shared[0]
        elif scfg.get("server_pref"):
            cipher = [c for c in s13 if c in c13][0]
    else:
        sgroups = set(groups_of(server))
        cgroups = set(groups_of(client))
        ec_ok = bool({g for g in sgroups & cgroups if not g.startswith("ffdhe")})

        def usable(name):
            if version not in suite_versions(name):
                return False
            auth = suite_auth(name)
            if auth == "ecdsa" and stype not in ("ecdsa", "ed25519"):
                return False
            if auth == "rsa" and stype != "rsa":
                return False
            kx = suite_kx(name)
            dhe = server["caps"].get("dhe_server")
            if server["stack"] == "sslua":     # LuaSec: DHE needs a dhparam function
                dhe = bool(scfg.get("dhparam"))
            if kx == "dhe" and not dhe:
                return False
            if kx == "ecdhe" and not ec_ok:
                return False
            return kx != "other"

        c12 = offered(client, "12")
        s12 = set(offered(server, "12"))
        shared = [c for c in c12 if c in s12 and usable(c)]
        if not shared:
            if ccfg.get("group") or scfg.get("group"):
                return fail("server", "no_shared_group")
            return fail("server", "no_shared_cipher")
        if ccfg.get("cipher12") or scfg.get("cipher12"):
            cipher = shared[0]
        elif scfg.get("server_pref"):
            cipher = [c for c in offered(server, "12") if c in c12 and usable(c)][0]

    # 4. key exchange group (a group pinned on one side)
    group = ccfg.get("group") or scfg.get("group")
    if group:
        other = server if ccfg.get("group") else client
        if group not in groups_of(other):
            return fail("server", "no_shared_group")

    # 5. the client verifies the server certificate
    hostcheck = None
    identity = scfg.get("identity") or "server-rsa"
    if scfg.get("sni_name") and ccfg.get("sni") == scfg["sni_name"] \
            and scfg.get("sni_identity") and server["caps"].get("sni_switch"):
        identity = scfg["sni_identity"]
    if ccfg.get("verify"):
        verdict = SERVER_CERT_CLASS.get(identity)
        if not scfg.get("chain", True) and verdict in (None, "untrusted_root"):
            verdict = "unknown_issuer"      # the issuer is not sent, so not found
        if verdict == "hostname_mismatch":
            verdict = None          # decided by the name check below
        host = ccfg.get("verifyhost")
        if host is None and client["caps"].get("checks_hostname", True):
            host = ccfg.get("hostname") or "localhost"
        if host and host not in CERT_NAMES.get(identity, SERVER_NAMES):
            verdict = verdict or "hostname_mismatch"
        if verdict == "revoked" and not ccfg.get("crl"):
            verdict = None
        if identity == "deep" and ccfg.get("depth") is not None and ccfg["depth"] < 5:
            verdict = "chain_too_long"
        if verdict:
            return verify_fail("client", (verdict,))
    if ccfg.get("checkhost"):
        hostcheck = "mismatch" if identity == "wronghost" else "match"

    # 6. the server asks for a client certificate
    server_sees = None
    cid = ccfg.get("identity")
    if scfg.get("verify"):
        if not cid:
            if scfg.get("require"):
                return fail("server", "no_client_cert")
        else:
            classes = CLIENT_CERT_CLASSES.get(cid, ())
            if not server["caps"].get("server_checks_client_purpose", True):
                classes = tuple(c for c in classes if c != "bad_purpose")
            if classes:
                return verify_fail("server", classes)
            server_sees = cid

    # 7. ALPN
    alpn = None
    calpn, salpn = ccfg.get("alpn"), scfg.get("alpn")
    if calpn and salpn:
        if server["caps"].get("alpn_precedence", "server") == "client":
            shared = [p for p in calpn if p in salpn]
        else:
            shared = [p for p in salpn if p in calpn]
        if shared:
            alpn = shared[0]
        elif server["caps"].get("alpn_mismatch") == "alert":
            return fail("server", "alpn")

    # 8. SNI
    sni = ccfg.get("sni")

    resumed = None
    if ccfg.get("resume"):
        resumed = bool(client["caps"].get("client_resume"))

    return {"status": "ok", "version": version, "cipher": cipher, "group": group,
            "alpn": alpn, "sni": sni, "client_sees": identity, "server_sees": server_sees,
            "resumed": resumed, "hostcheck": hostcheck}


def summary(exp):
    """Short text for the CSV 'expected' column."""
    if exp["status"] == "fail":
        if exp.get("classes"):
            return "fail(%s:%s class=%s)" % (exp["side"], exp["reason"],
                                             "|".join(exp["classes"]))
        return "fail(%s:%s)" % (exp["side"], exp["reason"])
    parts = ["ok", "v" + exp["version"]]
    for key in ("cipher", "group", "alpn", "sni"):
        if exp.get(key):
            parts.append("%s=%s" % (key, exp[key]))
    if exp.get("resumed"):
        parts.append("resumed")
    if exp.get("hostcheck"):
        parts.append("hostcheck=" + exp["hostcheck"])
    return " ".join(parts)
