"""One measurement each: a handshake pairing, a bulk transfer, idle memory.

Each function starts the peer and the measured process, waits for both,
stops everything by pid and returns one sample (a dict of figures), or
raises DriverError.
"""
import itertools
import os
import re
import subprocess

from .impls import COPAS_SERVER
from .procs import DriverError, Group, cpu_seconds, free_port

MB = 1e6
GIB = 1024 ** 3
BULK_KEY = "ecdsa"      # the certificate does not matter for bulk transfer
MEM_KEY = "rsa"         # the common deployment; RSA chains are the larger ones


class Context:
    """What every measurement needs: setup (impls.Setup), where logs go,
    time limits, and a counter naming log files uniquely."""

    def __init__(self, setup, logdir, timeout, stime_seconds):
        self.setup, self.logdir, self.timeout = setup, logdir, timeout
        self.cg_timeout = 10 * timeout
        self.stime_seconds = stime_seconds
        self.serial = itertools.count(1)     # thread-safe: callgrind jobs run in parallel

    def log(self, tag):
        n = next(self.serial)
        return os.path.join(self.logdir, "%04d-%s.log" % (n, re.sub(r"[^\w.-]", "_", tag)))

    def start(self, group, impl, argv, tag, stdin=subprocess.DEVNULL, env=None):
        return group.start(argv, env or self.setup.env(impl), self.log(tag), stdin=stdin)


def run_counted(ctx, impl, measured, peer, measured_is_server, tag, wrap, env):
    """Runs the measured process, its argv measured(port) wrapped by a
    counting tool (wrap(argv) -> argv), against the C reference peer(port)
    running natively; the server side gets port 0 and reports its own.
    Returns the measured process's result (its driver checked)."""
    with Group() as g:
        if measured_is_server:
            m = ctx.start(g, impl, wrap(measured(0)), tag, env=env)
            p = ctx.start(g, "ref", peer(m.wait_ready(120)), tag + "-peer")
        else:
            p = ctx.start(g, "ref", peer(0), tag + "-peer")
            m = ctx.start(g, impl, wrap(measured(p.wait_ready(30))), tag, env=env)
        res = m.finish(ctx.cg_timeout)
        p.finish(ctx.cg_timeout)
    try:
        ctx.setup.check_impl(impl, res)
    except ValueError as e:
        raise DriverError(str(e)) from None
    return res


def _checked(ctx, impl, proc, **kw):
    result = proc.finish(ctx.timeout, **kw)
    try:
        ctx.setup.check_impl(impl, result)
    except ValueError as e:
        raise DriverError(str(e)) from None
    return result


# ------------------------------------------------------------ handshakes

def _intermediates(ctx, key):
    """The chain file minus its leaf: s_server -cert reads only the first
    certificate, -cert_chain takes the rest."""
    path = os.path.join(ctx.logdir, "server-%s-intermediates.pem" % key)
    if not os.path.exists(path):
        with open(os.path.join(ctx.setup.certs, "server-%s-chain.pem" % key)) as f:
            blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                                f.read(), re.S)
        with open(path, "w") as f:
            f.write("".join(blocks[1:]))
    return path


def _tls_flag(tls):
    return "-tls1_3" if tls == "1.3" else "-tls1_2"


def _start_hs_server(ctx, g, impl, tls, key, count):
    """-> (proc, port). count 0: serves until stopped."""
    if impl == "openssl":
        port, certs = free_port(), ctx.setup.certs
        argv = [ctx.setup.openssl, "s_server", "-accept", "127.0.0.1:%d" % port, "-quiet",
                _tls_flag(tls),
                "-cert", "%s/server-%s.pem" % (certs, key), "-key", "%s/server-%s.key" % (certs, key),
                "-cert_chain", _intermediates(ctx, key)]
        # s_server treats EOF on stdin as "quit": give it a pipe kept open.
        proc = ctx.start(g, impl, argv, "hs-s_server", stdin=subprocess.PIPE)
        proc.wait_listening(port, 10)
        return proc, port
    argv = ctx.setup.argv(impl, "hs", role="server", port=0, tls=tls, key=key, count=count)
    proc = ctx.start(g, impl, argv, "hs-server-" + impl)
    return proc, proc.wait_ready(30)


def _run_stime(ctx, g, tls, port):
    argv = [ctx.setup.openssl, "s_time", "-connect", "127.0.0.1:%d" % port, "-new",
            "-time", str(ctx.stime_seconds), _tls_flag(tls),
            "-CAfile", ctx.setup.certs + "/ca.pem", "-verify", "4"]
    proc = ctx.start(g, "openssl", argv, "hs-s_time")
    proc.finish(ctx.timeout, want_result=False)
    text = "\n".join(proc.stdout)
    m = re.search(r"(\d+) connections in ([\d.]+) real seconds", text)
    if not m or int(m.group(1)) == 0:
        raise DriverError("s_time: no connections\n" + text[-500:])
    ru = proc.rusage
    return {"count": m.group(1), "wall": m.group(2), "cpu": str(ru.ru_utime + ru.ru_stime)}


def handshake(ctx, tls, key, client, server, count):
    """One pairing: `client` connects `count` times to `server` (s_time:
    for stime_seconds). Sample: handshakes/s and CPU µs per handshake of
    each side that reports it."""
    with Group() as g:
        srv, port = _start_hs_server(ctx, g, server, tls, key, 0 if client == "openssl" else count)
        cpu0 = cpu_seconds(srv.pid) if server == "openssl" else None
        if client == "openssl":
            cres = _run_stime(ctx, g, tls, port)
        else:
            argv = ctx.setup.argv(client, "hs", role="client", port=port, tls=tls, key=key,
                                  count=count, wait=0 if server == "openssl" else 1)
            cres = _checked(ctx, client, ctx.start(g, client, argv, "hs-client-" + client))
        n = int(cres["count"])
        sample = {"hs_per_s": n / float(cres["wall"]),
                  "client_cpu_us": float(cres["cpu"]) / n * 1e6,
                  "protocol": cres.get("protocol"), "cipher": cres.get("cipher")}
        if server == "openssl":
            sample["server_cpu_us"] = (cpu_seconds(srv.pid) - cpu0) / n * 1e6
        elif client != "openssl":
            sres = _checked(ctx, server, srv)
            if int(sres["ok"]) != n:
                raise DriverError("server: %s of %d handshakes failed" % (n - int(sres["ok"]), n))
            sample["server_cpu_us"] = float(sres["cpu"]) / n * 1e6
        return sample


# ------------------------------------------------------------ bulk

def bulk(ctx, tls, pattern, impl, nbytes):
    """`impl` receives nbytes with receive(pattern) from the C reference,
    or (pattern "send") sends them to it in 1 MiB send() calls. Sample:
    MB/s and CPU seconds per GiB of the measured side."""
    sending = pattern == "send"
    with Group() as g:
        peer = ctx.start(g, "ref", ctx.setup.argv(
            "ref", "bulk", role="sink" if sending else "source", port=0, tls=tls,
            key=BULK_KEY, bytes=nbytes), "bulk-peer")
        port = peer.wait_ready(30)
        args = dict(role="send" if sending else "recv", port=port, tls=tls, key=BULK_KEY,
                    bytes=nbytes)
        if not sending:
            args["pattern"] = pattern
        proc = ctx.start(g, impl, ctx.setup.argv(impl, "bulk", **args),
                         "bulk-%s-%s" % (pattern, impl))
        res = _checked(ctx, impl, proc)
        peer.finish(ctx.timeout)
    # cpu: the driver's own clock over the transfer alone (os.clock() in
    # Lua, CLOCK_PROCESS_CPUTIME_ID in C: both user + system time of the
    # process); rusage: the kernel's user + system for the whole process
    # (start-up and handshake included), a cross-check.
    wall, cpu = float(res["wall"]), float(res["cpu"])
    ru = proc.rusage
    return {"mb_s": nbytes / wall / MB, "cpu_s_per_gib": cpu / (nbytes / GIB),
            "mb_per_cpu_s": nbytes / cpu / MB,
            "rusage_user_s": ru.ru_utime, "rusage_sys_s": ru.ru_stime,
            "protocol": res.get("protocol"), "cipher": res.get("cipher")}


# ------------------------------------------------------------ memory

def memory(ctx, tls, role, impl, count):
    """`impl` holds `count` established connections in `role`; the C
    reference is the other end. Sample: KiB of RSS per connection, idle
    and after one echo each (the warm-up connection is excluded)."""
    with Group() as g:
        def start(who, r, port):
            argv = ctx.setup.argv(who, "mem", role=r, port=port, tls=tls, key=MEM_KEY, count=count)
            return ctx.start(g, who, argv, "mem-%s-%s" % (r, who))
        server = start(impl if role == "server" else "ref", "server", 0)
        port = server.wait_ready(30)
        client = start(impl if role == "client" else "ref", "client", port)
        measured = server if role == "server" else client
        res = _checked(ctx, impl, measured)
        (client if measured is server else server).finish(ctx.timeout)
    rss0 = int(res["rss0"])
    per = lambda key: (int(res[key]) - rss0) / count / 1024.0
    return {"idle_kib": per("rss_idle"), "echo_kib": per("rss_echo")}


# ------------------------------------------------------------ ssl.https

# variant -> (impl, driver arguments)
HTTPS_VARIANTS = {
    "ours-cache": ("ours", dict(params="lax")),
    "ours-nocache": ("ours", dict(params="lax", sessions=0)),
    "ours-secure-cache": ("ours", dict(params="secure")),
    "ours-secure-nocache": ("ours", dict(params="secure", sessions=0)),
    "upstream": ("upstream", dict(params="lax")),
}


def https(ctx, variant, count):
    """`count` sequential ssl.https.request calls to `openssl s_server -www`
    (TLS 1.3, RSA-2048). Sample: requests/s and client CPU ms per request
    (the first request excluded: a full handshake for all), resumed count."""
    impl, extra = HTTPS_VARIANTS[variant]
    with Group() as g:
        port, certs = free_port(), ctx.setup.certs
        server = ctx.start(g, "openssl", [
            ctx.setup.openssl, "s_server", "-accept", "127.0.0.1:%d" % port, "-quiet", "-www",
            "-tls1_3", "-cert", certs + "/server-rsa.pem", "-key", certs + "/server-rsa.key",
            "-cert_chain", _intermediates(ctx, "rsa")], "https-s_server", stdin=subprocess.PIPE)
        server.wait_listening(port, 10)
        argv = ctx.setup.argv(impl, "https", port=port, count=count, **extra)
        res = _checked(ctx, impl, ctx.start(g, impl, argv, "https-" + variant))
    n = int(res["count"])
    return {"req_per_s": n / float(res["wall"]), "cpu_ms_per_req": float(res["cpu"]) / n * 1e3,
            "reused": int(res["reused"]), "requests": n}


# ------------------------------------------------------------ many clients

def load(ctx, impl, count, wave):
    """The copas TLS echo server example over `impl`, driven by bench/load.c:
    `count` connections in waves of `wave`, each a TLS 1.3 handshake and a
    1 KiB echo, all kept open. Sample: handshakes/s, latency percentiles,
    server RSS per wave, peak RSS, server CPU per handshake."""
    with Group() as g:
        server = ctx.start(g, impl, [ctx.setup.lua, COPAS_SERVER, "0"], "load-server-" + impl,
                           env=ctx.setup.copas_env(impl))
        port = int(server.wait_match(r"listening on 127\.0\.0\.1:(\d+)", 30).group(1))
        client = ctx.start(g, "ref", [ctx.setup.load, "port=%d" % port, "count=%d" % count,
                                      "wave=%d" % wave, "pid=%d" % server.pid,
                                      "certs=" + ctx.setup.certs,
                                      "timeout=%d" % ctx.timeout], "load-client-" + impl)
        res = client.finish(ctx.timeout + 30)
    ok = int(res["ok"])
    opened = [int(x) for x in res["open"].split(",")]
    rss = [int(x) for x in res["rss"].split(",")]
    return {"hs_per_s": float(res["hs_per_s"]), "p50_ms": float(res["p50_ms"]),
            "p99_ms": float(res["p99_ms"]), "failed": int(res["failed"]), "ok": ok,
            "server_cpu_ms_per_hs": float(res["cpu"]) / max(ok, 1) * 1e3,
            "peak_rss_kib": int(res["hwm"]) / 1024.0,
            "rss_per_conn_kib": (rss[-1] - rss[0]) / max(opened[-1], 1) / 1024.0,
            "lat_pct": [float(x) for x in res["lat_pct"].split(",")],
            "open": opened, "rss_kib": [r / 1024.0 for r in rss]}
