#!/usr/bin/env bash
# Times the live look-up against a local issuer beside AWS's documented curl + openssl procedure
# (release build), and prints the median ratio and the TLS connections per run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench live_lookup
