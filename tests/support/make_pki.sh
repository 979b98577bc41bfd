#!/usr/bin/env bash
# make_pki.sh OUTDIR PASSWORD [BASE_URL]  — hozon's throw-away test PKI (openssl CLI only).
#
#   root.pem/key (RSA 3072) ─ inter.pem/key (RSA 2048, pathlen 0)
#       ├─ signer-rsa      RSA 2048, document signer        signer-rsa.{pem,key,p12}
#       ├─ signer-ec       ECDSA P-256, document signer     signer-ec.{pem,key,p12}
#       ├─ signer-revoked  RSA 2048, listed in inter.crl    signer-revoked.{pem,key,p12}
#       ├─ tsa             RSA 2048, EKU critical timeStamping only   tsa.{pem,key}
#       └─ ocsp            RSA 2048, EKU OCSPSigning, ocspNoCheck     ocsp.{pem,key}
#   root.crl, inter.crl (DER)   chain.pem = inter+root   ca-bundle.pem = root+inter
#   tsa-chain.pem = tsa+inter   password.txt (the PKCS#12 password, mode 600, no newline)
# Certificates point at BASE_URL/crl/root.crl, BASE_URL/crl/inter.crl and BASE_URL/ocsp
# (default http://127.0.0.1:8318, what `hozon tsa serve` listens on). Keys are mode 600.
set -euo pipefail
OUT=${1:?usage: make_pki.sh OUTDIR PASSWORD [BASE_URL]}
PASS=${2:?usage: make_pki.sh OUTDIR PASSWORD [BASE_URL]}
BASE=${3:-http://127.0.0.1:8318}
umask 077
mkdir -p "$OUT"
cd "$OUT"
rm -rf ca-root ca-inter
mkdir ca-root ca-inter
for d in ca-root ca-inter; do : > "$d/index.txt"; echo "unique_subject = no" > "$d/index.txt.attr"; done
echo 1000 > ca-root/serial;  echo 1000 > ca-root/crlnumber
echo 2000 > ca-inter/serial; echo 2000 > ca-inter/crlnumber

cat > pki.cnf <<CNF
[ ca_root ]
dir = ca-root
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = root.pem
private_key = root.key
default_md = sha256
default_days = 3650
default_crl_days = 30
policy = pol_any
unique_subject = no
[ ca_inter ]
dir = ca-inter
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = inter.pem
private_key = inter.key
default_md = sha256
default_days = 825
default_crl_days = 30
policy = pol_any
unique_subject = no
[ pol_any ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$BASE/crl/root.crl
[ v3_signer ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$BASE/crl/inter.crl
authorityInfoAccess = OCSP;URI:$BASE/ocsp
[ v3_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$BASE/crl/inter.crl
authorityInfoAccess = OCSP;URI:$BASE/ocsp
[ v3_ocsp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
noCheck = ignored
CNF
Q=(-batch -notext -config pki.cnf)
SUBJ="/C=JP/O=hozon Test PKI"

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out root.key
openssl req -new -config pki.cnf -key root.key -subj "$SUBJ/CN=hozon Test Root CA" -out root.csr
openssl ca "${Q[@]}" -name ca_root -selfsign -keyfile root.key -in root.csr -extensions v3_root -out root.pem 2>/dev/null

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out inter.key
openssl req -new -config pki.cnf -key inter.key -subj "$SUBJ/CN=hozon Test Intermediate CA" -out inter.csr
openssl ca "${Q[@]}" -name ca_root -in inter.csr -extensions v3_inter -out inter.pem 2>/dev/null

issue() { # name extensions common-name genpkey-args...
  local name=$1 ext=$2 cn=$3; shift 3
  openssl genpkey -quiet "$@" -out "$name.key"
  openssl req -new -config pki.cnf -key "$name.key" -subj "$SUBJ/CN=$cn" -out "$name.csr"
  openssl ca "${Q[@]}" -name ca_inter -in "$name.csr" -extensions "$ext" -out "$name.pem" 2>/dev/null
}
issue signer-rsa     v3_signer "hozon Test Signer RSA"     -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue signer-ec      v3_signer "hozon Test Signer EC"      -algorithm EC -pkeyopt ec_paramgen_curve:P-256
issue signer-revoked v3_signer "hozon Test Signer REVOKED" -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue tsa            v3_tsa    "hozon Test TSA"            -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue ocsp           v3_ocsp   "hozon Test OCSP Responder" -algorithm RSA -pkeyopt rsa_keygen_bits:2048

cat inter.pem root.pem > chain.pem
cat root.pem inter.pem > ca-bundle.pem
cat tsa.pem inter.pem > tsa-chain.pem
printf '%s' "$PASS" > password.txt
for s in signer-rsa signer-ec signer-revoked; do
  openssl pkcs12 -export -inkey "$s.key" -in "$s.pem" -certfile chain.pem -name "$s" \
    -passout file:password.txt -out "$s.p12"
done

openssl ca -config pki.cnf -name ca_inter -batch -revoke signer-revoked.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -config pki.cnf -name ca_root -batch -gencrl -out root.crl.pem 2>/dev/null
openssl ca -config pki.cnf -name ca_inter -batch -gencrl -out inter.crl.pem 2>/dev/null
openssl crl -in root.crl.pem -outform DER -out root.crl
openssl crl -in inter.crl.pem -outform DER -out inter.crl
rm -f ./*.csr
chmod 644 ./*.pem ./*.crl

# Self-check: the chain verifies and the revoked signer does not pass a CRL check.
openssl verify -CAfile root.pem -untrusted inter.pem signer-rsa.pem signer-ec.pem tsa.pem ocsp.pem >/dev/null
openssl verify -crl_check -CAfile root.pem -untrusted inter.pem -CRLfile inter.crl.pem signer-rsa.pem >/dev/null
if openssl verify -crl_check -CAfile root.pem -untrusted inter.pem -CRLfile inter.crl.pem signer-revoked.pem >/dev/null 2>&1; then
  echo "make_pki: the revoked certificate still verifies" >&2; exit 1
fi
echo "make_pki: test PKI in $OUT (CRL/OCSP base $BASE)"
