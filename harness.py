#!/usr/bin/env python3
"""harness.py - the sslua interop harness (make interop, make interop-quick,
make interop-baseline).

It answers "which protocol versions, ciphers, options and verify modes
interoperate, in which role, against which TLS stack": for every peer stack
(interop/peer_*), both roles (sslua as client against the peer's server,
the peer's client against sslua's server) and three execution variants
(blocking, non-blocking, through the byte-at-a-time relay), it runs the
cases of interop/cases.py, compares each outcome with the oracle
(interop/oracle.py), writes the reports into build/interop/ and compares
what is supported with the committed baseline (interop/baseline.json).

This file is the command line and the order of things; the work is done
by the modules of interop/ (interop/README.md lists them). Python 3
standard library only.
"""

import argparse
import os
import signal
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(ROOT, "interop")
sys.path.insert(0, INTEROP)
sys.dont_write_bytecode = True      # no __pycache__ in the work tree

import baseline as baseline_mod  # noqa: E402
import faults  # noqa: E402
import processes  # noqa: E402
import report  # noqa: E402
from environment import Env, environment_info, openssl_mismatch  # noqa: E402
from matrix import ROLES, VARIANTS, build_cases  # noqa: E402
from peers import peer_specs, probe_peers  # noqa: E402
from scheduler import case_count, run_batches  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the representative subset")
    ap.add_argument("--update-baseline", action="store_true",
                    help="write interop/baseline.json from this run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the baseline comparison")
    ap.add_argument("--no-faults", action="store_true", help="skip the fault matrix")
    ap.add_argument("--peers", default="", help="comma-separated peer names (default: all)")
    ap.add_argument("--families", default="", help="comma-separated case families")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--roles", default=",".join(ROLES))
    ap.add_argument("-j", "--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "interop"))
    ap.add_argument("--certs", default=os.environ.get("SSLUA_CERTS",
                                                      os.path.join(ROOT, "build", "certs")))
    ap.add_argument("--lua", default=os.environ.get("SSLUA_LUA", "lua5.3"))
    ap.add_argument("--libdir", default=os.path.join(ROOT, "build", "5.3", "lib"))
    ap.add_argument("--sharedir", default=os.path.join(ROOT, "build", "5.3", "share"))
    ap.add_argument("--baseline", default=os.path.join(INTEROP, "baseline.json"))
    ap.add_argument("-q", "--quiet", action="store_true", help="no line per failing case")
    return ap.parse_args()


def probe(env, args):
    """The peer specs, probed and printed; the environment's peer lines."""
    specs = peer_specs(env)
    wanted = set(p for p in args.peers.split(",") if p)
    probe_peers(env, specs, wanted)
    for s in specs:
        if s.available:
            print("  peer %-8s %s" % (s.name, s.version), flush=True)
        elif s.reason != "not selected":
            print("  peer %-8s UNAVAILABLE: %s" % (s.name, s.reason), flush=True)
    return specs, wanted


def run_faults(env, args, partial):
    """The fault matrix (interop/faults.py): full runs only."""
    if args.quick or args.no_faults or partial:
        return []
    print("fault matrix (interop/faults.py)...", flush=True)
    setup = faults.Setup(env.lua, env.libdir, env.sharedir, env.certs)
    return faults.run_matrix(setup, jobs=2)


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *a: (processes.stop_all(), sys.exit(143)))
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    t0 = time.time()
    env = Env(args)
    info = environment_info(env)
    print("sslua interop: %s, OpenSSL default security level %s, %s" % (
        info.get("openssl"), info.get("security_level"), info.get("lua")), flush=True)
    mismatch = openssl_mismatch(info)
    if mismatch:
        print("error: " + mismatch, flush=True)
        return 2

    specs, wanted = probe(env, args)
    info["peers"] = {s.name: (s.version if s.available else "unavailable: " + s.reason)
                     for s in specs if s.reason != "not selected"}

    families = set(f for f in args.families.split(",") if f)
    variants = [v for v in args.variants.split(",") if v]
    roles = [r for r in args.roles.split(",") if r]
    partial = bool(families or wanted or roles != ROLES or variants != VARIANTS)
    batches = [b for b in build_cases(env, specs, args.quick, families, variants)
               if b[1] in roles]
    print("%d cases in %d batches (%s), %d workers" % (
        case_count(batches), len(batches), "quick subset" if args.quick else "full matrix",
        args.jobs), flush=True)

    rows = run_batches(env, batches, args.jobs, args.quiet)
    # peers that could not run: their cases are reported as unavailable
    rows += [s.unavailable_row() for s in specs
             if not s.available and s.reason != "not selected"]

    fault_rows = run_faults(env, args, partial)
    info["elapsed_seconds"] = round(time.time() - t0, 1)
    info["mode"] = "quick" if args.quick else "full"
    rows.sort(key=lambda r: (r["peer"], r["role"], r["variant"], r["case"]))

    comparison = None
    if not args.no_baseline:
        base = baseline_mod.load(args.baseline)
        comparison = baseline_mod.compare(base, rows, info,
                                          partial=bool(args.quick or partial))
        comparison["baseline_path"] = os.path.relpath(args.baseline, ROOT)
    report.write_all(args.out, rows, info, specs, comparison, fault_rows)
    if args.update_baseline:
        if args.quick or families or wanted:
            print("refusing to write the baseline from a partial run (--quick/--peers/--families)")
            return 2
        baseline_mod.save(args.baseline, rows, info)
        print("baseline written: %s" % os.path.relpath(args.baseline, ROOT))
        comparison = baseline_mod.compare(baseline_mod.load(args.baseline), rows, info)

    counts = baseline_mod.count(rows, comparison)
    fault_pass, fault_fail = faults.counts(fault_rows)
    counts["passed"] += fault_pass
    counts["failed"] += fault_fail
    print()
    print(report.console_summary(rows, info, specs, comparison))
    if fault_rows:
        print(faults.console(fault_rows))
    print("reports: %s/ (results.csv, results.json, junit.xml, matrix.md, matrix.html)"
          % os.path.relpath(args.out, ROOT))
    print("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"],
                                              counts["skipped"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        processes.stop_all()
