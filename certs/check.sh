#!/bin/sh
# certs/check.sh [DIR] - check the test PKI made by certs/gen.sh against its
# contract (see certs/README.md), with the openssl CLI only. Prints one line
# per failed check and a summary; exits non-zero if anything failed.
# VERBOSE=1 also prints the checks that passed.
# shellcheck disable=SC2086  # file names have no spaces; $CA etc. split on purpose
set -u

DIR=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/certs}
cd "$DIR" || exit 1

PASS=0 FAIL=0
TMP=$(mktemp -d)
SRV=
cleanup() {
    [ -z "$SRV" ] || kill "$SRV" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

pass() { PASS=$((PASS + 1)); [ -z "${VERBOSE:-}" ] || echo "ok   $1"; }
fail() {
    FAIL=$((FAIL + 1)); echo "FAIL $1"
    [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/       /'
}

# check DESC CMD...: CMD must succeed.
check() {
    d=$1; shift
    if out=$("$@" 2>&1); then pass "$d"; else fail "$d" "$out"; fi
}

# verify_ok DESC ARGS...: `openssl verify ARGS` must succeed.
verify_ok() {
    d=$1; shift
    check "$d" openssl verify "$@"
}

# verify_err DESC MESSAGE ARGS...: `openssl verify ARGS` must fail with MESSAGE.
verify_err() {
    d=$1 msg=$2; shift 2
    if out=$(openssl verify "$@" 2>&1); then
        fail "$d: verified but should not" "$out"
    else
        case $out in
        *"$msg"*) pass "$d" ;;
        *) fail "$d: expected \"$msg\"" "$out" ;;
        esac
    fi
}

# same_files DESC EXPECTED... -- ACTUAL: ACTUAL is the concatenation of EXPECTED.
same_files() {
    d=$1; shift
    : > "$TMP/expect"
    while [ "$1" != -- ]; do cat "$1" >> "$TMP/expect" 2>/dev/null; shift; done
    if cmp -s "$TMP/expect" "$2"; then pass "$d"; else fail "$d"; fi
}

# key_matches KEY CERT: the public keys of KEY and CERT are the same.
key_matches() {
    a=$(openssl pkey -in "$1" -pubout ${3:-} 2>&1) &&
        b=$(openssl x509 -in "$2" -noout -pubkey 2>&1) && [ "$a" = "$b" ]
}

# has DESC TEXT CMD...: the output of CMD contains TEXT.
has() {
    d=$1 text=$2; shift 2
    out=$("$@" 2>&1)
    case $out in *"$text"*) pass "$d" ;; *) fail "$d: no \"$text\"" "$out" ;; esac
}

sleep_a_bit() { sleep 0.1 2>/dev/null || sleep 1; }

CA="-CAfile ca.pem -untrusted int-ca.pem"

# ------------------------------------------------------------ files exist

FILES="root-ca.pem root-ca.key int-ca.pem int-ca.key rogue-ca.pem rogue-ca.key
ca.pem all-ca.pem server-rsa-enc.key password.txt dh2048.pem
int-crl.pem root-crl.pem int-crl-expired.pem ca-crl.pem ca-crl-expired.pem
deep1.pem deep1.key deep2.pem deep2.key deep3.pem deep3.key deep4.pem deep4.key
selfsigned.pem selfsigned.key"
for t in rsa ecdsa ed25519; do FILES="$FILES server-$t client-$t"; done
FILES="$FILES expired notyet wronghost untrusted server-eku-client
client-eku-server revoked deep"
for f in $FILES; do
    case $f in
    *.*) set -- "$f" ;;
    *) set -- "$f.pem" "$f.key" "$f-chain.pem" ;;
    esac
    for g; do
        if [ -s "$g" ]; then pass "$g exists"; else fail "$g is missing"; fi
    done
done

# ------------------------------------------------------------ CAs

has "root-ca subject" "CN = sslua Test Root CA" openssl x509 -in root-ca.pem -noout -subject
verify_ok "root-ca is self-signed" -CAfile root-ca.pem root-ca.pem
verify_ok "int-ca issued by root-ca" -CAfile ca.pem int-ca.pem
has "int-ca is a CA" "CA:TRUE" openssl x509 -in int-ca.pem -noout -ext basicConstraints
verify_ok "rogue-ca is self-signed" -CAfile rogue-ca.pem rogue-ca.pem
verify_err "rogue-ca is not trusted" "self-signed certificate" -CAfile ca.pem rogue-ca.pem
same_files "ca.pem = root-ca.pem" root-ca.pem -- ca.pem
same_files "all-ca.pem = root-ca + int-ca" root-ca.pem int-ca.pem -- all-ca.pem
same_files "ca-crl.pem = root-ca + int-crl + root-crl" \
    root-ca.pem int-crl.pem root-crl.pem -- ca-crl.pem
same_files "ca-crl-expired.pem = root-ca + int-crl-expired + root-crl" \
    root-ca.pem int-crl-expired.pem root-crl.pem -- ca-crl-expired.pem

# capath: exactly one entry, <hash>.0, the root.
hash=$(openssl x509 -hash -noout -in root-ca.pem)
set -- capath/*
if [ $# -eq 1 ] && [ "$1" = "capath/$hash.0" ]; then pass "capath holds $hash.0 only"
else fail "capath should hold $hash.0 only" "$*"; fi
same_files "capath/$hash.0 is root-ca.pem" root-ca.pem -- "capath/$hash.0"
verify_ok "server-rsa via -CApath" -CApath capath -untrusted int-ca.pem server-rsa.pem

# ------------------------------------------------------------ good leaves

for t in rsa ecdsa ed25519; do
    s=server-$t c=client-$t
    verify_ok "$s: chain, purpose, names" $CA -purpose sslserver \
        -verify_hostname localhost $s.pem
    verify_ok "$s: verifies from its chain file" -CAfile ca.pem \
        -untrusted $s-chain.pem -purpose sslserver $s-chain.pem
    verify_ok "$s: server.sslua.test" $CA -verify_hostname server.sslua.test $s.pem
    verify_ok "$s: 127.0.0.1" $CA -verify_ip 127.0.0.1 $s.pem
    verify_ok "$s: ::1" $CA -verify_ip ::1 $s.pem
    verify_err "$s: not a client cert" "unsuitable certificate purpose" \
        $CA -purpose sslclient $s.pem
    verify_ok "$c: chain, purpose, names" $CA -purpose sslclient \
        -verify_hostname client.sslua.test -verify_email client@sslua.test $c.pem
    verify_ok "$c: verifies from its chain file" -CAfile ca.pem \
        -untrusted $c-chain.pem -purpose sslclient $c-chain.pem
    verify_err "$c: not a server cert" "unsuitable certificate purpose" \
        $CA -purpose sslserver $c.pem
    has "$s has CN=localhost" "CN = localhost" openssl x509 -in $s.pem -noout -subject
    has "$c has CN=client.sslua.test" "CN = client.sslua.test" \
        openssl x509 -in $c.pem -noout -subject
    case $t in
    rsa)     kt="Private-Key: (2048 bit" ;;
    ecdsa)   kt="NIST CURVE: P-256" ;;
    ed25519) kt="ED25519 Private-Key" ;;
    esac
    has "$s.key is $t" "$kt" openssl pkey -in $s.key -noout -text
    has "$c.key is $t" "$kt" openssl pkey -in $c.key -noout -text
done
has "server-rsa may encipher keys" "Key Encipherment" \
    openssl x509 -in server-rsa.pem -noout -ext keyUsage

# ------------------------------------------------------------ scenarios

verify_err "expired" "certificate has expired" $CA expired.pem
verify_err "notyet" "certificate is not yet valid" $CA notyet.pem
verify_ok "wronghost: chain is fine" $CA wronghost.pem
verify_ok "wronghost: wrong.sslua.test" $CA -verify_hostname wrong.sslua.test wronghost.pem
verify_err "wronghost: not localhost" "hostname mismatch" \
    $CA -verify_hostname localhost wronghost.pem
verify_err "wronghost: not 127.0.0.1" "IP address mismatch" \
    $CA -verify_ip 127.0.0.1 wronghost.pem
verify_err "untrusted: fails with its chain" "self-signed certificate in certificate chain" \
    -CAfile ca.pem -untrusted untrusted-chain.pem untrusted.pem
verify_err "untrusted: fails alone" "unable to get local issuer certificate" \
    -CAfile ca.pem untrusted.pem
verify_ok "untrusted: issued by rogue-ca" -CAfile rogue-ca.pem untrusted.pem
verify_ok "server-eku-client: as client" $CA -purpose sslclient \
    -verify_hostname localhost server-eku-client.pem
verify_err "server-eku-client: not a server" "unsuitable certificate purpose" \
    $CA -purpose sslserver server-eku-client.pem
verify_ok "client-eku-server: as server" $CA -purpose sslserver \
    -verify_hostname client.sslua.test client-eku-server.pem
verify_err "client-eku-server: not a client" "unsuitable certificate purpose" \
    $CA -purpose sslclient client-eku-server.pem
verify_ok "revoked: fine without CRL" $CA revoked.pem
verify_err "revoked: revoked in int-crl" "certificate revoked" \
    $CA -crl_check -CRLfile int-crl.pem revoked.pem
verify_ok "server-rsa: not in int-crl" $CA -crl_check -CRLfile int-crl.pem server-rsa.pem
verify_ok "server-rsa: ca-crl.pem -crl_check_all" -CAfile ca-crl.pem \
    -untrusted int-ca.pem -crl_check_all server-rsa.pem
verify_err "revoked: ca-crl.pem -crl_check_all" "certificate revoked" \
    -CAfile ca-crl.pem -untrusted int-ca.pem -crl_check_all revoked.pem
verify_err "int-crl-expired" "CRL has expired" \
    $CA -crl_check -CRLfile int-crl-expired.pem server-rsa.pem
verify_err "ca-crl-expired.pem" "CRL has expired" \
    -CAfile ca-crl-expired.pem -untrusted int-ca.pem -crl_check server-rsa.pem
has "root-crl is empty" "No Revoked Certificates" openssl crl -in root-crl.pem -noout -text
has "int-crl signed by int-ca" "verify OK" \
    openssl crl -in int-crl.pem -CAfile all-ca.pem -noout
has "root-crl signed by root-ca" "verify OK" \
    openssl crl -in root-crl.pem -CAfile ca.pem -noout
serial=$(openssl x509 -in revoked.pem -noout -serial | cut -d= -f2)
has "int-crl lists revoked ($serial)" "Serial Number: $serial" \
    openssl crl -in int-crl.pem -noout -text
verify_ok "deep: default depth" -CAfile ca.pem -untrusted deep-chain.pem \
    -purpose sslserver -verify_hostname localhost deep.pem
verify_err "deep: -verify_depth 2" "certificate chain too long" \
    -CAfile ca.pem -untrusted deep-chain.pem -verify_depth 2 deep.pem
verify_err "selfsigned: not trusted by ca.pem" "self-signed certificate" \
    -CAfile ca.pem selfsigned.pem
verify_ok "selfsigned: trusted as itself" -CAfile selfsigned.pem \
    -verify_hostname localhost selfsigned.pem
has "selfsigned is not a CA" "CA:FALSE" \
    openssl x509 -in selfsigned.pem -noout -ext basicConstraints

# ------------------------------------------------------------ chain files

for f in *-chain.pem; do
    n=${f%-chain.pem}
    case $n in
    untrusted) rest=rogue-ca.pem ;;
    deep) rest="deep4.pem deep3.pem deep2.pem deep1.pem" ;;
    *) rest=int-ca.pem ;;
    esac
    same_files "$f = $n.pem + $rest" $n.pem $rest -- $f
done

# ------------------------------------------------------------ keys

for k in *.key; do
    [ "$k" = server-rsa-enc.key ] && continue
    if key_matches "$k" "${k%.key}.pem"; then pass "$k matches"
    else fail "$k does not match ${k%.key}.pem"; fi
done
if [ "$(cat password.txt)" = sslua-secret ] && [ "$(wc -c < password.txt)" -eq 12 ]
then pass "password.txt"; else fail "password.txt must be sslua-secret, no newline"; fi
has "server-rsa-enc.key is PKCS#8 encrypted" "BEGIN ENCRYPTED PRIVATE KEY" cat server-rsa-enc.key
has "server-rsa-enc.key uses AES-256-CBC" "aes-256-cbc" \
    openssl asn1parse -in server-rsa-enc.key
if key_matches server-rsa-enc.key server-rsa.pem "-passin file:password.txt"
then pass "server-rsa-enc.key opens with the password"
else fail "server-rsa-enc.key does not open with the password"; fi
if key_matches server-rsa-enc.key server-rsa.pem "-passin pass:wrong"
then fail "server-rsa-enc.key opens with a wrong password"
else pass "server-rsa-enc.key refuses a wrong password"; fi
check "dh2048.pem loads" openssl dhparam -in dh2048.pem -noout
has "dh2048.pem is 2048 bit" "(2048 bit)" openssl dhparam -in dh2048.pem -noout -text

# ------------------------------------------------------------ handshake

# handshake T: s_server with server-T-chain.pem, client-rsa as client cert,
# both sides verifying against ca.pem.
handshake() {
    sed '1,/-----END CERTIFICATE-----/d' "server-$1-chain.pem" > "$TMP/chain.pem"
    sed '1,/-----END CERTIFICATE-----/d' client-rsa-chain.pem > "$TMP/cchain.pem"
    openssl s_server -accept 127.0.0.1:0 -naccept 1 -www \
        -cert "server-$1-chain.pem" -cert_chain "$TMP/chain.pem" -key "server-$1.key" \
        -CAfile ca.pem -Verify 2 -verify_return_error \
        </dev/null >"$TMP/server.log" 2>&1 &
    SRV=$!
    port='' n=0
    while [ -z "$port" ] && [ $n -lt 50 ] && kill -0 "$SRV" 2>/dev/null; do
        sleep_a_bit; n=$((n + 1))
        port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$TMP/server.log")
    done
    if [ -z "$port" ]; then
        fail "handshake server-$1: s_server did not start" "$(cat "$TMP/server.log")"
    else
        out=$(printf 'GET / HTTP/1.0\r\n\r\n' |
            openssl s_client -connect "127.0.0.1:$port" -servername localhost \
                -CAfile ca.pem -verify_return_error -verify_hostname localhost \
                -cert client-rsa.pem -cert_chain "$TMP/cchain.pem" \
                -key client-rsa.key -ign_eof 2>&1)
        case $out in
        *"Verification: OK"*"HTTP/1.0 200 ok"*) pass "handshake server-$1" ;;
        *) fail "handshake server-$1" "$out$(cat "$TMP/server.log")" ;;
        esac
    fi
    kill "$SRV" 2>/dev/null || true
    wait "$SRV" 2>/dev/null || true
    SRV=
}
for t in ecdsa rsa ed25519; do handshake $t; done

# ------------------------------------------------------------ summary

echo "check.sh: $PASS passed, $FAIL failed ($DIR)"
[ "$FAIL" -eq 0 ]
