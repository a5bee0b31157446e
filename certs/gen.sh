#!/bin/sh
# certs/gen.sh [DIR] - generate the throwaway test PKI used by the spec suite
# and the interop harness (default DIR: <repo>/build/certs).
#
# Offline, only the openssl 3.x CLI. Validity in the past and in the future is
# written directly with `openssl ca -startdate/-enddate` and
# `-crl_lastupdate/-crl_nextupdate`, so "expired", "not yet valid" and
# "expired CRL" exist right now, without waiting or faking the clock.
#
# Idempotent: DIR/.stamp holds this script's SHA-256 and the generation time.
# Nothing is done when the stamp matches, is younger than MAX_AGE_DAYS and
# every expected file is present; otherwise everything is regenerated in
# DIR/.work-PID and moved into DIR only once all of it succeeded.
# See certs/README.md for the list of files and what each one is for.
# shellcheck disable=SC2034  # WINDOW_*/CRL_* are read through eval
set -eu

OUT=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/certs}
ORG="sslua Test PKI"
PASSWORD=sslua-secret
MAX_AGE_DAYS=180          # regenerate after this, long before anything drifts
SERVER_SAN="DNS:localhost,DNS:server.sslua.test,IP:127.0.0.1,IP:::1"
CLIENT_SAN="DNS:client.sslua.test,email:client@sslua.test"

# Validity windows, in days relative to now: "start end" (read through eval).
WINDOW_ca="-1000 4000"
WINDOW_current="-1 3650"
WINDOW_expired="-730 -365"
WINDOW_notyet="365 3650"
CRL_current="-1 3650"
CRL_expired="-60 -30"

# Certificate authorities, parents first.
#   name      key  issuer   extensions   sent in chains  CN
CAS='
root-ca    rsa  self     ca           no   sslua Test Root CA
int-ca     rsa  root-ca  ca_pathlen0  yes  sslua Test Intermediate CA
rogue-ca   rsa  self     ca           yes  sslua Rogue CA
deep1      rsa  root-ca  ca           yes  sslua Deep CA 1
deep2      rsa  deep1    ca           yes  sslua Deep CA 2
deep3      rsa  deep2    ca           yes  sslua Deep CA 3
deep4      rsa  deep3    ca           yes  sslua Deep CA 4
'

# Leaf certificates. Every one gets NAME.pem and NAME.key, and NAME-chain.pem
# (leaf + the issuer's chain) unless it is self-signed.
#   name               key      issuer    profile            window
LEAVES='
server-rsa           rsa      int-ca    server             current
server-ecdsa         ecdsa    int-ca    server             current
server-ed25519       ed25519  int-ca    server             current
client-rsa           rsa      int-ca    client             current
client-ecdsa         ecdsa    int-ca    client             current
client-ed25519       ed25519  int-ca    client             current
expired              rsa      int-ca    server             expired
notyet               rsa      int-ca    server             notyet
wronghost            rsa      int-ca    wronghost          current
untrusted            rsa      rogue-ca  server             current
server-eku-client    rsa      int-ca    server-eku-client  current
client-eku-server    rsa      int-ca    client-eku-server  current
revoked              rsa      int-ca    server             current
deep                 rsa      deep4     server             current
selfsigned           rsa      self      server             current
ocsp                 rsa      int-ca    ocsp               current
'

# Sets CN, SAN and EKU for a leaf profile.
profile() {
    case $1 in
    server)            CN=localhost          SAN=$SERVER_SAN        EKU=serverAuth ;;
    client)            CN=client.sslua.test  SAN=$CLIENT_SAN        EKU=clientAuth ;;
    wronghost)         CN=wrong.sslua.test   SAN=DNS:wrong.sslua.test EKU=serverAuth ;;
    server-eku-client) CN=localhost          SAN=$SERVER_SAN        EKU=clientAuth ;;
    client-eku-server) CN=client.sslua.test  SAN=$CLIENT_SAN        EKU=serverAuth ;;
    ocsp)              CN="sslua Test OCSP Responder" SAN=DNS:ocsp.sslua.test EKU=OCSPSigning ;;
    *) die "unknown profile $1" ;;
    esac
}

die() { echo "gen.sh: $*" >&2; exit 1; }

# Runs openssl quietly; shows its messages only when it fails.
ossl() {
    openssl "$@" </dev/null >/dev/null 2>.db/openssl.err ||
        { cat .db/openssl.err >&2; die "failed: openssl $*"; }
}

NOW=$(date -u +%s)

# at DAYS -> YYYYMMDDHHMMSSZ, DAYS (may be negative) from now, in UTC.
at() {
    t=$((NOW + $1 * 86400))
    date -u -d "@$t" +%Y%m%d%H%M%SZ 2>/dev/null ||
        date -u -r "$t" +%Y%m%d%H%M%SZ 2>/dev/null ||
        die "date cannot format epoch seconds"
}

# Every top-level file this script promises (capath/ is checked separately).
expected_files() {
    echo ca.pem all-ca.pem ca-crl.pem ca-crl-expired.pem \
        int-crl.pem root-crl.pem int-crl-expired.pem \
        server-rsa-enc.key password.txt dh2048.pem \
        ocsp-server-rsa.der ocsp-revoked.der
    echo "$CAS" | while read -r name _; do
        [ -z "$name" ] || echo "$name.pem $name.key"
    done
    echo "$LEAVES" | while read -r name _ issuer _; do
        [ -n "$name" ] || continue
        echo "$name.pem $name.key"
        [ "$issuer" = self ] || echo "$name-chain.pem"
    done
}

SELF_SUM=$(openssl dgst -sha256 -r "$0" | cut -d' ' -f1)

up_to_date() {
    [ -f "$OUT/.stamp" ] || return 1
    read -r sum made < "$OUT/.stamp" || return 1
    [ "$sum" = "$SELF_SUM" ] || return 1
    [ $((NOW - made)) -lt $((MAX_AGE_DAYS * 86400)) ] || return 1
    for f in $(expected_files); do [ -s "$OUT/$f" ] || return 1; done
    for f in "$OUT"/capath/*.0; do [ -s "$f" ] || return 1; done
}

# ---------------------------------------------------------------- locking

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)     # absolute: generation happens in a subfolder
up_to_date && exit 0

LOCK="$OUT/.lock"
WORK="$OUT/.work-$$"
have_lock=
cleanup() {
    rm -rf "$WORK"
    [ -z "$have_lock" ] || rm -rf "$LOCK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Another gen.sh may be generating into the same folder; wait for it (a lock
# left behind by a dead process is taken over).
tries=0
until mkdir "$LOCK" 2>/dev/null; do
    pid=$(cat "$LOCK/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
        rm -rf "$LOCK"; continue
    fi
    tries=$((tries + 1))
    [ $tries -le 60 ] || die "$LOCK is held by pid ${pid:-?}; giving up"
    sleep 1
done
have_lock=1
echo $$ > "$LOCK/pid"
up_to_date && exit 0        # the other run may just have made everything

# ---------------------------------------------------------------- helpers

rm -rf "$OUT"/.work-*        # left behind by a killed run
mkdir -p "$WORK/.db"
cd "$WORK"

# CA settings shared by every `openssl ca` and `openssl req` call. CADIR, KU,
# EKU and SAN come from the environment, per call.
export CADIR=.db KU=digitalSignature EKU=serverAuth SAN=DNS:localhost
cat > .db/openssl.cnf <<'EOF'
[ca]
default_ca = test_ca

[test_ca]
dir             = $ENV::CADIR
database        = $dir/index.txt
new_certs_dir   = $dir
crlnumber       = $dir/crlnumber
rand_serial     = yes
default_md      = sha256
unique_subject  = no
copy_extensions = none
email_in_dn     = no
policy          = any_dn
crl_extensions  = crl_ext

[any_dn]
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[req]
distinguished_name = req_dn
prompt             = no

[req_dn]
CN = unused

[ca_ext]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ca_pathlen0_ext]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_ext]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::KU
extendedKeyUsage       = $ENV::EKU
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[crl_ext]
authorityKeyIdentifier = keyid:always
EOF

# make_key NAME TYPE: NAME.key, unencrypted PKCS#8 (runs in the background).
make_key() {
    case $2 in
    rsa)     set -- "$1" -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
    ecdsa)   set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
    ed25519) set -- "$1" -algorithm ED25519 ;;
    *) die "unknown key type $2" ;;
    esac
    name=$1; shift
    openssl genpkey "$@" -out "$name.key" 2>".db/$name.keyerr" </dev/null &
    KEYJOBS="$KEYJOBS $name:$!"
}

wait_keys() {
    for job in $KEYJOBS; do
        wait "${job#*:}" ||
            { cat ".db/${job%%:*}.keyerr" >&2; die "key ${job%%:*} failed"; }
    done
}

# issue NAME ISSUER EXTENSIONS WINDOW CN: NAME.pem from NAME.key, signed by
# ISSUER (self-signed when ISSUER is "self"); KU/EKU/SAN from the environment.
issue() {
    name=$1 issuer=$2 ext=$3 cn=$5
    eval "set -- \$WINDOW_$4"
    start=$(at "$1") end=$(at "$2")
    if [ "$issuer" = self ]; then
        CADIR=.db/$name signer="-selfsign -keyfile $name.key"
    else
        CADIR=.db/$issuer signer="-cert $issuer.pem -keyfile $issuer.key"
    fi
    ossl req -new -config .db/openssl.cnf -key "$name.key" \
        -subj "/O=$ORG/OU=$name/CN=$cn" -out ".db/$name.csr"
    # shellcheck disable=SC2086  # $signer is several words
    ossl ca -batch -notext -config .db/openssl.cnf $signer \
        -extensions "${ext}_ext" -startdate "$start" -enddate "$end" \
        -in ".db/$name.csr" -out "$name.pem"
}

# new_ca_db NAME: the index, CRL number and cert store of CA NAME.
new_ca_db() {
    mkdir -p ".db/$1"
    : > ".db/$1/index.txt"
    echo 01 > ".db/$1/crlnumber"
}

# gen_crl CA WINDOW OUTFILE: a CRL of everything CA revoked so far.
gen_crl() {
    ca=$1 out=$3
    eval "set -- \$CRL_$2"
    CADIR=.db/$ca
    ossl ca -gencrl -config .db/openssl.cnf -cert "$ca.pem" -keyfile "$ca.key" \
        -crl_lastupdate "$(at "$1")" -crl_nextupdate "$(at "$2")" -out "$out"
}

# ---------------------------------------------------------------- generate

echo "gen.sh: generating test PKI in $OUT"

KEYJOBS=
while read -r name key _; do
    [ -z "$name" ] || make_key "$name" "$key"
done <<EOF
$CAS
$LEAVES
EOF
wait_keys

# CAs. .db/NAME.send is what a leaf issued by NAME appends in its chain file.
while read -r name key issuer ext send cn; do
    [ -n "$name" ] || continue
    new_ca_db "$name"
    issue "$name" "$issuer" "$ext" ca "$cn"
    { [ "$send" = no ] || cat "$name.pem"
      [ "$issuer" = self ] || cat ".db/$issuer.send"; } > ".db/$name.send"
done <<EOF
$CAS
EOF

# Leaves.
while read -r name key issuer prof window; do
    [ -n "$name" ] || continue
    profile "$prof"
    if [ "$key" = rsa ]; then KU="digitalSignature, keyEncipherment"
    else KU=digitalSignature; fi
    [ "$issuer" != self ] || new_ca_db "$name"
    issue "$name" "$issuer" leaf "$window" "$CN"
    [ "$issuer" = self ] || cat "$name.pem" ".db/$issuer.send" > "$name-chain.pem"
done <<EOF
$LEAVES
EOF

# Revocation and CRLs.
CADIR=.db/int-ca
ossl ca -config .db/openssl.cnf -cert int-ca.pem \
    -keyfile int-ca.key -revoke revoked.pem -crl_reason keyCompromise
gen_crl int-ca expired int-crl-expired.pem
gen_crl int-ca current int-crl.pem
gen_crl root-ca current root-crl.pem

# OCSP responses to staple (DER), answered from int-ca's own database (so
# `revoked` is revoked) and signed by the `ocsp` responder leaf; valid for
# 10 years, no nonce (stapled responses never carry one).
for leaf in server-rsa revoked; do
    ossl ocsp -index .db/int-ca/index.txt -CA int-ca.pem -issuer int-ca.pem \
        -rsigner ocsp.pem -rkey ocsp.key -cert "$leaf.pem" -no_nonce \
        -ndays 3650 -respout "ocsp-$leaf.der"
done

# Encrypted copy of server-rsa.key and its password.
printf %s "$PASSWORD" > password.txt
ossl pkcs8 -topk8 -v2 aes-256-cbc -in server-rsa.key \
    -passout file:password.txt -out server-rsa-enc.key

# Trust bundles and the hashed CA directory.
cp root-ca.pem ca.pem
cat root-ca.pem int-ca.pem > all-ca.pem
cat root-ca.pem int-crl.pem root-crl.pem > ca-crl.pem
cat root-ca.pem int-crl-expired.pem root-crl.pem > ca-crl-expired.pem
mkdir capath
cp root-ca.pem "capath/$(openssl x509 -hash -noout -in root-ca.pem).0"

# DH parameters from the RFC 7919 group: instant, no prime search.
ossl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh2048.pem

for f in $(expected_files); do [ -s "$f" ] || die "$f was not generated"; done

# openssl writes keys 0600. These are throwaway test keys, and the interop
# peers may run in containers under another uid, so let everyone read them.
chmod 644 ./*.key

# ---------------------------------------------------------------- install

# Move the new files over the old ones one by one (DIR itself stays the same
# directory, so bind mounts of it keep working), then drop stale entries.
rm -f "$OUT/.stamp"
NEW=" $(echo *) "
for f in *; do
    [ -d "$f" ] && rm -rf "${OUT:?}/$f"
    mv -f "$f" "$OUT/$f"
done
for f in "$OUT"/*; do
    case $NEW in *" ${f##*/} "*) ;; *) rm -rf "$f" ;; esac
done
cd "$OUT"
echo "$SELF_SUM $NOW" > .stamp
echo "gen.sh: done"
