"""The judge: compares what both sides of an interop case reported with
the oracle's expectation (oracle.expect) and gives the verdict: pass,
fail (with what differs) or unavailable (sslua lacks the parameter).

An expected success is judged by the checks of NEGOTIATED (each side) and
CONNECTION (both together). An expected failure must fail on the expected
side for the expected reason: DECIDING_SIDE and OTHER_SIDE say what each
side's error text counts as. Where a side fails to verify a certificate,
its report must also name the expected reason class (verify_class)."""

import re

import oracle
import verify_classes
import verify_reports

GENERIC_DISCONNECT = re.compile(
    r"eof|closed|reset|broken pipe|connection|timed? ?out|socket|EOF|terminated|"
    r"shutdown|Software caused|non-properly", re.I)

VERSION_NAMES = {"TLSv1": "1.0", "TLSv1.0": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2",
                 "TLSv1.3": "1.3"}


def norm_version(v):
    if v is None:
        return None
    return VERSION_NAMES.get(str(v), str(v))


def other(side):
    return "server" if side == "client" else "client"


class Sides:
    """One case's two results, the expectation, and which result fields
    each side's stack fills in (sslua: all of them)."""

    def __init__(self, ciphers, case, cres, sres):
        self.ciphers, self.case, self.exp = ciphers, case, case.expected
        self.res = {"client": cres, "server": sres}
        peer_side = other(case.role)
        self.reported = {case.role: None,
                         peer_side: set(case.peer.caps.get(peer_side + "_reports", []))}

    def reports(self, side, field):
        allowed = self.reported[side]
        return allowed is None or field in allowed

    def got(self, side):
        return self.res[side] or {}

    def brief(self, side):
        res = self.res[side]
        if res is None:
            return "-"
        if res.get("status") == "ok":
            bits = ["ok", "v" + str(norm_version(res.get("version")))]
            if res.get("cipher"):
                bits.append(self.ciphers.iana(res["cipher"]))
            return " ".join(bits)
        return "%s@%s: %s" % (res.get("status"), res.get("stage"), res.get("error"))


# ---------------------------------------------------------------- expected success
# Each check: (sides, side, its result) or (sides) -> what differs, or None.

def version_differs(s, side, res):
    if res.get("version") and norm_version(res["version"]) != s.exp["version"]:
        return "%s negotiated TLS %s, expected %s" % (side, norm_version(res["version"]),
                                                       s.exp["version"])


def cipher_differs(s, side, res):
    if s.exp.get("cipher") and res.get("cipher") and \
            s.ciphers.iana(res["cipher"]) != s.exp["cipher"]:
        return "%s cipher %s, expected %s" % (side, s.ciphers.iana(res["cipher"]),
                                              s.exp["cipher"])


def group_differs(s, side, res):
    if s.exp.get("group") and res.get("group") and res["group"].lower() != s.exp["group"]:
        return "%s group %s, expected %s" % (side, res["group"], s.exp["group"])


def alpn_differs(s, side, res):
    if s.reports(side, "alpn") and (res.get("alpn") or None) != s.exp.get("alpn"):
        return "%s ALPN %r, expected %r" % (side, res.get("alpn"), s.exp.get("alpn"))


NEGOTIATED = [version_differs, cipher_differs, group_differs, alpn_differs]


def server_cert_differs(s):
    # a resumed session may not carry the certificate again
    cr = s.got("client")
    if s.reports("client", "peer_cert") and cr and cr.get("peer_cert") != s.exp["client_sees"] \
            and not cr.get("resumed"):
        return "client saw certificate %r, expected %r" % (cr.get("peer_cert"),
                                                           s.exp["client_sees"])


def client_cert_differs(s):
    sr = s.got("server")
    if s.reports("server", "peer_cert") and sr and sr.get("peer_cert") != s.exp["server_sees"]:
        return "server saw client certificate %r, expected %r" % (sr.get("peer_cert"),
                                                                  s.exp["server_sees"])


def sni_differs(s):
    sr, tpl = s.got("server"), s.case.tpl
    # a server that says only "(other)" for a name that is not its own
    other_ok = sr.get("sni") == "(other)" and s.exp.get("sni") and \
        s.exp.get("sni") != tpl.peer.get("sni_name", tpl.ours.get("sni_name"))
    if tpl.family == "sni" and s.reports("server", "sni") and sr and \
            sr.get("sni") != s.exp.get("sni") and not other_ok:
        return "server saw SNI %r, expected %r" % (sr.get("sni"), s.exp.get("sni"))


def resumption_differs(side):
    def check(s):
        res = s.got(side)
        if s.exp.get("resumed") is not None and s.reports(side, "resumed") and res \
                and res.get("resumed") is not None and res["resumed"] != s.exp["resumed"]:
            return "%s resumed=%s, expected %s" % (side, res["resumed"], s.exp["resumed"])
    return check


def close_without_notify(s):
    # the server closes after its reply: with a close_notify, where the client can tell
    cr = s.got("client")
    if cr.get("close") and cr["close"] != "close_notify":
        return "client: %s" % cr["close"]


def hostcheck_differs(s):
    cr = s.got("client")
    if s.exp.get("hostcheck") and cr.get("hostcheck") != s.exp["hostcheck"]:
        return "application host check %r, expected %r" % (cr.get("hostcheck"),
                                                          s.exp["hostcheck"])


CONNECTION = [server_cert_differs, client_cert_differs, sni_differs,
              resumption_differs("client"), resumption_differs("server"),
              close_without_notify, hostcheck_differs]


def success_problems(s):
    problems = []
    for side, res in s.res.items():
        if res is None:
            # the peer's client always answers; sslua's client or any server may not
            if side == "server" or s.case.role == "client":
                problems.append("no %s result" % side)
        elif res.get("status") != "ok":
            problems.append("%s failed: %s" % (side, s.brief(side)))
    if problems:
        return problems
    for side, res in s.res.items():
        if res is not None:
            problems += [m for m in (check(s, side, res) for check in NEGOTIATED) if m]
    return problems + [m for m in (check(s) for check in CONNECTION) if m]


# ---------------------------------------------------------------- expected failure
# What an error text says, for the expected reason: "local" (it names the
# reason), "remote" (it names the reason's alert), "received" (it reports an
# alert it received), "generic" (the connection just ended).

def facts(text, reason):
    found = set()
    if re.search(reason["local"], text, re.I):
        found.add("local")
    if re.search(reason["remote"], text, re.I):
        found.add("remote")
    if oracle.RECEIVED_ALERT.search(text):
        found.add("received")
    if GENERIC_DISCONNECT.search(text):
        found.add("generic")
    return found


def decided(f):
    return "local" in f and "received" not in f


def alerted(f):
    return "remote" in f and "received" in f


# The side expected to fail, when it reported a result. First match wins:
# (when, counts as evidence, problem). when(facts, ok?).
DECIDING_SIDE = [
    (lambda f, ok: ok, False, "{side} did not fail"),
    (lambda f, ok: decided(f), True, None),
    (lambda f, ok: alerted(f), False,
     "{side} only received an alert ({text}): the {other} side decided"),
    (lambda f, ok: True, False, "{side} failed for another reason: {text}"),
]

# The other side, when it failed. when(facts, the deciding side reported,
# evidence so far). An end of the connection, or the reason's alert not
# reported as received, is no problem.
OTHER_SIDE = [
    (lambda f, reported, evidence: alerted(f), True, None),
    (lambda f, reported, evidence: decided(f) and "generic" not in f and reported
     and not evidence, False, "{side} decided instead ({text})"),
    (lambda f, reported, evidence: not f & {"remote", "generic"} and not evidence, False,
     "{side} saw an unexpected error: {text}"),
]


def failure_problems(s):
    exp = s.exp
    cres, sres = s.res["client"], s.res["server"]
    fside = exp["side"]
    if (cres is None or cres.get("status") == "ok") and \
            (sres is None or sres.get("status") == "ok") and (cres or sres):
        return ["expected %s to fail (%s) but the connection worked" % (fside, exp["reason"])]
    reason = oracle.REASONS[exp["reason"]]
    fres, ores = s.res[fside], s.res[other(fside)]
    evidence, problems = False, []
    if fres is not None:
        text = str(fres.get("error") or "")
        f = facts(text, reason)
        for when, proves, problem in DECIDING_SIDE:
            if when(f, fres.get("status") == "ok"):
                evidence = evidence or proves
                if problem:
                    problems.append(problem.format(side=fside, other=other(fside), text=text))
                break
    if ores is not None and ores.get("status") != "ok":
        text = str(ores.get("error") or "")
        f = facts(text, reason)
        for when, proves, problem in OTHER_SIDE:
            if when(f, fres is not None, evidence):
                evidence = evidence or proves
                if problem:
                    problems.append(problem.format(side=other(fside), text=text))
                break
    if exp.get("stage") == "setup" and fres is not None and fres.get("stage") != "setup":
        problems.append("expected a setup error, got one at %s" % fres.get("stage"))
    if not evidence and not problems:
        problems.append("no evidence of the reason %s" % exp["reason"])
    return problems


# ---------------------------------------------------------------- verify reason class

def verify_class(case, cres, sres):
    """Whether the side expected to fail verification names the expected
    reason class: (state, note), state one of None (no verify failure
    expected), "checked", "mismatch", "not reported" (that peer's report in
    that role carries no reason: not checked) or "no report" (the side gave
    no failure to read: not checked)."""
    exp = case.expected
    if exp.get("status") != "fail" or not exp.get("classes"):
        return None, ""
    side = exp["side"]
    res = {"client": cres, "server": sres}[side]
    stack = "sslua" if side == case.role else case.peer.name
    want = "|".join(exp["classes"])
    if res is None or res.get("status") == "ok":
        return "no report", "verify class %s not checked: no failure from the %s" % (want, side)
    text = str(res.get("error") or "")
    if stack == "sslua":
        named = set(verify_classes.sslua_classes(text))
    else:
        rows = verify_reports.table(stack, side)
        if rows is None:
            return "not reported", "verify class %s not checked: %s's %s reports no reason" % (
                want, stack, side)
        named = verify_reports.classes_in(rows, text)
    if named & set(exp["classes"]):
        return "checked", "verify class %s: named by the %s (%s)" % (want, side, stack)
    return "mismatch", "%s (%s) names verify class %s, expected %s" % (
        side, stack, "|".join(verify_classes.ordered(named)) or "none", want)


def evaluate(ciphers, case, cres, sres):
    """Compares both sides' results with the expectation. Returns
    (result, detail) with result in pass / fail / unavailable."""
    ours = cres if case.role == "client" else sres
    if ours and ours.get("status") == "unavailable":
        return "unavailable", "sslua: " + ours.get("error", "unavailable")
    s = Sides(ciphers, case, cres, sres)
    problems = success_problems(s) if s.exp["status"] == "ok" else failure_problems(s)
    detail = "client: %s | server: %s" % (s.brief("client"), s.brief("server"))
    state, note = verify_class(case, cres, sres)
    if state == "mismatch":
        problems.append(note)
    elif state:
        detail += " || " + note
    if problems:
        return "fail", "; ".join(problems) + " || " + detail
    return "pass", detail
