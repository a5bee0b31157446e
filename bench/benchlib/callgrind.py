"""Instruction counts with `valgrind --tool=callgrind`, N vs N + extra.

The measured process runs twice under callgrind, against a native C
reference peer: once with a small amount of work (one handshake, or
1 MiB received) and once with `extra` more (handshakes, or 64 MiB). The
difference of the two totals is the cost of the extra work alone:
process, interpreter and library start-up, context set-up and the first
(cold) handshake cancel out. The same subtraction per function gives
the profile of just that work (top_functions).

glibc's memcpy/memset use `rep movsb/stosb` for large blocks, which
callgrind counts as one instruction per byte; the tunables below make
them use their vector loops instead (what `rep movsb` costs in reality is
far closer to that), for every implementation alike.
"""
import os
import re
import subprocess

from .cases import run_counted
from .procs import DriverError

TUNABLES = "glibc.cpu.x86_rep_movsb_threshold=2147483647:glibc.cpu.x86_rep_stosb_threshold=2147483647"


def valgrind_argv(out_file, argv):
    return ["valgrind", "--tool=callgrind", "-q", "--callgrind-out-file=" + out_file] + argv


def total_ir(out_file):
    with open(out_file) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise DriverError("%s: no totals line" % out_file)


def run(ctx, impl, measured, peer, measured_is_server, out_file):
    """Runs measured(port) (an argv) under callgrind and the C reference
    peer(port) natively; the server side gets port 0 and reports its own.
    Returns the total instruction count of the measured process."""
    env = ctx.setup.env(impl)
    env["GLIBC_TUNABLES"] = TUNABLES
    run_counted(ctx, impl, measured, peer, measured_is_server, "cg-" + os.path.basename(out_file),
                lambda argv: valgrind_argv(out_file, argv), env)
    return total_ir(out_file)


# ------------------------------------------------------------ profiles

LINE = re.compile(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.+)$")


def self_costs(out_file):
    """{function: self Ir} from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", out_file],
                          capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m and "PROGRAM TOTALS" not in line:
            costs[m.group(2).strip()] = int(m.group(1).replace(",", ""))
    return costs


def extra_work(small, large):
    """{function: self Ir} of the extra work: large minus small."""
    a, b = self_costs(small), self_costs(large)
    return {fn: b.get(fn, 0) - a.get(fn, 0) for fn in set(a) | set(b)}


def top(costs, n):
    """[(Ir, function)], the n largest positive."""
    return sorted(((ir, fn) for fn, ir in costs.items() if ir > 0), reverse=True)[:n]


def short_name(fn):
    """'./x/memmove.S:__memcpy_avx [/usr/lib/.../libc.so.6]' -> 'libc.so.6:__memcpy_avx',
    '???:0x00000f420 [/usr/bin/lua5.3]' -> 'lua5.3:0xf420'. A recursion
    level callgrind appends ('0x...d420'2) is kept: it names another row."""
    m = re.match(r"^(.*?):(\S+)(?: \[(.*)\])?$", fn)
    if not m:
        return fn
    where, name, obj = m.groups()
    address = re.match(r"^0x([0-9a-fA-F]+)(.*)$", name)
    if address:
        name = "0x%x%s" % (int(address.group(1), 16), address.group(2))
    return "%s:%s" % (os.path.basename(obj or where), name)
