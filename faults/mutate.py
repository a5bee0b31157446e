#!/usr/bin/env python3
"""faults/mutate.py - mutation testing of src/ (make mutate N=40 SEED=1).

Samples N mutants of src/ - relational and logical operators, + and -,
negated conditions, dropped negations, flipped returns, dropped OpenSSL
setter calls (C), and the same kinds in ssl.lua and ssl/https.lua -
reproducibly from SEED. Each mutant is built in a scratch copy of the tree
(build/mutate/tree; the work tree is never written) and judged by the spec
files relevant to its file (SPECS below): killed when a test that passes
without the mutant fails, when busted dies, or when the per-mutant time
limit (MUTATE_TIMEOUT, default 600 s) ends it - its whole process group
is killed then. A mutant that does not compile is stillborn and not
counted. A survivor is judged again against a second unmutated run (a
test the busy machine failed once in the baseline may pass then: the
passes of both runs count). Mutants listed in faults/equivalent.txt (the same behaviour as
the original, with the argument) count apart. Prints the score and every
survivor with file:line, the original line and the mutant.

  faults/mutate.py [--n N] [--seed S] [--list] [--only FILE:LINE]
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = os.path.join(TOP, "build", "mutate", "tree")
TIMEOUT = int(os.environ.get("MUTATE_TIMEOUT", "600"))

# The spec files that judge a mutant of each source file: those that
# exercise it (by grep and by reading), the slow ones only where needed.
CORE = ["module_spec", "io_spec", "lifetime_spec", "params_spec"]
TLS = ["handshake_openssl_spec", "protocols_spec", "sni_spec", "alpn_spec", "psk_spec", "dane_spec"]
SPECS = {
    "alert.c": ["alert_spec", "errobj_spec", "io_spec", "callback_errors_spec"],
    "alpn.c": ["alpn_spec", "collection_spec", "callback_errors_spec", "injected_failures_spec"],
    "buffer.c": ["io_spec", "faults_spec", "fuzz_regressions_spec"],
    "compat.c": CORE + ["collection_spec", "callback_errors_spec"],
    "config.c": ["module_spec", "option_effects_spec", "groups_spec"],
    "connection.c": CORE + ["close_variables_spec", "handshake_openssl_spec", "alert_spec",
                            "verify_reasons_spec", "injected_failures_spec"],
    "context.c": ["params_spec", "options_spec", "option_effects_spec", "protocols_spec",
                  "session_spec", "injected_failures_spec"],
    "credentials.c": ["credentials_spec", "load_errors_spec", "system_ca_spec", "params_spec",
                      "callback_errors_spec", "injected_failures_spec"],
    "dane.c": ["dane_spec", "injected_failures_spec"],
    "errobj.c": ["errobj_spec", "alert_spec", "verify_reasons_spec", "load_errors_spec"],
    "errors.c": ["errobj_spec", "alert_spec", "verify_reasons_spec", "load_errors_spec", "hostname_spec",
                 "io_spec"],
    "module.c": CORE,
    "groups.c": ["groups_spec", "injected_failures_spec"],
    "hostname.c": ["hostname_spec", "verifycallback_spec", "verify_reasons_spec", "injected_failures_spec"],
    "inspect.c": ["verifyext_spec", "credentials_spec", "close_variables_spec", "lifetime_spec",
                  "protocols_spec", "groups_spec", "injected_failures_spec"],
    "keylog.c": ["keylog_spec"],
    "objects.c": CORE + ["collection_spec", "callback_errors_spec"],
    "ocsp.c": ["ocsp_spec", "errobj_spec", "injected_failures_spec"],
    "options.c": ["options_spec", "option_effects_spec", "params_spec"],
    "psk.c": ["psk_spec", "callback_errors_spec", "injected_failures_spec"],
    "range.c": ["ranges_spec", "protocols_spec", "injected_failures_spec"],
    "session.c": ["session_spec", "sessioncache_spec", "collection_spec", "injected_failures_spec"],
    "sni.c": ["sni_spec", "injected_failures_spec"],
    "socket.c": ["io_spec"],
    "timeout.c": ["io_spec", "faults_spec", "slowloris_spec"],
    "verify.c": ["verifyext_spec", "verifycallback_spec", "verify_reasons_spec", "verify_spec",
                 "callback_errors_spec", "injected_failures_spec"],
    "x509.c": ["x509_spec", "x509_digest_spec", "injected_failures_spec"],
    "x509_asn1.c": ["x509_spec"],
    "x509_ext.c": ["x509_spec"],
    "ssl.lua": CORE + TLS + ["options_spec", "credentials_spec", "session_spec", "sessioncache_spec",
                             "hostname_spec", "ocsp_spec", "keylog_spec", "groups_spec",
                             "verifyext_spec", "ranges_spec", "alert_spec", "callback_errors_spec",
                             "secureclient_spec", "load_errors_spec", "verifycallback_spec"],
    "https.lua": ["https_spec", "https_port_spec"],
}

# Operators, as (pattern, replacement); each match outside strings and
# comments is one mutant. Lookarounds keep <<, ->, >>=, <= etc. intact.
C_OPS = [
    ("rel", r"==", "!="), ("rel", r"!=", "=="),
    ("rel", r"<=", "<"), ("rel", r">=", ">"),
    ("rel", r"(?<![<\-])<(?![<=])", "<="), ("rel", r"(?<![>\-])>(?![>=])", ">="),
    ("logic", r"&&", "||"), ("logic", r"\|\|", "&&"),
    ("arith", r" \+ ", " - "), ("arith", r" - ", " + "),
    ("not", r"!(?!=)", ""),
    ("return", r"\breturn 1;", "return 0;"), ("return", r"\breturn 0;", "return 1;"),
]
LUA_OPS = [
    ("rel", r"==", "~="), ("rel", r"~=", "=="),
    ("rel", r"<=", "<"), ("rel", r">=", ">"),
    ("logic", r"\band\b", "or"), ("logic", r"\bor\b", "and"),
    ("not", r"\bnot ", ""),
    ("return", r"\breturn true\b", "return false"), ("return", r"\breturn false\b", "return true"),
]
SETTER = re.compile(r"^(\s*)(\(void\))?\s*(SSL_CTX_set|SSL_set|SSL_CTX_clear|SSL_clear|SSL_CTX_sess_set|"
                    r"X509_VERIFY_PARAM_set|X509_STORE_set|SSL_CTX_add)\w*\(.*\);\s*$")
C_IF = re.compile(r"\bif \(")
LUA_IF = re.compile(r"\bif (.+) then\b")


def code_mask(line, lua):
    """Positions of line that are code: not inside a string or a comment."""
    mask = [True] * len(line)
    i, quote = 0, None
    while i < len(line):
        ch = line[i]
        if quote:
            mask[i] = False
            if ch == "\\":
                if i + 1 < len(line):
                    mask[i + 1] = False
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            mask[i] = False
        elif (lua and line.startswith("--", i)) or (not lua and line.startswith("//", i)) \
                or (not lua and line.startswith("/*", i)):
            for j in range(i, len(line)):
                mask[j] = False
            break
        i += 1
    return mask


def closing_paren(line, start):
    depth = 0
    for i in range(start, len(line)):
        if line[i] == "(":
            depth += 1
        elif line[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def candidates(path):
    """Every mutant of one file: (path, line number, kind, new line)."""
    lua = path.endswith(".lua")
    out = []
    with open(os.path.join(TOP, path)) as f:
        lines = f.read().split("\n")
    in_comment = False
    for no, line in enumerate(lines, 1):
        stripped = line.strip()
        if not lua:
            if in_comment:
                if "*/" in line:
                    in_comment = False
                continue
            if stripped.startswith("/*") and "*/" not in stripped:
                in_comment = True
                continue
            if stripped.startswith(("#", "*", "/*", "//")) or not stripped:
                continue
        elif stripped.startswith("--") or not stripped:
            continue
        mask = code_mask(line, lua)
        for kind, pat, rep in (LUA_OPS if lua else C_OPS):
            for m in re.finditer(pat, line):
                if all(mask[m.start():m.end()]):
                    out.append((path, no, kind, line[:m.start()] + rep + line[m.end():]))
        if lua:
            m = LUA_IF.search(line)
            if m and all(mask[m.start():m.end()]):
                out.append((path, no, "negate", line[:m.start(1)] + "not (" + m.group(1) + ")" +
                            line[m.end(1):]))
        else:
            m = C_IF.search(line)
            if m and mask[m.start()]:
                open_at = m.end() - 1
                close = closing_paren(line, open_at)
                if close > 0:
                    out.append((path, no, "negate", line[:open_at + 1] + "!(" +
                                line[open_at + 1:close] + ")" + line[close:]))
            if SETTER.match(line):
                indent = SETTER.match(line).group(1)
                out.append((path, no, "drop", indent + "(void)0;   /* mutant: call dropped */"))
    return out


def all_candidates():
    files = sorted(f for f in os.listdir(os.path.join(TOP, "src")) if f.endswith(".c"))
    paths = ["src/" + f for f in files] + ["src/ssl.lua", "src/ssl/https.lua"]
    out = []
    for p in paths:
        out.extend(candidates(p))
    return out


def load_equivalents():
    """faults/equivalent.txt: file, original line, mutant line, why (tabs)."""
    eq = {}
    path = os.path.join(TOP, "faults", "equivalent.txt")
    with open(path) as f:
        for raw in f:
            if raw.startswith("#") or not raw.strip():
                continue
            parts = raw.rstrip("\n").split("\t")
            if len(parts) != 4:
                sys.exit("faults/equivalent.txt: four tab-separated fields expected: " + raw)
            eq[(parts[0], parts[1].strip(), parts[2].strip())] = parts[3]
    return eq


def copy_tree():
    """The scratch copy: every tracked or new file of the work tree, and the certs."""
    if os.path.isdir(SCRATCH):
        shutil.rmtree(SCRATCH)
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=TOP,
                            check=True, capture_output=True, text=True).stdout.split("\n")
    for rel in filter(None, listed):
        src = os.path.join(TOP, rel)
        if not os.path.isfile(src):
            continue
        dst = os.path.join(SCRATCH, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    shutil.copytree(os.path.join(TOP, "build", "certs"), os.path.join(SCRATCH, "build", "certs"))


def run(cmd, timeout, **kw):
    """Runs cmd in its own process group; kills the group on time-out.
    Returns (exit status or None on time-out, output)."""
    p = subprocess.Popen(cmd, cwd=SCRATCH, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True, text=True, errors="replace", **kw)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out


def build():
    rc, out = run(["make", "-s", "BUILD=build/5.3", "build"], 600)
    return rc == 0, out


def spec_env():
    env = dict(os.environ)
    env["LUA_CPATH"] = "build/5.3/lib/?.so;;"
    env["LUA_PATH"] = "build/5.3/share/?.lua;build/5.3/share/?/init.lua;spec/?.lua;;"
    env["SSLUA_CERTS"] = "build/certs"
    env["SSLUA_LUA"] = "lua5.3"
    return env


RESULT = re.compile(r"^\[\s*(OK|FAILED|ERROR)\s*\] (spec/\S+ @ \d+: .*?)(?: \([\d.]+ ms\))?$")


def run_specs(specs):
    """(status, passed set, failed set) of busted over the spec files."""
    files = ["spec/%s.lua" % s for s in specs]
    missing = [f for f in files if not os.path.exists(os.path.join(SCRATCH, f))]
    if missing:   # a renamed spec file: SPECS must follow it
        sys.exit("mutate: no %s (update SPECS in faults/mutate.py)" % ", ".join(missing))
    rc, out = run(["lua5.3", "/usr/bin/busted", "-o", "ci/busted_output.lua"] + files, TIMEOUT,
                  env=spec_env())
    passed, failed = set(), set()
    for line in out.split("\n"):
        m = RESULT.match(line)
        if m:
            (passed if m.group(1) == "OK" else failed).add(m.group(2))
    return rc, passed, failed


def main():
    ap = argparse.ArgumentParser(description="mutation testing of src/")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--list", action="store_true", help="print the sampled mutants only")
    ap.add_argument("--only", help="FILE:LINE - the sampled mutants of that line only")
    args = ap.parse_args()

    pool = all_candidates()
    rng = random.Random(args.seed)
    sample = rng.sample(pool, min(args.n, len(pool)))
    if args.only:
        sample = [m for m in pool if "%s:%d" % (m[0], m[1]) == args.only]
    print("mutate: %d candidate mutants in src/, %d sampled (seed %d)" % (len(pool), len(sample), args.seed))
    if args.list:
        for path, no, kind, new in sample:
            print("%s:%d [%s] %s" % (path, no, kind, new.strip()))
        return 0
    equivalents = load_equivalents()
    start = time.time()
    copy_tree()
    ok, out = build()
    if not ok:
        print(out)
        sys.exit("mutate: the unmutated scratch tree does not build")
    baselines = {}
    counts = {"killed": 0, "survived": 0, "stillborn": 0, "equivalent": 0}
    survivors = []
    for i, (path, no, kind, new) in enumerate(sample, 1):
        specs = SPECS.get(os.path.basename(path), CORE)
        key = tuple(specs)
        if key not in baselines:
            ok, _ = build()
            rc, passed, failed = run_specs(specs)
            baselines[key] = passed
            print("  baseline %s: %d passed, %d failed" % (" ".join(specs), len(passed), len(failed)))
        target = os.path.join(SCRATCH, path)
        with open(target) as f:
            original = f.read()
        lines = original.split("\n")
        old = lines[no - 1]
        lines[no - 1] = new
        with open(target, "w") as f:
            f.write("\n".join(lines))
        t0 = time.time()
        try:
            built, _ = build()
            if not built:
                verdict = "stillborn"
            elif (path, old.strip(), new.strip()) in equivalents:
                verdict = "equivalent"
            else:
                rc, passed, failed = run_specs(specs)
                lost = baselines[key] - passed
                if rc is None:
                    verdict = "killed"   # time limit: the group was killed
                elif lost or (rc != 0 and not failed):
                    verdict = "killed"   # a passing test failed, or busted died
                else:
                    verdict = "survived"
        finally:
            with open(target, "w") as f:
                f.write(original)
        if verdict == "survived":
            # A test the loaded machine failed in the baseline may pass now:
            # one more unmutated run, and the passes of both count.
            build()
            _, again, _ = run_specs(specs)
            baselines[key] |= again
            if baselines[key] - passed:
                verdict = "killed"
        counts[verdict] += 1
        print("[%2d/%d] %-10s %s:%d [%s] %s  (%d s)" % (i, len(sample), verdict, path, no, kind,
                                                      new.strip(), time.time() - t0))
        sys.stdout.flush()
        if verdict == "survived":
            survivors.append((path, no, kind, old, new))
    build()
    judged = counts["killed"] + counts["survived"]
    print("\nmutation score: %d/%d killed (%.0f%%); %d stillborn, %d equivalent (faults/equivalent.txt); %d s"
          % (counts["killed"], judged, 100.0 * counts["killed"] / judged if judged else 0,
             counts["stillborn"], counts["equivalent"], time.time() - start))
    for path, no, kind, old, new in survivors:
        print("SURVIVOR %s:%d [%s]\n  - %s\n  + %s" % (path, no, kind, old.strip(), new.strip()))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
