"""Where a run finds things and what it runs on: the Lua interpreter, a
private copy of the built module, the certificates, the cipher table,
sslua's groups, and the versions printed at the head of the reports."""

import datetime
import os
import re
import shutil
import subprocess
import sys
import time

import processes
import sslua_runner
from ciphers import CipherTable

INTEROP = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(INTEROP)
PROBE_TIMEOUT = 30      # seconds for one version probe (lua -e, openssl version)


def lua_paths(libdir, sharedir):
    """LUA_CPATH and LUA_PATH for a module built into libdir / sharedir."""
    return {"LUA_CPATH": "%s/?.so;;" % libdir,
            "LUA_PATH": "%s/?.lua;%s/?/init.lua;;" % (sharedir, sharedir)}


class Env:
    def __init__(self, args):
        self.root = ROOT
        self.out = os.path.abspath(args.out)
        self.certs = os.path.abspath(args.certs)
        self.lua = args.lua
        self.libdir = os.path.abspath(args.libdir)
        self.sharedir = os.path.abspath(args.sharedir)
        self.tmp = os.path.join(self.out, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.snapshot_module()
        self.lua_env = dict(os.environ, **lua_paths(self.libdir, self.sharedir))
        self.ciphers = CipherTable()
        self.sslua_groups = sslua_runner.probe_groups(self)
        self.derive_cert_files()

    def snapshot_module(self):
        """Runs a private copy of the built module, so that a rebuild in
        the work tree during the run cannot change it half-way."""
        snap = os.path.join(self.out, "module")
        lib, share = os.path.join(snap, "lib"), os.path.join(snap, "share")
        error = ""
        for attempt in range(5):
            shutil.rmtree(snap, ignore_errors=True)
            shutil.copytree(self.libdir, lib)
            shutil.copytree(self.sharedir, share)
            try:
                r = processes.run([self.lua, "-e", "require 'ssl'"], PROBE_TIMEOUT,
                                  env=dict(os.environ, **lua_paths(lib, share)))
                if r.returncode == 0:
                    break
                error = r.stderr
            except subprocess.TimeoutExpired:
                error = "require 'ssl' did not finish in %d s" % PROBE_TIMEOUT
            time.sleep(1 + attempt)
        else:
            print("warning: the module does not load: " + error.strip()[-300:], flush=True)
        self.libdir, self.sharedir = lib, share

    def cert(self, name):
        return os.path.join(self.certs, name)

    def derive_cert_files(self):
        """X-inter.pem: the intermediates of X-chain.pem (what follows the
        leaf), for stacks that take the leaf and the chain separately."""
        self.inter = {}
        for fn in sorted(os.listdir(self.certs)):
            if not fn.endswith("-chain.pem"):
                continue
            stem = fn[:-len("-chain.pem")]
            text = open(self.cert(fn)).read()
            blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                                text, re.S)
            if len(blocks) > 1:
                path = os.path.join(self.tmp, stem + "-inter.pem")
                with open(path, "w") as f:
                    f.write("\n".join(blocks[1:]) + "\n")
                self.inter[stem] = path

    def identity_files(self, ident, chain):
        leaf = self.cert(ident + ".pem")
        key = self.cert(ident + ".key")
        full = self.cert(ident + "-chain.pem")
        if chain and os.path.exists(full):
            return {"cert": full, "leaf": leaf, "key": key, "chain": self.inter.get(ident)}
        return {"cert": leaf, "leaf": leaf, "key": key, "chain": None}


def probe(argv, env=None):
    """The output lines of a short version query ([] if it fails)."""
    try:
        return processes.run(argv, PROBE_TIMEOUT, env=env).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []


def openssl_version(text):
    """The library version in `openssl version` ("OpenSSL 3.5.7 9 Jun 2026
    (Library: OpenSSL 3.5.7 9 Jun 2026)": the library's) or in sslua's
    "OpenSSL 3.5.7"; None if there is none."""
    m = re.search(r"Library: OpenSSL (\S+)", text or "") or \
        re.match(r"OpenSSL (\S+)", text or "")
    return m.group(1) if m else None


def openssl_mismatch(info):
    """Why the openssl command cannot speak for sslua's OpenSSL (the oracle
    asks it which suites sslua uses), or None: it must run the library
    sslua loaded. Unknown versions (a module that does not load) pass: the
    cases fail on their own then."""
    cli, lib = openssl_version(info.get("openssl")), openssl_version(info.get("sslua_openssl"))
    if cli and lib and cli != lib:
        return ("the openssl command runs OpenSSL %s, sslua's module OpenSSL %s: put the "
                "CLI of sslua's OpenSSL first on PATH (make OPENSSL=<version> does)" % (cli, lib))
    return None


def environment_info(env):
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    info["openssl"] = (probe(["openssl", "version"]) or ["?"])[0].strip()
    try:
        import ssl
        info["security_level"] = ssl.create_default_context().security_level
    except Exception:
        info["security_level"] = "?"
    lines = probe([env.lua, "-e", "local ssl = require 'ssl'; print(_VERSION); "
                   "print(ssl._VERSION); local lib = ssl.config and ssl.config.library; "
                   "print(lib and (lib.name .. ' ' .. lib.version) or "
                   "ssl.config and ssl.config.openssl or '?')"],
                  env.lua_env)
    lines += ["?"] * (3 - len(lines))
    info["lua"], info["sslua"], info["sslua_openssl"] = lines[:3]
    info["python"] = sys.version.split()[0]
    info["machine"] = "%s, %d cores" % (os.uname().machine, os.cpu_count() or 0)
    return info
