"""What machine and software the figures come from (top of report.md)."""
import os
import platform
import subprocess


def _run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unavailable"


def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _deb(pkg):
    return _run(["dpkg-query", "-W", "-f=${Version}", pkg])


def loadavg():
    return os.getloadavg()


def info(lua, openssl):
    return [
        ("CPU", _cpu_model()),
        ("Cores (online)", str(os.cpu_count())),
        ("Kernel", platform.release()),
        ("OpenSSL", _run([openssl, "version"])),
        ("Lua", _run([lua, "-v"])),
        ("LuaSocket (lua-socket)", _deb("lua-socket")),
        ("Upstream LuaSec (lua-sec)", _deb("lua-sec")),
        ("glibc", platform.libc_ver()[1] or "unknown"),
        ("Valgrind", _run(["valgrind", "--version"])),
        ("Python", platform.python_version()),
    ]
