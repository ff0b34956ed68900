#!/usr/bin/env bash
# Prints a folder holding libnvrtc.so.12 (NVIDIA's runtime CUDA compiler, which needs no GPU).
# Uses the system's libnvrtc when the dynamic linker knows one; otherwise installs NVIDIA's
# PyPI wheel nvidia-cuda-nvrtc-cu12==12.8.* (about 90 MB) into a cache folder, once.
#   export LD_LIBRARY_PATH="$(scripts/nvrtc.sh)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
set -euo pipefail
if system=$(ldconfig -p 2>/dev/null | awk '/libnvrtc\.so\.12 / { print $NF; exit }') && [ -n "$system" ]; then
  dirname "$system"
  exit 0
fi
cache=${TESSERA_NVRTC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-nvrtc}
lib=$cache/py/nvidia/cuda_nvrtc/lib
if [ ! -e "$lib/libnvrtc.so.12" ]; then
  python=$(command -v python3 || command -v python || true)
  if [ -z "$python" ]; then
    echo "nvrtc.sh: no libnvrtc.so.12 on this machine and no python3 to install NVIDIA's wheel" >&2
    exit 1
  fi
  echo "nvrtc.sh: installing nvidia-cuda-nvrtc-cu12==12.8.* into $cache" >&2
  mkdir -p "$cache"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$cache/py" "nvidia-cuda-nvrtc-cu12==12.8.*" >&2
fi
if [ ! -e "$lib/libnvrtc.so.12" ]; then
  echo "nvrtc.sh: the wheel did not provide $lib/libnvrtc.so.12" >&2
  exit 1
fi
echo "$lib"
