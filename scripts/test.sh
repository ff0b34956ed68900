#!/usr/bin/env bash
# The project's test command.
#  1. builds the program to SBF (scripts/build-sbf.sh -> target/deploy/tessera.so);
#  2. runs the workspace's tests with the program native inside the in-process bank;
#  3. runs the same integration suite again with the program loaded from the .so
#     (TESSERA_PROGRAM_MODE=sbf): compute units, stack and heap of the real VM.
# The kernels' CUDA sources are compiled by NVRTC in step 2: scripts/nvrtc.sh finds or
# installs libnvrtc (no GPU needed), and TESSERA_REQUIRE_NVRTC=1 makes its absence a failure.
# Extra arguments go to both cargo test runs (e.g. --locked, or a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=${RUST_LOG:-error}

echo "== NVRTC (compile checks of the CUDA kernels)" >&2
nvrtc=$(scripts/nvrtc.sh)
export LD_LIBRARY_PATH="$nvrtc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TESSERA_REQUIRE_NVRTC=1

echo "== SBF build" >&2
scripts/build-sbf.sh

echo "== tests, native program" >&2
TESSERA_PROGRAM_MODE=native cargo test --workspace "$@"

# The workspace's tests build the worker with the app's `sim` feature (cargo unifies
# features); its own unit tests once more without it: a production build refuses to cheat.
echo "== worker alone, without the sim feature" >&2
cargo test -p tessera-worker --lib "$@"

echo "== integration suite, SBF program (target/deploy/tessera.so)" >&2
TESSERA_PROGRAM_MODE=sbf cargo test -p tessera-tests "$@"
