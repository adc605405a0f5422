#!/usr/bin/env bash
# Compiles genq's CUDA kernels (genq.cu and the .cu/.h files it includes) to
# one PTX module, genq.ptx, which the `cuda` build embeds. The first line of
# genq.ptx records the sha256 of the sources (every *.cu and *.h file of this
# folder, in name order, concatenated); a default-build test fails when it no
# longer matches, so run this after every change to a kernel:
#
#   bash internal/cuda/kernels/gen.sh
#
# Needs nvcc (CUDA 11.8 or newer; Debian's nvidia-cuda-toolkit will do).
# compute_70 PTX runs on Volta and every later GPU: the driver compiles it for
# the GPU at hand when a machine loads the module.
set -euo pipefail
cd "$(dirname "$0")"
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "gen.sh: no $NVCC: install the CUDA toolkit (Debian: nvidia-cuda-toolkit)" >&2; exit 1; }
sum=$(LC_ALL=C ls -- *.cu *.h | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$NVCC" -ptx -arch=compute_70 -O3 genq.cu -o "$tmp"
{
	echo "// genq-sources-sha256 $sum (written by gen.sh; do not edit)"
	cat "$tmp"
} >genq.ptx
echo "gen.sh: genq.ptx ($(grep -c '\.entry' genq.ptx) kernels, sources $sum) by $("$NVCC" --version | tail -1)"
