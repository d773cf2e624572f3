#!/usr/bin/env bash
# AWS's documented procedure for an OIDC provider's thumbprint ("Obtain the thumbprint for an
# OpenID Connect identity provider"), scripted with curl and openssl: fetch the discovery
# document, take the jwks_uri host, connect to it with openssl s_client -showcerts, take the last
# certificate the server sends, and print the lowercase SHA-1 of its DER encoding.
#
# usage: scripts/aws-thumbprint-procedure.sh ISSUER [CA_FILE]
set -euo pipefail
issuer=${1:?usage: $0 ISSUER [CA_FILE]}
ca=${2:+--cacert $2}

# shellcheck disable=SC2086 # $ca is empty or two words
jwks_uri=$(curl -sSf $ca "$issuer/.well-known/openid-configuration" |
  sed -n 's/.*"jwks_uri" *: *"\([^"]*\)".*/\1/p')
authority=${jwks_uri#https://}
authority=${authority%%/*}
host=${authority%:*}
port=443
[ "$authority" != "$host" ] && port=${authority##*:}

openssl s_client -servername "$host" -showcerts -connect "$host:$port" </dev/null 2>/dev/null |
  awk '/-----BEGIN CERTIFICATE-----/ { cert = "" } { cert = cert $0 "\n" } /-----END CERTIFICATE-----/ { last = cert } END { printf "%s", last }' |
  openssl x509 -noout -fingerprint -sha1 |
  sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
