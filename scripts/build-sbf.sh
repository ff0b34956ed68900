#!/usr/bin/env bash
# Builds programs/tessera to an SBPF v3 .so without Solana's platform-tools: upstream nightly
# rustc with a bpfel target whose os is "solana" (sbf/bpfel-solana-std.json), std built from
# the nightly's library/ with sbf/std-os-solana.patch, linked by crates.io's sbpf-linker.
#
# Output: target/deploy/tessera.so, and its SHA-256 and size in docs/compute-units.md.
# Tools are cached in $TESSERA_SBF_CACHE (default ~/.cache/tessera-sbf).
#
# Differences from `cargo build-sbf`: panics abort without a message; only SBPF v3; std's
# HashMap uses fixed keys. Deploy to public clusters with the official toolchain's build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
NIGHTLY=${NIGHTLY:-nightly-2026-10-30}
SBPF_LINKER_VERSION=0.2.6
CACHE=${TESSERA_SBF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-sbf}
PATCH=$root/sbf/std-os-solana.patch
TOOLS=$CACHE/tools
TC=$CACHE/toolchain
TCNAME=tessera-sbf-${NIGHTLY#nightly-}
# The SBF build keeps its own target dir: the patched std is not fingerprinted by cargo.
SBF_TARGET=${TESSERA_SBF_TARGET_DIR:-$root/target/sbf}
OUT=$root/target/deploy/tessera.so

fail() { echo "build-sbf: $*" >&2; exit 1; }
step() { echo "build-sbf: $*" >&2; }

step "toolchain $NIGHTLY (rust-src)"
rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src >/dev/null ||
  fail "could not install $NIGHTLY from rustup's dist server"

if ! "$TOOLS/bin/sbpf-linker" --version 2>/dev/null | grep -q "$SBPF_LINKER_VERSION"; then
  step "installing sbpf-linker $SBPF_LINKER_VERSION into $TOOLS"
  cargo "+$NIGHTLY" install sbpf-linker --version "=$SBPF_LINKER_VERSION" --locked \
    --root "$TOOLS" || fail "cargo install sbpf-linker $SBPF_LINKER_VERSION failed"
fi

# A rustup-linked copy of the nightly whose library/ is patched for os = "solana".
stamp="$NIGHTLY-$(sha256sum "$PATCH" | cut -c1-16)"
if [ "$(cat "$TC/.stamp" 2>/dev/null)" != "$stamp" ]; then
  step "patching std of $NIGHTLY into $TC"
  sysroot=$(rustc "+$NIGHTLY" --print sysroot) || fail "no sysroot for $NIGHTLY"
  rm -rf "$TC"
  mkdir -p "$CACHE"
  cp -al "$sysroot" "$TC"
  rm -rf "$TC/lib/rustlib/src/rust/library"
  cp -r "$sysroot/lib/rustlib/src/rust/library" "$TC/lib/rustlib/src/rust/library"
  (cd "$TC/lib/rustlib/src/rust/library" && patch -p1 -s < "$PATCH") ||
    fail "sbf/std-os-solana.patch does not apply to $NIGHTLY's library/ (the nightly moved?)"
  echo "$stamp" > "$TC/.stamp"
  rustup toolchain link "$TCNAME" "$TC" || fail "rustup toolchain link $TCNAME failed"
  rm -rf "$SBF_TARGET"
fi
rustup run "$TCNAME" rustc --version >/dev/null 2>&1 || rustup toolchain link "$TCNAME" "$TC"

step "building programs/tessera for bpfel-solana-std"
log=$(mktemp)
cd "$root"
# RUSTFLAGS from the environment would silently replace the target's rustflags.
# CARGO_CACHE_RUSTC_INFO=0: cargo caches the sysroot per rustc binary, and every linked copy of
# the nightly shares that binary, so a relinked toolchain would keep a stale sysroot.
if ! env -u RUSTFLAGS CARGO_CACHE_RUSTC_INFO=0 PATH="$TOOLS/bin:$PATH" CARGO_TARGET_DIR="$SBF_TARGET" \
  cargo "+$TCNAME" build --release --locked -p tessera \
  --config "$root/sbf/cargo-config.toml" \
  --target "$root/sbf/bpfel-solana-std.json" -Zbuild-std=std,panic_abort 2>&1 |
  grep -v "unable to open LLVM shared lib" | tee "$log" >&2; then
  fail "cargo build for SBF failed (log above)"
fi
if grep -qiE "stack limit|stack offset|exceeded max offset" "$log"; then
  fail "a stack frame exceeds 4 KiB (log above); box or zero-copy the account that needs it"
fi
so=$SBF_TARGET/bpfel-solana-std/release/libtessera.so
[ -s "$so" ] || fail "no $so after the build"
mkdir -p "$(dirname "$OUT")"
cp "$so" "$OUT"

sha=$(sha256sum "$OUT" | cut -d' ' -f1)
size=$(stat -c %s "$OUT")
step "$OUT: $size bytes, sha256 $sha"
doc=$root/docs/compute-units.md
if [ -f "$doc" ]; then
  python3 - "$doc" "$sha" "$size" <<'PY'
import re, sys
path, sha, size = sys.argv[1:]
text = open(path).read()
block = f"<!-- artifact -->\n- `target/deploy/tessera.so`: {size} bytes, SHA-256 `{sha}`\n<!-- /artifact -->"
text = re.sub(r"<!-- artifact -->.*?<!-- /artifact -->", block, text, flags=re.S)
open(path, "w").write(text)
PY
fi
