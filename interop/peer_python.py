#!/usr/bin/env python3
"""Peer driver: Python's ssl module, as client and as server.

Servers run in a thread each and serve connections one after another,
replying to a line with the line reversed. Clients run in the command loop.
With config "raw_sslv3" its client sends a hand-made SSLv3 ClientHello
instead (sslv3_probe.py), to check that the other side refuses SSLv3.
"""

import os
import socket
import ssl
import tempfile
import threading

import peerlib
from sslv3_probe import raw_sslv3

VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
            "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
CIPHERS = "ALL:@SECLEVEL=0"

def error_text(exc):
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "certificate verify failed: %s" % (exc.verify_message or exc.reason)
    if isinstance(exc, ssl.SSLError):
        return (exc.reason or str(exc)).replace("_", " ").lower() if exc.reason else str(exc)
    if isinstance(exc, socket.timeout):
        return "timed out"
    return str(exc) or exc.__class__.__name__


OU_OID = b"\x06\x03\x55\x04\x0b"


def cert_ou(sock):
    """OU of the peer certificate, read from its DER form (getpeercert()
    gives a dict only for verified certificates)."""
    der = sock.getpeercert(binary_form=True)
    if not der:
        return None
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(der))
        decoded = ssl._ssl._test_decode_cert(path)  # the stdlib's own decoder
        for rdn in decoded.get("subject", ()):
            for key, value in rdn:
                if key == "organizationalUnitName":
                    return value
        return None
    except Exception:
        # Without that private decoder: the subject follows the issuer, so
        # its OU is the last one in the certificate (true of the test PKI).
        at = der.rfind(OU_OID)
        if at < 0:
            return None
        length = der[at + len(OU_OID) + 1]
        start = at + len(OU_OID) + 2
        return der[start:start + length].decode("utf-8", "replace")
    finally:
        os.unlink(path)


def base_context(cfg, side):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if side == "server"
                         else ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(CIPHERS)
    ctx.minimum_version = VERSIONS[cfg.get("min") or "1.0"]
    ctx.maximum_version = VERSIONS[cfg.get("max") or "1.3"]
    if cfg.get("alpn"):
        ctx.set_alpn_protocols(cfg["alpn"])
    return ctx


def describe(sock, res):
    res["version"] = peerlib.version_label(sock.version())
    cipher = sock.cipher()
    if cipher:
        res["cipher"] = cipher[0]
    proto = sock.selected_alpn_protocol()
    if proto:
        res["alpn"] = proto
    ou = cert_ou(sock)
    if ou:
        res["peer_cert"] = ou


def read_line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").rstrip("\r\n") if data.endswith(b"\n") else None


def closing(sock):
    """After the reply the server closes: with a close_notify?"""
    try:
        more = sock.recv(1)
    except ssl.SSLEOFError:
        return "no close_notify: EOF in violation of protocol"
    except Exception as exc:
        return "no close_notify: " + error_text(exc)
    return "close_notify" if more == b"" else "no close_notify: more data"


class Server:
    def __init__(self, ident, cfg):
        self.ident = ident
        self.cfg = cfg
        self.ctx = base_context(cfg, "server")
        self.ctx.load_cert_chain(cfg["cert"], cfg["key"])
        if cfg.get("dhparam"):
            self.ctx.load_dh_params(cfg["dhparam"])
        if cfg.get("verify"):
            self.ctx.verify_mode = ssl.CERT_REQUIRED if cfg.get("require_cert") \
                else ssl.CERT_OPTIONAL
            self.ctx.load_verify_locations(cfg["ca"])
        self.sni_ctx = None
        if cfg.get("sni_name"):
            self.sni_ctx = base_context(cfg, "server")
            self.sni_ctx.load_cert_chain(cfg["sni_cert"], cfg["sni_key"])
        self.ctx.sni_callback = self._sni
        self.current_sni = None
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _sni(self, sslobj, name, ctx):
        self.current_sni = name
        if name and self.sni_ctx is not None and name == self.cfg["sni_name"]:
            sslobj.context = self.sni_ctx
        return None

    def _loop(self):
        while not self.stopped:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            res = self._serve(raw)
            peerlib.emit({"event": "conn", "id": self.ident, "result": res})

    def _serve(self, raw):
        res = {}
        self.current_sni = None
        raw.settimeout(self.cfg.get("timeout", 10))
        try:
            sock = self.ctx.wrap_socket(raw, server_side=True)
        except Exception as exc:
            raw.close()
            res.update(status="fail", stage="handshake", error=error_text(exc))
            if self.current_sni:
                res["sni"] = self.current_sni
            return res
        try:
            describe(sock, res)
            res["resumed"] = sock.session_reused
            if self.current_sni:
                res["sni"] = self.current_sni
            line = read_line(sock)
            if line is None:
                res.update(status="fail", stage="receive", error="closed before a line")
                return res
            sock.sendall((line[::-1] + "\n").encode())
            try:
                sock.unwrap()
            except Exception:
                pass
            res["status"] = "ok"
        except Exception as exc:
            res.update(status="fail", stage="io", error=error_text(exc))
        finally:
            sock.close()
        return res

    def stop(self):
        self.stopped = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(2)


class Driver(peerlib.Driver):
    Server = Server

    def hello(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.set_ciphers(CIPHERS)
        c12 = [c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"]
        c13 = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"]
        return {
            "name": "python", "version": "Python %s ssl (%s)" % (
                ".".join(map(str, os.sys.version_info[:3])), ssl.OPENSSL_VERSION),
            "caps": {
                "versions": ["1.0", "1.1", "1.2", "1.3"],
                "ciphers12": c12,
                "ciphers13": c13,
                "groups": ["x25519", "secp256r1", "x448", "secp521r1", "secp384r1",
                           "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144",
                           "ffdhe8192"],
                "sigs": ["rsa", "ecdsa", "ed25519"],
                "dhe_server": True,
                "long_lines": True,
                "server_close_notify": True,
                "alpn_mismatch": "ignore",
                "client_resume": True,
                "raw_sslv3": True,
                "server_reports": ["version", "cipher", "alpn", "peer_cert", "sni", "resumed"],
                "client_reports": ["version", "cipher", "alpn", "peer_cert", "resumed"],
                "sni_switch": True,
            },
        }

    def _client_ctx(self, cfg):
        ctx = base_context(cfg, "client")
        if cfg.get("verify"):
            ctx.load_verify_locations(cfg["ca"])
            ctx.check_hostname = True
            ctx.verify_mode = ssl.CERT_REQUIRED
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if cfg.get("cert"):
            ctx.load_cert_chain(cfg["cert"], cfg["key"])
        return ctx

    def _connect(self, ctx, cfg, session=None):
        res = {}
        try:
            raw = socket.create_connection((cfg.get("host", "127.0.0.1"), cfg["port"]),
                                           cfg.get("timeout", 10))
        except OSError as exc:
            return {"status": "fail", "stage": "connect", "error": str(exc)}, None
        res["connected"] = True
        name = cfg.get("sni") or (cfg.get("hostname") or "localhost" if cfg.get("verify")
                                  else None)
        try:
            sock = ctx.wrap_socket(raw, server_hostname=name, session=session)
        except Exception as exc:
            raw.close()
            res.update(status="fail", stage="handshake", error=error_text(exc))
            return res, None
        try:
            describe(sock, res)
            sock.sendall((cfg.get("send", "ping") + "\n").encode())
            line = read_line(sock)
            if line is None:
                res.update(status="fail", stage="receive", error="closed before a line")
            elif cfg.get("expect") is not None and line != cfg["expect"]:
                res.update(status="fail", stage="receive", error="unexpected reply %r" % line)
            else:
                res["status"] = "ok"
                res["close"] = closing(sock)
            res["resumed"] = sock.session_reused
            session = sock.session
            try:
                sock.unwrap()
            except Exception:
                pass
        except Exception as exc:
            res.update(status="fail", stage="io", error=error_text(exc))
        finally:
            sock.close()
        return res, session

    def run_client(self, cfg):
        if cfg.get("raw_sslv3"):
            return raw_sslv3(cfg)
        ctx = self._client_ctx(cfg)
        res, session = self._connect(ctx, cfg)
        if not cfg.get("resume") or res.get("status") != "ok":
            return res
        if session is None:
            res.update(status="fail", stage="resume", error="no session to resume")
            return res
        res2, _ = self._connect(ctx, cfg, session=session)
        return res2


if __name__ == "__main__":
    peerlib.serve(Driver())
