#!/usr/bin/env bash
# The GPU check: builds `gpu-check` and runs every kernel on CUDA and on the CPU with fresh
# random inputs, asserting byte-identical outputs and printing a timing table with each
# kernel's fraction of the GPU's roofline (record it in docs/perf.md). Needs an NVIDIA driver
# and libnvrtc (the system's, or scripts/nvrtc.sh's). Arguments go to gpu-check (--quick,
# --seed N, --fp32-tflops X, --int32-tops X, --bandwidth-tbs X).
set -euo pipefail
cd "$(dirname "$0")/.."
if nvrtc=$(scripts/nvrtc.sh); then
  export LD_LIBRARY_PATH="$nvrtc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
exec cargo run --release --locked -p tessera-kernels --bin gpu-check -- "$@"
