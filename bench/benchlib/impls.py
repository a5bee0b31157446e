"""The implementations under test and how to start each driver with them.

ours      the Lua drivers over this tree's build (LUA_CPATH/LUA_PATH to it)
upstream  the same Lua drivers over Debian's lua-sec (upstream LuaSec)
ref       bench/ref.c, OpenSSL called directly
ref_rel   the same with SSL_MODE_RELEASE_BUFFERS (memory only: the least an idle
          connection can hold)
openssl   `openssl s_time` (client) / `openssl s_server` (server): handshakes only
"""
import glob
import os

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DRIVERS = {"hs": "handshake.lua", "bulk": "bulk.lua", "mem": "memory.lua", "https": "https.lua"}
COPAS_SERVER = os.path.join(os.path.dirname(BENCH_DIR), "examples", "copas_echo_server.lua")
# Debian's lua-copas (1.x) installs for Lua 5.1/5.2 only; it is plain Lua.
COPAS_PATH = "/usr/share/lua/5.1/?.lua"

# What a driver's "impl=" field must say: proof that the intended library loaded.
EXPECTED_IMPL = {"ours": lambda s: s == "sslua", "upstream": lambda s: s.startswith("luasec"),
                 "ref": lambda s: s == "ref", "ref_rel": lambda s: s == "ref"}

LABELS = {"ours": "ours (sslua)", "upstream": "upstream LuaSec", "ref": "C reference",
          "ref_rel": "C reference, SSL_MODE_RELEASE_BUFFERS",
          "openssl": "openssl s_time/s_server"}


class Setup:
    """Paths and interpreters, from the command line."""

    def __init__(self, args):
        self.lua = args.lua
        self.certs = os.path.abspath(args.certs)
        self.ref = os.path.abspath(args.ref)
        self.openssl = args.openssl
        self.load = os.path.join(os.path.dirname(self.ref), "load")
        abi = lua_abi(args.lua)
        self.lua_env = {
            "ours": (os.path.abspath(args.libdir) + "/?.so;;",
                     os.path.abspath(args.sharedir) + "/?.lua;;"),
            "upstream": (upstream_cpath(abi), "/usr/share/lua/%s/?.lua;;" % abi),
        }

    def env(self, impl):
        env = dict(os.environ)
        if impl in self.lua_env:
            env["LUA_CPATH"], env["LUA_PATH"] = self.lua_env[impl]
        return env

    def argv(self, impl, driver, **kw):
        """The command line of `driver` (hs, bulk, mem) for a native Lua/ref impl."""
        words = ["%s=%s" % (k, v) for k, v in sorted(kw.items())] + ["certs=" + self.certs]
        if impl == "ref":
            return [self.ref, driver] + words
        if impl == "ref_rel":
            return [self.ref, driver] + words + ["release=1"]
        return [self.lua, os.path.join(BENCH_DIR, DRIVERS[driver])] + words

    def copas_env(self, impl):
        """env for the copas echo server example over impl."""
        env = self.env(impl)
        env["LUA_PATH"] = env["LUA_PATH"].rstrip(";") + ";" + COPAS_PATH + ";;"
        env["SSLUA_CERTS"] = self.certs
        return env

    def check_impl(self, impl, result):
        said = result.get("impl", "")
        if impl in EXPECTED_IMPL and not EXPECTED_IMPL[impl](said):
            raise ValueError("%s driver loaded %r: wrong library on the path" % (impl, said))


def lua_abi(lua):
    """'lua5.3' -> '5.3'; LuaJIT uses the 5.1 module directories."""
    name = os.path.basename(lua)
    return "5.1" if "jit" in name else name.replace("lua", "") or "5.3"


def upstream_cpath(abi):
    """Debian's multiarch module directory holding lua-sec's ssl.so."""
    hits = glob.glob("/usr/lib/*/lua/%s/ssl.so" % abi)
    base = os.path.dirname(hits[0]) if hits else "/usr/lib/x86_64-linux-gnu/lua/" + abi
    return base + "/?.so;;"
