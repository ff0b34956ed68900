#!/usr/bin/env bash
# Measures how close the SBF program comes to the VM's 4 KiB stack frame and 32 KiB heap.
#  - stack: rebuilds with smaller --bpf-stack-size limits; LLVM names every function whose
#    frame exceeds the limit, so the largest frame lies between the last clean limit and the
#    first one that reports.
#  - heap: rebuilds with the `heap-probe` feature (a heap of N bytes instead of 32 KiB) and runs
#    the integration suite against that .so; the smallest N that passes bounds the heap use.
# Needs scripts/build-sbf.sh to have run once (toolchain and sbpf-linker). Takes minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
NIGHTLY=${NIGHTLY:-nightly-2026-10-30}
TOOLS=${TESSERA_SBF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-sbf}/tools
TCNAME=tessera-sbf-${NIGHTLY#nightly-}
PROBE_TARGET=$root/target/sbf-probe

build() { # stack-size features -> prints the compiler's output
  sed "s/--bpf-stack-size=4096/--bpf-stack-size=$1/" sbf/cargo-config.toml > "$PROBE_TARGET.toml"
  env -u RUSTFLAGS PATH="$TOOLS/bin:$PATH" CARGO_TARGET_DIR="$PROBE_TARGET" \
    cargo "+$TCNAME" build --release --locked -p tessera $2 --config "$PROBE_TARGET.toml" \
    --target sbf/bpfel-solana-std.json -Zbuild-std=std,panic_abort 2>&1 || true
}
mkdir -p "$PROBE_TARGET"

echo "== stack frames"
for limit in 4096 2048 1536 1280 1024 768 512; do
  over=$(build "$limit" "" | { grep "stack limit is exceeded" || true; } |
    sed 's/.*in function \([^ ]*\) .*/\1/' | sort -u)
  if [ -z "$over" ]; then
    echo "limit $limit: no frame exceeds it"
  else
    echo "limit $limit: $(echo "$over" | wc -l) functions exceed it, e.g."
    echo "$over" | head -4 | sed 's/^/    /'
    break
  fi
done

echo "== heap"
for bytes in 1024 2048 4096 8192 16384 32768; do
  if TESSERA_HEAP_PROBE_BYTES=$bytes build 4096 "--features heap-probe" | grep -qE "^error"; then
    echo "probe-sbf-limits: the heap-probe build failed" >&2
    exit 1
  fi
  so=$PROBE_TARGET/bpfel-solana-std/release/libtessera.so
  if TESSERA_PROGRAM_MODE=sbf TESSERA_PROGRAM_SO=$so RUST_LOG=error \
    cargo test -q -p tessera-tests --test suite >/dev/null 2>&1; then
    echo "heap $bytes bytes: the whole suite passes"
    break
  else
    echo "heap $bytes bytes: some instruction runs out of heap"
  fi
done
