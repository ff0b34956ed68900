#!/usr/bin/env bash
# Regenerates idl/tessera.json with anchor-cli's `anchor idl build`.
#   scripts/idl.sh           # write idl/tessera.json
#   scripts/idl.sh --check   # fail if the committed idl/tessera.json is stale
# Needs anchor-cli 1.2.2 on PATH:
#   CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install anchor-cli@1.2.2 --locked
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v anchor >/dev/null; then
  echo "idl.sh: anchor-cli is not on PATH; install it with:" >&2
  echo "  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install anchor-cli@1.2.2 --locked" >&2
  exit 1
fi
version=$(anchor --version)
case "$version" in
  *" 1.2.2"*) ;;
  *) echo "idl.sh: need anchor-cli 1.2.2, found '$version'" >&2; exit 1 ;;
esac
fresh=$(mktemp --suffix=.json)
trap 'rm -f "$fresh"' EXIT
anchor idl build -p tessera -o "$fresh"
if [ "${1:-}" = "--check" ]; then
  if ! diff -u idl/tessera.json "$fresh"; then
    echo "idl.sh: idl/tessera.json is stale; run scripts/idl.sh and commit it" >&2
    exit 1
  fi
  echo "idl.sh: idl/tessera.json is up to date" >&2
else
  cp "$fresh" idl/tessera.json
  echo "idl.sh: wrote idl/tessera.json" >&2
fi
