"""The option-support baseline: interop/baseline.json records what is
supported on this platform, so that `make interop` fails when support
regresses and tells when it improves.

It holds, for every case that does not pass on this platform, how it ends
("fail" or "unavailable", e.g. a parameter the module does not have yet);
every other case of a peer that was available is expected to pass. It also
holds the feature summary (peer|role|feature -> interoperates / refused
as expected / partial / unsupported / unavailable; see features()), for
people to read and for the diff printed after a run. `make interop-baseline` rewrites it from a full run.
"""

import datetime
import json
import os

FORMAT = 1


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def status_of(row):
    return {"pass": "pass", "unavailable": "unavailable"}.get(row["result"], "fail")


def features(rows):
    """peer|role|feature -> interoperates / refused as expected (the peer or
    the configuration does not allow it, and the handshake fails as the
    oracle says) / interoperates, some refused / partial (some cases fail) /
    unsupported (every case fails) / unavailable (not in the module)."""
    cells = {}
    for row in rows:
        for feat in row["features"]:
            key = "%s|%s|%s" % (row["peer"], row["role"], feat)
            cells.setdefault(key, []).append((status_of(row), row["expected"].startswith("ok")))
    out = {}
    for key, states in sorted(cells.items()):
        st = [s for s, _ in states]
        if all(s == "pass" for s in st):
            oks = sum(1 for _, ok in states if ok)
            out[key] = ("interoperates" if oks == len(states) else
                        "refused as expected" if oks == 0 else "interoperates, some refused")
        elif all(s == "unavailable" for s in st):
            out[key] = "unavailable"
        elif any(s == "pass" for s in st):
            out[key] = "partial"
        else:
            out[key] = "unsupported"
    return out


def save(path, rows, info):
    ran = [r for r in rows if r["role"] != "-"]
    data = {
        "format": FORMAT,
        "comment": "What interoperates on this platform: written by `make interop-baseline`, "
                   "compared by `make interop`. Cases not listed under not_passing pass.",
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "environment": {k: info.get(k) for k in ("openssl", "security_level", "lua", "sslua",
                                                 "peers")},
        "cases": len(ran),
        "peers": sorted({r["peer"] for r in ran}),
        "not_passing": {r["key"]: status_of(r) for r in ran if status_of(r) != "pass"},
        "features": features(ran),
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


def compare(base, rows, info, partial=False):
    """Sorts every case of this run against the baseline."""
    comp = {"regressions": [], "new_failures": [], "improvements": [], "known": [],
            "feature_changes": [], "missing_peers": [], "has_baseline": base is not None}
    if base is None:
        return comp
    np = base.get("not_passing", {})
    base_peers = set(base.get("peers", []))
    for row in rows:
        if row["role"] == "-":          # a peer that could not run at all
            if row["peer"] in base_peers:
                comp["missing_peers"].append(row["peer"])
            continue
        was = np.get(row["key"], "pass" if row["peer"] in base_peers else None)
        now = status_of(row)
        row["baseline"] = was
        if was is None:                 # a peer the baseline does not know
            if now == "fail":
                comp["new_failures"].append(row)
            continue
        if now == "pass":
            if was != "pass":
                comp["improvements"].append(row)
        elif now == "fail":
            if was == "pass":
                comp["regressions"].append(row)
            elif was == "fail":
                comp["known"].append(row)
            else:
                comp["new_failures"].append(row)
        else:                           # unavailable now
            if was == "pass":
                comp["regressions"].append(row)
            else:
                comp["known"].append(row)
    # A partial run (--quick, --peers, ...) sees only some cases of a feature.
    now_feats = {} if partial else features([r for r in rows if r["role"] != "-"])
    for key, state in sorted(now_feats.items()):
        old = base.get("features", {}).get(key)
        if old is not None and old != state:
            comp["feature_changes"].append((key, old, state))
    return comp


def count(rows, comp):
    passed = sum(1 for r in rows if r["result"] == "pass")
    if comp is None or not comp.get("has_baseline"):
        failed = sum(1 for r in rows if r["result"] in ("fail", "blocked"))
        skipped = sum(1 for r in rows if r["result"] == "unavailable")
    else:
        failed = len(comp["regressions"]) + len(comp["new_failures"])
        skipped = len(rows) - passed - failed
    return {"passed": passed, "failed": failed, "skipped": skipped}
