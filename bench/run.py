#!/usr/bin/env python3
"""bench/run.py - the sslua benchmark suite: `make bench`, `make bench-quick`.

Runs every timing measurement (handshakes, bulk transfer, memory) in
rounds, each round visiting every case and, within a case, every
implementation back to back in a rotating order, so slow drift of the
machine hits all of them alike; then the callgrind instruction counts
(deterministic, once each) and the system calls per handshake (strace).
Writes <out>/report.md, <out>/results.json, <out>/callgrind/,
<out>/syscalls/ and <out>/logs/. Exits 1 if any driver failed; never
because of a figure.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import callgrind, cases, html, machine, report, syscalls  # noqa: E402
from benchlib.impls import Setup                                # noqa: E402
from benchlib.procs import DriverError                          # noqa: E402

MIB = 1024 * 1024
COMBOS = [("1.3", "rsa"), ("1.3", "ecdsa"), ("1.2", "rsa"), ("1.2", "ecdsa")]

# (client, server): the four pairings of ours and the C reference, each
# against the openssl tools, and upstream LuaSec against the C reference.
PAIRINGS = [("ours", "ref"), ("ref", "ours"), ("ours", "ours"), ("ref", "ref"),
            ("upstream", "ref"), ("ref", "upstream"),
            ("openssl", "ref"), ("ref", "openssl"), ("openssl", "ours"), ("ours", "openssl")]

MODES = {
    "full": dict(runs=3, bulk_bytes=1024 * MIB, line_bytes=1024 * MIB, hs_count=300,
                 mem_count=1000, stime_seconds=1, timeout=300, combos=COMBOS,
                 cg_small_bytes=1 * MIB, cg_extra_bytes=64 * MIB, cg_hs_extra=8,
                 cg_impls=["ours", "ref", "upstream"],
                 https_count=200, load_count=1000, load_wave=100,
                 cg_recv=[(t, p) for t in ("1.3", "1.2") for p in ("16384", "65536")],
                 cg_hs=[(r, t, k) for r in ("client", "server") for t, k in COMBOS]),
    "quick": dict(runs=1, bulk_bytes=8 * MIB, line_bytes=2 * MIB, hs_count=10,
                  mem_count=50, stime_seconds=1, timeout=60,
                  https_count=10, load_count=40, load_wave=20,
                  combos=[("1.3", "ecdsa"), ("1.2", "rsa")],
                  cg_small_bytes=1 * MIB, cg_extra_bytes=2 * MIB, cg_hs_extra=1,
                  cg_impls=["ours", "ref"], cg_recv=[("1.3", "16384")],
                  cg_hs=[("client", "1.3", "ecdsa"), ("server", "1.3", "ecdsa")]),
}

BULK_PATTERNS = ["16384", "65536", "*a", "*l", "send"]
IMPLS = ["ours", "ref", "upstream"]
MEM_IMPLS = ["ours", "ref", "ref_rel", "upstream"]
SECTIONS = ["hs", "bulk", "mem", "https", "load", "cg"]
# Results beside the sections': "sc", the system calls, run with "cg".
RESULT_KEYS = SECTIONS + ["sc"]


class Results:
    """Samples by section and case; failures; all of it saved as JSON."""

    def __init__(self):
        self.data = {s: {} for s in RESULT_KEYS}
        self.failures = []

    def add(self, section, case, impl, sample):
        self.data[section].setdefault(case, {}).setdefault(impl, []).append(sample)

    def get(self, section, case, impl):
        return self.data[section].get(case, {}).get(impl, [])

    def fail(self, what, err):
        self.failures.append((what, str(err)))
        print("FAILED %s: %s" % (what, str(err).strip()), flush=True)

    def save(self, path, meta):
        flat = {s: {"/".join(c): v for c, v in cs.items()} for s, cs in self.data.items()}
        with open(path, "w") as f:
            json.dump({"results": flat, "failures": self.failures, "meta": meta}, f, indent=1)

    @classmethod
    def load(cls, path):
        """-> (results, meta) from a results.json written by save()."""
        with open(path) as f:
            saved = json.load(f)
        self = cls()
        for s, cs in saved["results"].items():
            self.data[s] = {tuple(c.split("/")): v for c, v in cs.items()}
        self.failures = [tuple(x) for x in saved["failures"]]
        meta = saved["meta"]
        meta["cfg"]["combos"] = [tuple(c) for c in meta["cfg"]["combos"]]
        meta["cfg"]["cg_hs"] = [tuple(c) for c in meta["cfg"]["cg_hs"]]
        return self, meta


def rotate(items, n):
    n %= len(items)
    return items[n:] + items[:n]


def timing_plan(cfg, sections):
    """[(section, case, [impls], run(impl) -> sample)] for one round."""
    plan = []
    if "hs" in sections:
        for tls, key in cfg["combos"]:
            plan.append(("hs", (tls, key), PAIRINGS,
                         lambda p, tls=tls, key=key: cases.handshake(
                             CTX, tls, key, p[0], p[1], cfg["hs_count"])))
    if "bulk" in sections:
        for tls in ("1.3", "1.2"):
            for pat in BULK_PATTERNS:
                n = cfg["line_bytes"] if pat == "*l" else cfg["bulk_bytes"]
                plan.append(("bulk", (tls, pat), IMPLS,
                             lambda i, tls=tls, pat=pat, n=n: cases.bulk(CTX, tls, pat, i, n)))
    if "mem" in sections:
        for tls in ("1.3", "1.2"):
            for role in ("server", "client"):
                plan.append(("mem", (tls, role), MEM_IMPLS,
                             lambda i, tls=tls, role=role: cases.memory(
                                 CTX, tls, role, i, cfg["mem_count"])))
    if "https" in sections:
        plan.append(("https", ("1.3", "rsa"), list(cases.HTTPS_VARIANTS),
                     lambda v: cases.https(CTX, v, cfg["https_count"])))
    if "load" in sections:
        plan.append(("load", ("1.3", "rsa"), ["ours", "upstream"],
                     lambda i: cases.load(CTX, i, cfg["load_count"], cfg["load_wave"])))
    return plan


def impl_key(impl):
    return "%s>%s" % impl if isinstance(impl, tuple) else impl


def run_timing(cfg, sections, results):
    plan = timing_plan(cfg, sections)
    total = cfg["runs"] * sum(len(p[2]) for p in plan)
    done = 0
    for rnd in range(cfg["runs"]):
        for section, case, impls, run in plan:
            for impl in rotate(list(impls), rnd):
                done += 1
                what = "%s %s %s" % (section, "/".join(case), impl_key(impl))
                try:
                    sample = run(impl)
                except (DriverError, OSError, KeyError, ValueError) as e:  # a driver's fault
                    results.fail(what, e)
                    continue
                results.add(section, case, impl_key(impl), sample)
                print("[%d/%d] round %d %s: %s" % (done, total, rnd + 1, what,
                                                   report.brief(sample)), flush=True)


def check_equivalence(results):
    """Every implementation in a case must have negotiated the same protocol
    and cipher, or the comparison is not like for like."""
    for section in ("hs", "bulk"):
        for case, by_impl in results.data[section].items():
            seen = {(s.get("protocol"), s.get("cipher")) for samples in by_impl.values()
                    for s in samples if s.get("cipher")}
            if len(seen) > 1:
                results.fail("%s %s" % (section, "/".join(case)),
                             "implementations negotiated different suites: %s" % sorted(seen))


def cg_recv(cfg, tls, pattern, impl, outdir):
    """Ir of `extra` bytes received: (small + extra) minus small."""
    def measure(nbytes, tag):
        out = os.path.join(outdir, "recv-%s-%s.%s.%s.out" % (tls, pattern, impl, tag))
        ir = callgrind.run(
            CTX, impl,
            lambda port: CTX.setup.argv(impl, "bulk", role="recv", pattern=pattern, port=port,
                                        tls=tls, key=cases.BULK_KEY, bytes=nbytes),
            lambda port: CTX.setup.argv("ref", "bulk", role="source", port=port, tls=tls,
                                        key=cases.BULK_KEY, bytes=nbytes),
            False, out)
        return ir, out
    small = measure(cfg["cg_small_bytes"], "small")
    large = measure(cfg["cg_small_bytes"] + cfg["cg_extra_bytes"], "large")
    return small, large, cfg["cg_extra_bytes"] / cases.MB


def cg_hs(cfg, role, tls, key, impl, outdir, tool=callgrind, ext="out"):
    """What `tool` counts (callgrind: Ir; syscalls: calls by name) for one
    handshake in `role` and for 1 + extra: the extra is their difference."""
    peer_role = "client" if role == "server" else "server"

    def measure(count, tag):
        out = os.path.join(outdir, "hs-%s-%s-%s.%s.%s.%s" % (role, tls, key, impl, tag, ext))
        ir = tool.run(
            CTX, impl,
            lambda port: CTX.setup.argv(impl, "hs", role=role, port=port, tls=tls, key=key,
                                        count=count),
            lambda port: CTX.setup.argv("ref", "hs", role=peer_role, port=port, tls=tls,
                                        key=key, count=count),
            role == "server", out)
        return ir, out
    small = measure(1, "small")
    large = measure(1 + cfg["cg_hs_extra"], "large")
    return small, large, cfg["cg_hs_extra"]


def cg_job(case, impl, run, outdir, results):
    """One callgrind pair (small and large run) and its profile."""
    what = "callgrind %s %s" % ("/".join(case), impl)
    try:
        (ir_s, out_s), (ir_l, out_l), units = run(impl)
        top = os.path.splitext(out_l)[0].rsplit(".", 1)[0] + ".top.txt"
        extra = callgrind.extra_work(out_s, out_l)
        report.write_top(top, callgrind.top(extra, 30), what, units, case)
    except (DriverError, OSError, KeyError, ValueError, subprocess.SubprocessError) as e:
        results.fail(what, e)
        return
    sample = {"small": ir_s, "large": ir_l, "per_unit": (ir_l - ir_s) / units,
              "top": os.path.relpath(top, os.path.dirname(outdir)),
              "profile": {fn: ir / units for ir, fn in callgrind.top(extra, 300)}}
    results.add("cg", case, impl, sample)
    print("%s: %.0f Ir per %s" % (what, sample["per_unit"],
                                  "MB" if case[0] == "recv" else "handshake"), flush=True)


def sc_job(cfg, case, impl, outdir, results):
    """System calls per handshake, by call, of one handshake case."""
    what = "syscalls %s %s" % ("/".join(case), impl)
    try:
        (small, _), (large, _), units = cg_hs(cfg, case[1], case[2], case[3], impl, outdir,
                                              tool=syscalls, ext="strace.txt")
    except (DriverError, OSError, ValueError, subprocess.SubprocessError) as e:
        results.fail(what, e)
        return
    by_call = syscalls.per_unit(small, large, units)
    total = sum(by_call.values())
    results.add("sc", case, impl, {"per_unit": total, "by_call": by_call})
    print("%s: %.1f system calls per handshake" % (what, total), flush=True)


def run_callgrind(cfg, results, outdir, scdir):
    """Instruction and system call counts do not depend on what else runs,
    so the jobs use every core (the native peers need little CPU)."""
    jobs = [(("recv",) + c, lambda i, c=c: cg_recv(cfg, c[0], c[1], i, outdir))
            for c in cfg["cg_recv"]]
    jobs += [(("hs",) + c, lambda i, c=c: cg_hs(cfg, c[0], c[1], c[2], i, outdir))
             for c in cfg["cg_hs"]]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [pool.submit(cg_job, case, impl, run, outdir, results)
                   for case, run in jobs for impl in cfg["cg_impls"]]
        futures += [pool.submit(sc_job, cfg, ("hs",) + c, impl, scdir, results)
                    for c in cfg["cg_hs"] for impl in cfg["cg_impls"]]
        for f in futures:
            f.result()
    compare_profiles(results)


def compare_profiles(results):
    """Per case, where ours spends more instructions than the C reference:
    ours' profile minus the reference's, function by function (both run the
    same libssl/libcrypto, so their functions line up)."""
    for case, by_impl in results.data["cg"].items():
        if by_impl.get("ours") and by_impl.get("ref"):
            ours, ref = by_impl["ours"][0]["profile"], by_impl["ref"][0]["profile"]
            diff = {fn: ours.get(fn, 0) - ref.get(fn, 0) for fn in set(ours) | set(ref)}
            by_impl["ours"][0]["vs_ref"] = [(callgrind.short_name(fn), ir)
                                             for ir, fn in callgrind.top(diff, 6)]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lua", default="lua5.3")
    ap.add_argument("--libdir", default="build/5.3/lib")
    ap.add_argument("--sharedir", default="build/5.3/share")
    ap.add_argument("--certs", default="build/certs")
    ap.add_argument("--ref", default="build/bench/ref")
    ap.add_argument("--openssl", default="openssl")
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one run (CI)")
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help="comma list of hs,bulk,mem,cg (default: all)")
    ap.add_argument("--rerender", action="store_true",
                    help="only rewrite report.md from <out>/results.json")
    ap.add_argument("--runs", type=int, help="rounds of timing runs (default 3; quick 1)")
    ap.add_argument("--bulk-mib", type=int, help="MiB per bulk run (default 1024; quick 8)")
    ap.add_argument("--line-mib", type=int, help="MiB per receive(\"*l\") run (default 1024)")
    return ap.parse_args()


def raise_fd_limit():
    """1,000 connections per process need more descriptors than some defaults."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main():
    global CTX
    args = parse_args()
    if args.rerender:
        return finish(*Results.load(os.path.join(args.out, "results.json")), args.out)
    cfg = dict(MODES["quick" if args.quick else "full"])
    for key, value in (("runs", args.runs), ("bulk_bytes", args.bulk_mib and args.bulk_mib * MIB),
                       ("line_bytes", args.line_mib and args.line_mib * MIB)):
        if value:
            cfg[key] = value
    sections = [s for s in args.sections.split(",") if s]
    for tool in (args.lua, args.openssl, args.ref, os.path.join(os.path.dirname(args.ref), "load"),
                 "valgrind", "callgrind_annotate", "strace"):
        if shutil.which(tool) is None and not os.access(tool, os.X_OK):
            sys.exit("bench: %s not found" % tool)
    raise_fd_limit()
    logdir, cgdir = os.path.join(args.out, "logs"), os.path.join(args.out, "callgrind")
    scdir = os.path.join(args.out, "syscalls")
    for d in (logdir, cgdir, scdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    CTX = cases.Context(Setup(args), logdir, cfg["timeout"], cfg["stime_seconds"])
    results = Results()
    started, load0 = time.time(), machine.loadavg()
    run_timing(cfg, sections, results)
    check_equivalence(results)
    timing_done = time.time()
    if "cg" in sections:
        run_callgrind(cfg, results, cgdir, scdir)
    print("timing runs %.0f s, callgrind %.0f s" % (timing_done - started, time.time() - timing_done))
    meta = {"mode": "quick" if args.quick else "full", "cfg": cfg, "sections": sections,
            "started": started, "seconds": time.time() - started,
            "load": (load0, machine.loadavg()),
            "machine": machine.info(args.lua, args.openssl)}
    results.save(os.path.join(args.out, "results.json"), meta)
    finish(results, meta, args.out)


def finish(results, meta, out):
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write(report.render(results, meta))
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(html.render(results, meta))
    print(report.summary(results, meta))
    print("report: %s (%.0f s)" % (path, meta["seconds"]))
    if results.failures:
        print("bench: %d driver failure(s)" % len(results.failures))
        sys.exit(1)


CTX = None

if __name__ == "__main__":
    main()
