"""Reports of an interop run, all written into build/interop/:

  results.csv   one line per case: peer;peer_version;role;variant;case;expected;result;detail
  results.json  the environment, the peers, every case with both sides' raw results,
                and the baseline comparison
  junit.xml     one testsuite per peer/role/variant
  matrix.md     the matrix (peer x version x feature), for reading in a terminal or on a forge
  matrix.html   the same, colour-coded, plus the cipher-by-cipher table and the failures
  faults.csv    the fault matrix (faults.py), which also ends matrix.md and matrix.html
"""

import csv
import html
import json
import os
from xml.sax.saxutils import escape, quoteattr

import faults

ROLE_NAME = {"client": "sslua client -> peer server", "server": "peer client -> sslua server"}

# Matrix columns: (group, column, predicate on a feature label)
COLUMNS = [
    ("Protocol", "TLS1.0", lambda f: f == "TLS1.0"),
    ("Protocol", "TLS1.1", lambda f: f == "TLS1.1"),
    ("Protocol", "TLS1.2", lambda f: f == "TLS1.2"),
    ("Protocol", "TLS1.3", lambda f: f == "TLS1.3"),
    ("Protocol", "refusal", lambda f: f == "version refusal"),
    ("Protocol", "SSLv3 refused", lambda f: f == "SSLv3 refusal"),
    ("Options", "protocol pin", lambda f: f.startswith("protocol tlsv")),
    ("Options", "no_tlsv1", lambda f: f == "option no_tlsv1"),
    ("Options", "no_tlsv1_1", lambda f: f == "option no_tlsv1_1"),
    ("Options", "no_tlsv1_2", lambda f: f == "option no_tlsv1_2"),
    ("Options", "no_tlsv1_3", lambda f: f == "option no_tlsv1_3"),
    ("Options", "server pref", lambda f: f == "option cipher_server_preference"),
    ("Ciphers", "TLS1.2 suites", lambda f: f.startswith("TLS1.2 cipher ")),
    ("Ciphers", "TLS1.3 suites", lambda f: f.startswith("TLS1.3 cipher ")),
    ("Groups", "x25519", lambda f: f == "group x25519"),
    ("Groups", "x448", lambda f: f == "group x448"),
    ("Groups", "P-256", lambda f: f == "group secp256r1"),
    ("Groups", "P-384", lambda f: f == "group secp384r1"),
    ("Groups", "P-521", lambda f: f == "group secp521r1"),
    ("Groups", "ffdhe", lambda f: f.startswith("group ffdhe")),
    ("Certificates", "RSA", lambda f: f in ("server cert rsa", "client cert rsa")),
    ("Certificates", "ECDSA", lambda f: f in ("server cert ecdsa", "client cert ecdsa")),
    ("Certificates", "Ed25519", lambda f: f in ("server cert ed25519", "client cert ed25519")),
    ("Verify", "good chains", lambda f: f in ("verify good chain", "verify deep chain")),
    ("Verify", "bad chains", lambda f: f in (
        "verify missing intermediate", "verify expired", "verify not yet valid",
        "verify untrusted issuer", "verify self-signed", "verify purpose")),
    ("Verify", "host name", lambda f: f in ("verify host name", "verify hostname")),
    ("Verify", "none", lambda f: f == "verify none"),
    ("Verify", "depth/CRL", lambda f: f in ("verify depth", "verify CRL")),
    ("Client certs", "policies", lambda f: f.startswith("client cert ") and f not in (
        "client cert rsa", "client cert ecdsa", "client cert ed25519")),
    ("Extensions", "SNI", lambda f: f == "SNI"),
    ("Extensions", "ALPN", lambda f: f == "ALPN"),
    ("Extensions", "resumption", lambda f: f == "resumption"),
]


def exp_ok(row):
    return row["expected"].startswith("ok")


def cell(rows):
    """Summary of the cases of one matrix cell: (css class, text)."""
    if not rows:
        return "na", "–"
    fails = [r for r in rows if r["result"] in ("fail", "blocked")]
    known = [r for r in fails if r.get("baseline") == "fail"]
    unav = [r for r in rows if r["result"] == "unavailable"]
    ok = [r for r in rows if r["result"] == "pass" and exp_ok(r)]
    refused = [r for r in rows if r["result"] == "pass" and not exp_ok(r)]
    n = len(rows)
    if fails:
        cls = "known" if len(known) == len(fails) else "fail"
        return cls, "✗ %d/%d fail" % (len(fails), n)
    if len(unav) == n:
        return "unav", "n/a (module)"
    if unav:
        return "partial", "◐ %d/%d, %d n/a" % (len(ok) + len(refused), n, len(unav))
    if ok and refused:
        return "pass", "✓ %d ok, %d refused" % (len(ok), len(refused))
    if ok:
        return "pass", "✓" if n == 1 else "✓ %d" % n
    return "refused", "⊘ refused" if n == 1 else "⊘ %d refused" % n


def grid(rows, peers):
    """{(peer, role, column): [rows]}"""
    g = {}
    for row in rows:
        for feat in row["features"]:
            for group, col, pred in COLUMNS:
                if pred(feat):
                    g.setdefault((row["peer"], row["role"], col), []).append(row)
    for key in g:
        seen, uniq = set(), []
        for r in g[key]:
            if id(r) not in seen:
                seen.add(id(r))
                uniq.append(r)
        g[key] = uniq
    return g


def by_batch(rows):
    out = {}
    for r in rows:
        out.setdefault((r["peer"], r["role"], r["variant"]), []).append(r)
    return out


def env_lines(info, specs):
    lines = [
        ("OpenSSL", "%s (default security level %s)" % (info.get("openssl"),
                                                        info.get("security_level"))),
        ("Lua", "%s, sslua %s" % (info.get("lua"), info.get("sslua"))),
        ("Run", "%s, %s, %s s, %s" % (info.get("mode"), info.get("date"),
                                      info.get("elapsed_seconds"), info.get("machine"))),
    ]
    for s in specs:
        if s.reason == "not selected":
            continue
        lines.append(("peer " + s.name, s.version if s.available else
                      "UNAVAILABLE: " + s.reason))
    return lines


# ---------------------------------------------------------------- CSV / JSON / JUnit

def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["peer", "peer_version", "role", "variant", "case", "expected", "result",
                    "detail"])
        for r in rows:
            w.writerow([r["peer"], r["peer_version"], r["role"], r["variant"], r["case"],
                        r["expected"], r["result"], r["detail"]])


def write_json(path, rows, info, specs, comp):
    data = {
        "environment": info,
        "peers": {s.name: {"available": s.available, "version": s.version,
                           "reason": s.reason, "caps": s.caps} for s in specs
                  if s.reason != "not selected"},
        "cases": rows,
    }
    if comp:
        data["baseline"] = {
            "regressions": [r["key"] for r in comp["regressions"]],
            "new_failures": [r["key"] for r in comp["new_failures"]],
            "improvements": [r["key"] for r in comp["improvements"]],
            "known_failures": [r["key"] for r in comp["known"]],
            "feature_changes": comp["feature_changes"],
            "missing_peers": comp["missing_peers"],
        }
    with open(path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True, default=str)


def write_junit(path, rows):
    batches = by_batch(rows)
    total = len(rows)
    failures = sum(1 for r in rows if r["result"] in ("fail", "blocked")
                   and r.get("baseline") != "fail")
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="sslua interop" tests="%d" failures="%d">' % (total, failures)]
    for (peer, role, variant), rs in sorted(batches.items()):
        f = sum(1 for r in rs if r["result"] in ("fail", "blocked") and r.get("baseline") != "fail")
        sk = sum(1 for r in rs if r["result"] == "unavailable" or
                 (r["result"] in ("fail", "blocked") and r.get("baseline") == "fail"))
        t = sum(r["duration"] for r in rs)
        out.append('  <testsuite name=%s tests="%d" failures="%d" skipped="%d" time="%.3f">' % (
            quoteattr("%s.%s.%s" % (peer, role, variant)), len(rs), f, sk, t))
        for r in rs:
            out.append('    <testcase classname=%s name=%s time="%.3f">' % (
                quoteattr("interop.%s.%s.%s" % (peer, role, variant)),
                quoteattr(r["case"]), r["duration"]))
            if r["result"] in ("fail", "blocked"):
                if r.get("baseline") == "fail":
                    out.append('      <skipped message=%s/>' % quoteattr(
                        "known unsupported (baseline): " + r["detail"][:300]))
                else:
                    out.append('      <failure message=%s>%s</failure>' % (
                        quoteattr("expected " + r["expected"]), escape(r["detail"])))
            elif r["result"] == "unavailable":
                out.append('      <skipped message=%s/>' % quoteattr(r["detail"][:300]))
            out.append('    </testcase>')
        out.append('  </testsuite>')
    out.append('</testsuites>')
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------- matrix

LEGEND = [
    ("pass", "✓", "interoperates: every case gave the expected result and connected"),
    ("refused", "⊘", "refused as expected (e.g. the peer lacks the suite): "
                     "failed on the expected side for the expected reason"),
    ("fail", "✗", "a case did not give the oracle's result (regression or new failure)"),
    ("known", "✗", "fails, and the baseline says so: known unsupported"),
    ("partial", "◐", "some cases could not run: parameter not in the module yet"),
    ("unav", "n/a", "the module lacks the parameter (or the peer could not run)"),
    ("na", "–", "no case"),
]


def matrix_md(rows, info, specs, comp):
    runs = [r for r in rows if r["role"] != "-"]
    peers = [s for s in specs if s.available]
    g = grid(runs, peers)
    out = ["# sslua interop matrix", ""]
    out += ["| | |", "|---|---|"]
    for k, v in env_lines(info, specs):
        out.append("| %s | %s |" % (k, v))
    out.append("")
    out.append("## Cases per peer, role and variant (passed/total)")
    out.append("")
    variants = ["blocking", "nonblocking", "relay"]
    out.append("| peer | version | " + " | ".join("%s %s" % (r, v) for r in ("client", "server")
                                                for v in variants) + " |")
    out.append("|---|---|" + "---|" * 6)
    batches = by_batch(runs)
    for s in peers:
        cells = []
        for role in ("client", "server"):
            for v in variants:
                rs = batches.get((s.name, role, v), [])
                cells.append("%d/%d" % (sum(1 for r in rs if r["result"] == "pass"), len(rs))
                             if rs else "–")
        out.append("| %s | %s | %s |" % (s.name, s.version, " | ".join(cells)))
    classes = verify_class_table(runs)
    if classes:
        out += ["", "## Verify reason classes", "",
                "Where a side refuses a certificate, its report must name the expected "
                "reason class (interop/verify_classes.py); *not reported* and *no report* "
                "are not checked.", ""]
        out.append("| " + " | ".join(classes[0]) + " |")
        out.append("|---|---|" + "---:|" * len(CLASS_STATES))
        out += ["| " + " | ".join(line) + " |" for line in classes[1:]]
    out.append("")
    out.append("## Features")
    out.append("")
    out.append("Each cell: `C` = sslua as client against the peer's server, `S` = the peer's "
               "client against sslua's server, over all three variants. " +
               " ".join("%s %s;" % (sym, text) for _, sym, text in LEGEND))
    groups = []
    for group, col, _ in COLUMNS:
        if group not in groups:
            groups.append(group)
    for group in groups:
        cols = [c for gname, c, _ in COLUMNS if gname == group]
        out.append("")
        out.append("### " + group)
        out.append("")
        out.append("| peer | " + " | ".join(cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for s in peers:
            cells = []
            for col in cols:
                parts = []
                for role, tag in (("client", "C"), ("server", "S")):
                    _, text = cell(g.get((s.name, role, col), []))
                    parts.append("%s %s" % (tag, text))
                cells.append("<br>".join(parts))
            out.append("| %s | %s |" % (s.name, " | ".join(cells)))
    out += baseline_md(comp)
    fails = [r for r in runs if r["result"] in ("fail", "blocked")]
    if fails:
        out += ["", "## Failing cases", "", "| peer | role | variant | case | expected | detail |",
                "|---|---|---|---|---|---|"]
        for r in fails[:400]:
            out.append("| %s | %s | %s | %s | %s | %s%s |" % (
                r["peer"], r["role"], r["variant"], r["case"], r["expected"],
                "(known) " if r.get("baseline") == "fail" else "",
                r["detail"].replace("|", "/")[:300]))
    return "\n".join(out) + "\n"


def baseline_md(comp):
    out = []
    if not comp:
        return out
    out += ["", "## Baseline comparison", ""]
    if not comp.get("has_baseline"):
        out.append("No baseline (interop/baseline.json): run `make interop-baseline`.")
        return out
    out.append("- regressions: %d" % len(comp["regressions"]))
    out.append("- new failures: %d" % len(comp["new_failures"]))
    out.append("- improvements: %d" % len(comp["improvements"]))
    out.append("- known unsupported (baseline): %d" % len(comp["known"]))
    for key, old, new in comp["feature_changes"][:100]:
        out.append("- feature %s: %s → %s" % (key, old, new))
    return out


CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #bbb;padding:3px 6px;font-size:13px;vertical-align:top}
th{background:#eee} td.pass{background:#c8efc8} td.refused{background:#d6e6f7}
td.fail{background:#f5b5b5} td.known{background:#f7dcb0} td.partial{background:#f4f0b0}
td.unav{background:#e4e4e4;color:#666} td.na{color:#aaa} td.mixed{background:#f4f0b0}
.small{font-size:12px;color:#555} code{font-size:12px}
"""


def combine(a, b):
    """One colour for a cell holding both roles."""
    if a == b:
        return a
    for worst in ("fail", "known", "partial", "unav"):
        if worst in (a, b):
            return worst
    if "na" in (a, b):
        return a if b == "na" else b
    return "pass"          # one role interoperates, the other refuses as expected


def matrix_html(rows, info, specs, comp):
    runs = [r for r in rows if r["role"] != "-"]
    peers = [s for s in specs if s.available]
    g = grid(runs, peers)
    e = html.escape
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>sslua interop matrix</title>",
           "<style>%s</style></head><body>" % CSS, "<h1>sslua interop matrix</h1>", "<table>"]
    for k, v in env_lines(info, specs):
        out.append("<tr><th>%s</th><td>%s</td></tr>" % (e(k), e(str(v))))
    out.append("</table>")
    out.append("<h2>Cases per peer, role and variant</h2><table><tr><th>peer</th><th>version</th>")
    variants = ["blocking", "nonblocking", "relay"]
    for role in ("client", "server"):
        for v in variants:
            out.append("<th>%s<br>%s</th>" % (e(ROLE_NAME[role]), v))
    out.append("</tr>")
    batches = by_batch(runs)
    for s in peers:
        out.append("<tr><th>%s</th><td class='small'>%s</td>" % (e(s.name), e(s.version)))
        for role in ("client", "server"):
            for v in variants:
                rs = batches.get((s.name, role, v), [])
                bad = sum(1 for r in rs if r["result"] in ("fail", "blocked")
                          and r.get("baseline") != "fail")
                known = sum(1 for r in rs if r["result"] in ("fail", "blocked")
                            and r.get("baseline") == "fail")
                cls = "fail" if bad else ("known" if known else ("pass" if rs else "na"))
                txt = "%d/%d passed" % (sum(1 for r in rs if r["result"] == "pass"), len(rs))
                out.append("<td class='%s'>%s</td>" % (cls, txt if rs else "–"))
        out.append("</tr>")
    out.append("</table>")
    out.append("<h2>Features</h2><p class='small'>Rows: peer (version); in each cell "
               "<b>C</b> = sslua as client against the peer's server, <b>S</b> = the peer's "
               "client against sslua's server, over the three variants.</p>")
    out.append("<table><tr><th>legend</th></tr>")
    for cls, sym, text in LEGEND:
        out.append("<tr><td class='%s'>%s %s</td></tr>" % (cls, e(sym), e(text)))
    out.append("</table><table><tr><th rowspan=2>peer</th>")
    groups = []
    for group, col, _ in COLUMNS:
        if group not in groups:
            groups.append(group)
    for group in groups:
        n = sum(1 for gname, _, _ in COLUMNS if gname == group)
        out.append("<th colspan=%d>%s</th>" % (n, e(group)))
    out.append("</tr><tr>")
    for _, col, _ in COLUMNS:
        out.append("<th>%s</th>" % e(col))
    out.append("</tr>")
    for s in peers:
        out.append("<tr><th>%s<br><span class='small'>%s</span></th>" % (e(s.name),
                                                                        e(s.version)))
        for _, col, _ in COLUMNS:
            parts, classes = [], []
            for role, tag in (("client", "C"), ("server", "S")):
                cls, text = cell(g.get((s.name, role, col), []))
                classes.append(cls)
                parts.append("<b>%s</b> %s" % (tag, e(text)))
            cls = combine(classes[0], classes[1])
            out.append("<td class='%s'>%s</td>" % (cls, "<br>".join(parts)))
        out.append("</tr>")
    out.append("</table>")
    out += cipher_table_html(runs, peers)
    if comp:
        out.append("<h2>Baseline comparison</h2><ul>")
        for line in baseline_md(comp)[3:]:
            out.append("<li>%s</li>" % e(line.lstrip("- ")))
        out.append("</ul>")
    fails = [r for r in runs if r["result"] in ("fail", "blocked")]
    if fails:
        out.append("<h2>Failing cases</h2><table><tr><th>peer</th><th>role</th><th>variant</th>"
                   "<th>case</th><th>expected</th><th>detail</th></tr>")
        for r in fails[:1000]:
            cls = "known" if r.get("baseline") == "fail" else "fail"
            out.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td class='%s'><code>%s</code></td></tr>" % (tuple(
                           map(e, (r["peer"], r["role"], r["variant"], r["case"],
                                   r["expected"]))) + (cls, e(r["detail"][:600]))))
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def cipher_table_html(runs, peers):
    e = html.escape
    suites = sorted({r["case"].split("/", 1)[1] for r in runs if r["family"] in
                     ("cipher12", "cipher13")})
    if not suites:
        return []
    idx = {}
    for r in runs:
        if r["family"] in ("cipher12", "cipher13"):
            idx.setdefault((r["case"].split("/", 1)[1], r["peer"], r["role"]), []).append(r)
    out = ["<h2>Cipher suites, one by one</h2><table><tr><th>suite</th>"]
    for s in peers:
        out.append("<th colspan=2>%s</th>" % e(s.name))
    out.append("</tr><tr><th></th>" + "<th>C</th><th>S</th>" * len(peers) + "</tr>")
    for suite in suites:
        out.append("<tr><td><code>%s</code></td>" % e(suite))
        for s in peers:
            for role in ("client", "server"):
                cls, text = cell(idx.get((suite, s.name, role), []))
                out.append("<td class='%s'>%s</td>" % (cls, e(text)))
        out.append("</tr>")
    out.append("</table>")
    return out


# ---------------------------------------------------------------- verify reason classes

CLASS_STATES = ["checked", "mismatch", "not reported", "no report"]


def verify_class_counts(rows):
    """{(peer, who verifies: "sslua"/"peer"): {state: cases}} over the cases
    where a side refuses a certificate (judge.verify_class)."""
    out = {}
    for r in rows:
        vc = r.get("verify_class")
        if vc:
            counts = out.setdefault((r["peer"], vc["by"]), dict.fromkeys(CLASS_STATES, 0))
            counts[vc["state"]] += 1
    return out


def verify_class_table(rows):
    """Rows of the verify reason class table: a header, then one per peer
    and verifier."""
    table = [["peer", "verifier"] + CLASS_STATES]
    for (peer, by), counts in sorted(verify_class_counts(rows).items()):
        table.append([peer, by] + [str(counts[s]) for s in CLASS_STATES])
    return table if len(table) > 1 else []


# ---------------------------------------------------------------- console

def console_summary(rows, info, specs, comp):
    runs = [r for r in rows if r["role"] != "-"]
    out = ["%-8s %-6s %-11s %6s %6s %6s %6s" % ("peer", "role", "variant", "cases", "pass",
                                                 "fail", "n/a")]
    for (peer, role, variant), rs in sorted(by_batch(runs).items()):
        out.append("%-8s %-6s %-11s %6d %6d %6d %6d" % (
            peer, role, variant, len(rs), sum(1 for r in rs if r["result"] == "pass"),
            sum(1 for r in rs if r["result"] in ("fail", "blocked")),
            sum(1 for r in rs if r["result"] == "unavailable")))
    for s in specs:
        if not s.available and s.reason != "not selected":
            out.append("peer %s UNAVAILABLE (not passed): %s" % (s.name, s.reason))
    classes = verify_class_table(runs)
    if classes:
        out += ["", "verify reason class, where a side refuses a certificate "
                    "(not reported / no report: not checked)"]
        out += ["%-8s %-8s %8s %9s %13s %10s" % tuple(line) for line in classes]
    if comp and comp.get("has_baseline"):
        out.append("")
        out.append("baseline: %d regressions, %d new failures, %d improvements, "
                   "%d known unsupported" % (len(comp["regressions"]), len(comp["new_failures"]),
                                             len(comp["improvements"]), len(comp["known"])))
        for r in comp["regressions"][:60]:
            out.append("  REGRESSION %s: expected %s; %s" % (r["key"], r["expected"],
                                                             r["detail"][:200]))
        for r in comp["new_failures"][:60]:
            out.append("  NEW FAILURE %s: expected %s; %s" % (r["key"], r["expected"],
                                                              r["detail"][:200]))
        for r in comp["improvements"][:60]:
            out.append("  improvement %s: now %s" % (r["key"], r["result"]))
        for key, old, new in comp["feature_changes"][:60]:
            out.append("  feature %s: %s -> %s" % (key, old, new))
        for peer in sorted(set(comp["missing_peers"])):
            out.append("  WARNING peer %s is in the baseline but could not run" % peer)
    elif comp is not None:
        out.append("")
        out.append("no baseline yet (%s): every failure counts; "
                   "`make interop-baseline` records the current support"
                   % comp.get("baseline_path", "interop/baseline.json"))
    return "\n".join(out)


def write_all(out, rows, info, specs, comp, fault_rows=()):
    """fault_rows: the fault matrix (faults.py), a section of its own."""
    os.makedirs(out, exist_ok=True)
    if fault_rows:
        faults.write_csv(os.path.join(out, "faults.csv"), fault_rows)
    write_csv(os.path.join(out, "results.csv"), rows)
    write_json(os.path.join(out, "results.json"), rows, info, specs, comp)
    write_junit(os.path.join(out, "junit.xml"), rows)
    with open(os.path.join(out, "matrix.md"), "w") as f:
        f.write(matrix_md(rows, info, specs, comp) + faults.section_md(fault_rows))
    with open(os.path.join(out, "matrix.html"), "w") as f:
        f.write(matrix_html(rows, info, specs, comp).replace(
            "</body>", faults.section_html(fault_rows) + "</body>"))
