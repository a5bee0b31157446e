"""The judge: compares what both sides of an interop case reported with
the oracle's expectation (oracle.expect) and gives the verdict."""

import re

import oracle


def norm_version(v):
    if v is None:
        return None
    v = str(v)
    return {"TLSv1": "1.0", "TLSv1.0": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2",
            "TLSv1.3": "1.3"}.get(v, v)


GENERIC_DISCONNECT = re.compile(
    r"eof|closed|reset|broken pipe|connection|timed? ?out|socket|EOF|terminated|"
    r"shutdown|Software caused|non-properly", re.I)


def evaluate(ciphers, case, cres, sres):
    """Compares both sides' results with the expectation. Returns
    (result, detail) with result in pass / fail / unavailable."""
    exp = case.expected
    ours_res = cres if case.role == "client" else sres
    if ours_res and ours_res.get("status") == "unavailable":
        return "unavailable", "sslua: " + ours_res.get("error", "unavailable")
    ccaps = case.ours_side["caps"] if case.role == "client" else case.peer.caps
    scaps = case.peer.caps if case.role == "client" else case.ours_side["caps"]
    creports = None if case.role == "client" else set(ccaps.get("client_reports", []))
    sreports = set(scaps.get("server_reports", [])) if case.role == "client" else None

    def reports(side, field):
        allowed = creports if side == "client" else sreports
        return allowed is None or field in allowed

    def brief(res):
        if res is None:
            return "-"
        if res.get("status") == "ok":
            bits = ["ok", "v" + str(norm_version(res.get("version")))]
            if res.get("cipher"):
                bits.append(ciphers.iana(res["cipher"]))
            return " ".join(bits)
        return "%s@%s: %s" % (res.get("status"), res.get("stage"), res.get("error"))

    sides = {"client": cres, "server": sres}
    problems = []
    if exp["status"] == "ok":
        for side, res in sides.items():
            if res is None:
                if side == "server" or case.role == "client":
                    problems.append("no %s result" % side)
                continue
            if res.get("status") != "ok":
                problems.append("%s failed: %s" % (side, brief(res)))
        if not problems:
            for side, res in sides.items():
                if res is None:
                    continue
                if res.get("version") and norm_version(res["version"]) != exp["version"]:
                    problems.append("%s negotiated TLS %s, expected %s" % (
                        side, norm_version(res["version"]), exp["version"]))
                if exp.get("cipher") and res.get("cipher") and \
                        ciphers.iana(res["cipher"]) != exp["cipher"]:
                    problems.append("%s cipher %s, expected %s" % (
                        side, ciphers.iana(res["cipher"]), exp["cipher"]))
                if exp.get("group") and res.get("group") and res["group"].lower() != exp["group"]:
                    problems.append("%s group %s, expected %s" % (side, res["group"], exp["group"]))
                if reports(side, "alpn") and (res.get("alpn") or None) != exp.get("alpn"):
                    problems.append("%s ALPN %r, expected %r" % (side, res.get("alpn"),
                                                                exp.get("alpn")))
            cr, sr = cres or {}, sres or {}
            # a resumed session may not carry the certificate again
            if reports("client", "peer_cert") and cr and cr.get("peer_cert") != exp["client_sees"] \
                    and not cr.get("resumed"):
                problems.append("client saw certificate %r, expected %r" % (
                    cr.get("peer_cert"), exp["client_sees"]))
            if reports("server", "peer_cert") and sr and sr.get("peer_cert") != exp["server_sees"]:
                problems.append("server saw client certificate %r, expected %r" % (
                    sr.get("peer_cert"), exp["server_sees"]))
            other_ok = sr.get("sni") == "(other)" and exp.get("sni") and \
                exp.get("sni") != case.tpl.peer.get("sni_name", case.tpl.ours.get("sni_name"))
            if case.tpl.family == "sni" and reports("server", "sni") and sr and \
                    sr.get("sni") != exp.get("sni") and not other_ok:
                problems.append("server saw SNI %r, expected %r" % (sr.get("sni"), exp.get("sni")))
            for side, res in (("client", cr), ("server", sr)):
                if exp.get("resumed") is not None and reports(side, "resumed") and res \
                        and res.get("resumed") is not None and res["resumed"] != exp["resumed"]:
                    problems.append("%s resumed=%s, expected %s" % (side, res["resumed"],
                                                                    exp["resumed"]))
            # the server closes after its reply; the client saw a close_notify?
            if cr.get("close") and cr["close"] != "close_notify":
                problems.append("client: %s" % cr["close"])
            if exp.get("hostcheck") and cr.get("hostcheck") != exp["hostcheck"]:
                problems.append("application host check %r, expected %r" % (
                    cr.get("hostcheck"), exp["hostcheck"]))
        detail = "client: %s | server: %s" % (brief(cres), brief(sres))
        if problems:
            return "fail", "; ".join(problems) + " || " + detail
        return "pass", detail

    # an expected failure: on the expected side, for the expected reason
    reason = oracle.REASONS[exp["reason"]]
    local_rx = re.compile(reason["local"], re.I)
    remote_rx = re.compile(reason["remote"], re.I)
    fside = exp["side"]
    oside = "server" if fside == "client" else "client"
    fres, ores = sides[fside], sides[oside]
    detail = "client: %s | server: %s" % (brief(cres), brief(sres))
    if (cres is None or cres.get("status") == "ok") and (sres is None or sres.get("status") == "ok") \
            and (cres or sres):
        return "fail", "expected %s to fail (%s) but the connection worked || %s" % (
            fside, exp["reason"], detail)
    evidence = False
    if fres is not None:
        ftext = str(fres.get("error") or "")
        if fres.get("status") == "ok":
            problems.append("%s did not fail" % fside)
        elif local_rx.search(ftext) and not oracle.RECEIVED_ALERT.search(ftext):
            evidence = True
        elif remote_rx.search(ftext) and oracle.RECEIVED_ALERT.search(ftext):
            problems.append("%s only received an alert (%s): the %s side decided" % (
                fside, ftext, oside))
        else:
            problems.append("%s failed for another reason: %s" % (fside, ftext))
    if ores is not None and ores.get("status") != "ok":
        otext = str(ores.get("error") or "")
        if remote_rx.search(otext) and oracle.RECEIVED_ALERT.search(otext):
            evidence = True
        elif local_rx.search(otext) and not oracle.RECEIVED_ALERT.search(otext) \
                and not GENERIC_DISCONNECT.search(otext) and fres is not None \
                and not evidence:
            problems.append("%s decided instead (%s)" % (oside, otext))
        elif not (remote_rx.search(otext) or GENERIC_DISCONNECT.search(otext)):
            if not evidence:
                problems.append("%s saw an unexpected error: %s" % (oside, otext))
    if exp.get("stage") == "setup" and fres is not None and fres.get("stage") != "setup":
        problems.append("expected a setup error, got one at %s" % fres.get("stage"))
    if not evidence and not problems:
        problems.append("no evidence of the reason %s" % exp["reason"])
    if problems:
        return "fail", "; ".join(problems) + " || " + detail
    return "pass", detail
