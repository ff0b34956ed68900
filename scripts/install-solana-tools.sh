#!/usr/bin/env bash
# Installs the Solana tools the local-validator path needs into a cache outside the clone,
# idempotently, and prints the folder holding them (add it to PATH):
#   - solana-test-validator (crate agave-validator 4.2.2, built from crates.io: ~24 min on 2
#     cores the first time; needs Debian's libclang-dev, cmake, protobuf-compiler, libudev-dev);
#   - anchor (anchor-cli 1.2.2, ~7 min).
# TESSERA_TOOLS overrides the cache folder (default ~/.cache/tessera-tools).
set -euo pipefail
root=${TESSERA_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-tools}
bin=$root/bin
mkdir -p "$bin"
export CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback

need_packages=()
for pkg in libclang-dev cmake protobuf-compiler libudev-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_packages+=("$pkg")
done
if [ ! -x "$bin/solana-test-validator" ] && [ ${#need_packages[@]} -gt 0 ]; then
  echo "install-solana-tools: installing ${need_packages[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_packages[@]}" >&2
fi

if [ -x "$bin/solana-test-validator" ] && "$bin/solana-test-validator" --version | grep -q " 4.2.2"; then
  echo "install-solana-tools: solana-test-validator 4.2.2 already in $bin" >&2
else
  echo "install-solana-tools: building solana-test-validator 4.2.2 (about 24 minutes on 2 cores)" >&2
  start=$(date +%s)
  cargo +1.95.0 install agave-validator --version 4.2.2 --locked --bin solana-test-validator \
    --root "$root" >&2
  echo "install-solana-tools: solana-test-validator built in $(( $(date +%s) - start )) s" >&2
fi

if [ -x "$bin/anchor" ] && "$bin/anchor" --version | grep -q " 1.2.2"; then
  echo "install-solana-tools: anchor 1.2.2 already in $bin" >&2
else
  echo "install-solana-tools: building anchor-cli 1.2.2 (about 7 minutes)" >&2
  start=$(date +%s)
  cargo +1.95.0 install anchor-cli --version 1.2.2 --locked --root "$root" >&2
  echo "install-solana-tools: anchor built in $(( $(date +%s) - start )) s" >&2
fi
echo "$bin"
