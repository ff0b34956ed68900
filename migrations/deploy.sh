#!/usr/bin/env bash
# Deploy-time initializer, run after the program is deployed to a cluster (`anchor deploy` or
# `solana program deploy target/deploy/tessera.so --program-id <keypair>`):
#   migrations/deploy.sh <mint> [--url URL] [--keypair FILE]
# Idempotent: initializes the network's config and vaults for <mint> with the signer as
# authority, or, if the network is already initialized with that mint, prints its addresses.
# `tessera localnet` runs the same code (app/src/localnet.rs, `migrate`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: migrations/deploy.sh <mint> [--url URL] [--keypair FILE]" >&2
  exit 2
fi
mint=$1
shift
exec cargo run -q -p tessera-app --bin tessera -- "$@" migrate --mint "$mint"
