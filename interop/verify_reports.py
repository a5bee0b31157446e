"""How each peer stack reports why it refused a certificate: one table per
peer, rows of (regular expression over the error text its driver returns,
the reason classes of verify_classes.py that text stands for). A stack that
cannot tell some classes apart (Go's "unknown authority") stands for all of
them; the check is that the expected class is among what the text stands
for.

REPORTS maps a peer to its table for each role it verifies in ("client":
it verifies sslua's server certificate; "server": sslua's client
certificate). A role that is not listed means that peer's report in that
role carries no reason: the class is marked not checked there, never
passed. The texts come from the real outputs of `make interop`.
"""

import re

from verify_classes import CLASSES, TRUST


def openssl_texts(prefix):
    """Rows for OpenSSL's verify error texts after `prefix`, each text whole
    ("self-signed certificate" is not "self-signed certificate in ...")."""
    return [(re.escape(prefix) + re.escape(text) + r"(?:;|$)", (name,))
            for name, (_, _, errors) in CLASSES.items() for _, _, text in errors]


def openssl_codes():
    """Rows for OpenSSL's verify error codes as Node.js reports them."""
    return [(r"\b%s\b" % code, (name,))
            for name, (_, _, errors) in CLASSES.items() for _, code, _ in errors]


# s_client: "verify error:num=N:TEXT", s_server: "verify error:TEXT", both as
# "verify error: TEXT" in peer_openssl.py's error.
OPENSSL = openssl_texts("verify error: ")

# gnutls-cli and gnutls-serv: the verification status line.
GNUTLS = [
    (r"The certificate issuer is unknown", TRUST),
    (r"The certificate chain uses expired certificate", ("expired",)),
    (r"The certificate chain uses not yet valid certificate", ("not_yet_valid",)),
    (r"The certificate chain does not match the intended purpose", ("bad_purpose",)),
    (r"The name in the certificate does not match the expected", ("hostname_mismatch",)),
]

# ssl.SSLCertVerificationError: "certificate verify failed: " + verify_message,
# which is OpenSSL's text, except for the host name Python checks itself.
PYTHON = openssl_texts("certificate verify failed: ") + [
    (r"certificate verify failed: Hostname mismatch, certificate is not valid for",
     ("hostname_mismatch",)),
]

# tls: the client's error "TEXT (CODE)", the server's "client certificate
# rejected: CODE" (authorizationError); the host name is Node's own check.
NODE = openssl_codes() + [
    (r"\bERR_TLS_CERT_ALTNAME_INVALID\b", ("hostname_mismatch",)),
]

# JSSE: the exception chain joined with " <- ".
JAVA = [
    (r"PKIX path building failed|unable to find valid certification path", TRUST),
    (r"CertificateExpiredException", ("expired",)),
    (r"CertificateNotYetValidException", ("not_yet_valid",)),
    (r"Extended key usage does not permit use for TLS (?:server|client) authentication",
     ("bad_purpose",)),
    (r"No subject alternative (?:DNS )?names? (?:matching .+ found|present)|"
     r"No name matching .+ found", ("hostname_mismatch",)),
]

# crypto/x509's errors (the server's wrapped in "tls: failed to verify
# client certificate: ").
GO = [
    (r"x509: certificate signed by unknown authority", TRUST),
    (r"x509: certificate has expired or is not yet valid: current time \S+ is after",
     ("expired",)),
    (r"x509: certificate has expired or is not yet valid: current time \S+ is before",
     ("not_yet_valid",)),
    (r"x509: certificate specifies an incompatible key usage", ("bad_purpose",)),
    (r"x509: certificate is valid for .+, not |x509: certificate is not valid for any names",
     ("hostname_mismatch",)),
]

BOTH = ("client", "server")
REPORTS = {peer: {role: table for role in BOTH} for peer, table in (
    ("openssl", OPENSSL), ("gnutls", GNUTLS), ("python", PYTHON), ("node", NODE),
    ("java", JAVA), ("go", GO))}


def table(peer, role):
    """The peer's table for the role it verifies in, or None: its report
    there carries no reason."""
    return REPORTS.get(peer, {}).get(role)


def classes_in(rows, text):
    """Every class the rows find in an error text (a set, empty if none)."""
    found = set()
    for rx, classes in rows:
        if re.search(rx, text or ""):
            found.update(classes)
    return found
