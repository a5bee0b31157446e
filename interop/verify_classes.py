"""Reason classes of certificate-verification failures: why a chain was
refused, in terms every stack can be held to. Only the classes the case
matrix produces are here (certs/gen.sh's scenarios: a missing
intermediate, the rogue CA, a self-signed leaf, expired, not yet valid,
wrong extended key usage, wrong host name, a chain over the depth limit,
a revoked certificate).

Each class names the oracle's reason (oracle.REASONS) it belongs to and
OpenSSL's verify errors for it: the number, the code (X509_V_ERR_ without
the prefix, as Node.js reports it) and the text (X509_verify_cert_error_string,
which sslua's handshake message, Python's verify_message and the openssl
tools carry). An error that OpenSSL has worded differently over its
versions has a row per wording. How each peer stack words a class is in
verify_reports.py.
"""

import re

# class: (the oracle's reason, what happened, [(number, code, text)])
CLASSES = {
    "unknown_issuer": ("unknown_ca", "an issuer is not found (the intermediate was not sent)", [
        (20, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "unable to get local issuer certificate"),
        (21, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate")]),
    "untrusted_root": ("unknown_ca", "the chain ends in a self-signed CA that is not trusted", [
        (19, "SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain")]),
    "self_signed": ("unknown_ca", "the certificate is self-signed and not trusted", [
        (18, "DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")]),
    "expired": ("expired", "a certificate's notAfter has passed", [
        (10, "CERT_HAS_EXPIRED", "certificate has expired")]),
    "not_yet_valid": ("notyet", "a certificate's notBefore is still to come", [
        (9, "CERT_NOT_YET_VALID", "certificate is not yet valid"),
        # OpenSSL 3.6 on
        (9, "CERT_NOT_YET_VALID", "certificate is not yet valid or the system clock is incorrect")]),
    "bad_purpose": ("purpose", "the extended key usage does not allow the role", [
        (26, "INVALID_PURPOSE", "unsuitable certificate purpose")]),
    "hostname_mismatch": ("hostname", "the certificate does not name the host", [
        (62, "HOSTNAME_MISMATCH", "hostname mismatch")]),
    "chain_too_long": ("chain_too_long", "the chain is longer than the verify depth", [
        (22, "CERT_CHAIN_TOO_LONG", "certificate chain too long")]),
    "revoked": ("revoked", "the CRL lists the certificate", [
        (23, "CERT_REVOKED", "certificate revoked")]),
}

# The three a stack that only says "unknown authority" cannot tell apart.
TRUST = ("unknown_issuer", "untrusted_root", "self_signed")

# The oracle's reason for a set of classes of different reasons.
MIXED_REASON = {frozenset({"unknown_ca", "purpose"}): "bad_client_cert"}


def ordered(classes):
    """A set of classes as a tuple in the table's order."""
    return tuple(c for c in CLASSES if c in classes)


def reason_of(classes):
    """The oracle's reason (a key of oracle.REASONS) for expected classes."""
    reasons = {CLASSES[c][0] for c in classes}
    if len(reasons) == 1:
        return reasons.pop()
    return MIXED_REASON[frozenset(reasons)]


def class_of_text(text):
    """The class of one of OpenSSL's verify error texts, or None."""
    for name, (_, _, errors) in CLASSES.items():
        if any(text == t for _, _, t in errors):
            return name
    return None


# sslua: "certificate verify failed (TEXT)", past the leaf "(TEXT at depth N:
# SUBJECT)", for a name '(hostname mismatch: "NAME")'.
SSLUA_MESSAGE = re.compile(
    r'certificate verify failed \((?P<text>.+?)(?: at depth \d+: .*|: ".*")?\)$')


def sslua_classes(message):
    """The classes sslua's handshake message names: () when it names none
    (a bare 'certificate verify failed' or another error)."""
    m = SSLUA_MESSAGE.search(message or "")
    found = m and class_of_text(m.group("text"))
    return (found,) if found else ()
