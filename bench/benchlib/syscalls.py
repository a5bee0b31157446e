"""System calls per handshake with `strace -c`, N vs N + extra.

Callgrind sees user-space instructions only; what a handshake costs in
the kernel starts with the system calls it makes. The measured process
runs twice under `strace -c` against the native C reference peer, with
one handshake and with 1 + extra, and the difference of the two counts,
call by call, is what the extra handshakes made: start-up, loading the
certificates and the first handshake cancel out, as in callgrind.py.

The counts are the calls made, not their cost: a read that finds nothing
yet (EAGAIN) counts as one, so they depend a little on the timing between
the two processes; strace slows the measured side, so no time is taken.
"""
import os

from .cases import run_counted
from .procs import DriverError


def strace_argv(out_file, argv):
    return ["strace", "-c", "-o", out_file] + argv


def parse(text):
    """{syscall: calls} from `strace -c`'s table (the total row left out).

    Rows are `% time, seconds, usecs/call, calls, [errors,] syscall`: the
    errors column is empty when a call never failed."""
    counts = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) not in (5, 6) or not fields[3].isdigit() or fields[-1] == "total":
            continue
        counts[fields[-1]] = counts.get(fields[-1], 0) + int(fields[3])
    return counts


def run(ctx, impl, measured, peer, measured_is_server, out_file):
    """Runs measured(port) under `strace -c` against the C reference
    peer(port); returns {syscall: calls} of the measured process."""
    run_counted(ctx, impl, measured, peer, measured_is_server, "sc-" + os.path.basename(out_file),
                lambda argv: strace_argv(out_file, argv), ctx.setup.env(impl))
    with open(out_file) as f:
        counts = parse(f.read())
    if not counts:
        raise DriverError("%s: no strace table" % out_file)
    return counts


def per_unit(small, large, units):
    """{syscall: calls per unit} of the extra work: large minus small."""
    names = set(small) | set(large)
    return {k: (large.get(k, 0) - small.get(k, 0)) / float(units) for k in names
            if large.get(k, 0) != small.get(k, 0)}


def difference(ours, ref, n=6):
    """[(syscall, ours minus ref)] per unit, the largest differences first."""
    diff = {k: ours.get(k, 0) - ref.get(k, 0) for k in set(ours) | set(ref)}
    return sorted(((k, d) for k, d in diff.items() if abs(d) >= 0.5),
                  key=lambda kd: (-abs(kd[1]), kd[0]))[:n]
