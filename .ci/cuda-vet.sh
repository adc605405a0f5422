#!/usr/bin/env bash
# CI step: checks genq's cuda-tagged code, which `go vet ./...` and
# `go test ./...` (the default build) do not see, with no GPU:
#  1. `go vet -tags cuda ./...` and `go vet -tags cucheck ./internal/cuda/cucheck`,
#     cgo compiling gorgonia.org/cu and cu/blas against CUDA 11.8's headers
#     from Debian, gorgonia.org/cu/dnn swapped for .ci/gpu/nocudnn (see
#     .ci/gpu/prepare.sh);
#  2. the cuda test binaries (.ci/gpu/build.sh, linked against stub
#     libraries) run against .ci/gpu/emu, a CPU emulator of the driver and
#     cuBLAS: gorgonia's CUDA machine smoke tests and genq's fixture tests
#     with their graphs on the emulated GPU.
# The real libraries and a GPU: scripts/gpu-check.sh.
#
# When deb.debian.org cannot be reached, it says so and checks only gofmt on
# the tagged files (exit 0); a compile or vet error fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
GPU=.ci/gpu
CACHE=$GPU/.cache
mkdir -p "$CACHE"

tagged=$(grep -rlE '^//go:build .*\b(cuda|cucheck)\b' --include='*.go' . | grep -v '^./\.ci/gpu/\.cache/' || true)
unformatted=$(gofmt -l $tagged)
if [ -n "$unformatted" ]; then
	echo "cuda-vet.sh: not gofmt-formatted: $unformatted" >&2
	exit 1
fi
echo "cuda-vet.sh: $(echo "$tagged" | wc -w) cuda-tagged files are gofmt-formatted"

if ! command -v gcc >/dev/null; then
	echo "cuda-vet.sh: installing gcc for cgo"
	apt-get install -y -q gcc >/dev/null || { echo "cuda-vet.sh: SKIPPED the compile check: no C compiler for cgo" && exit 0; }
fi
# shellcheck source=gpu/prepare.sh
. "$GPU/prepare.sh"
if ! prepare_cuda; then
	echo "cuda-vet.sh: SKIPPED the compile check: no CUDA headers (see above)"
	exit 0
fi
export CGO_ENABLED=1
export CGO_CFLAGS="-I$CUDA_INC -Wno-deprecated-declarations -O2"
go vet "$MODFLAG" -tags cuda ./...
go vet "$MODFLAG" -tags cucheck ./internal/cuda/cucheck
echo "cuda-vet.sh: go vet -tags cuda ./... and -tags cucheck ./internal/cuda/cucheck passed (CUDA headers: $CUDA_INC)"

# The GPU code paths, run: the cuda test binaries against .ci/gpu/emu, a CPU
# emulator of the CUDA driver and cuBLAS, with genq's fixture tests
# (.ci/gpu/tests.sh) and gorgonia's kernels compiled for the CPU.
if ! command -v g++ >/dev/null; then
	echo "cuda-vet.sh: installing g++ for the emulator"
	apt-get install -y -q g++ >/dev/null || { echo "cuda-vet.sh: SKIPPED the emulator dry run: no g++" && exit 0; }
fi
GENQ_GPU_CPU_BENCH=0 bash "$GPU/build.sh"
bash "$GPU/emu/dryrun.sh" stub smoke t5 encoder nn kernels devopt
