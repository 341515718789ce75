#!/bin/bash
# mkcerts.sh DIR -- make a throw-away test CA and a server certificate.
#
# Writes into DIR (created if needed):
#   ca.pem, ca.key          self-signed CA "carto-auth test CA"
#   server.pem, server.key  CN=127.0.0.1, subjectAltName IP:127.0.0.1,
#                           DNS:localhost, signed by the CA
# All keys are EC P-256 (fast to make); keys are mode 600.  Quiet unless
# openssl fails.  Valid for 30 days from now.
set -euo pipefail

dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

# A self-contained config, so the system's openssl.cnf cannot add or
# duplicate extensions.
cat >openssl.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no

[dn]
CN = carto-auth test CA

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

{
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
  openssl req -config openssl.cnf -new -x509 -key ca.key -sha256 -days 30 \
    -extensions v3_ca -out ca.pem
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key
  openssl req -config openssl.cnf -new -key server.key -subj /CN=127.0.0.1 \
    -out server.csr
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
    -set_serial "0x$(openssl rand -hex 8)" -days 30 -sha256 \
    -extfile openssl.cnf -extensions v3_server -out server.pem
} 2>mkcerts.err || { cat mkcerts.err >&2; exit 1; }

chmod 644 ca.pem server.pem
rm -f server.csr mkcerts.err openssl.cnf
