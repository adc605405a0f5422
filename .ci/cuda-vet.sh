#!/usr/bin/env bash
# CI step: compiles and vets genq's cuda-tagged code, which `go vet ./...`
# (the default build) does not see, with no GPU: `go vet -tags cuda ./...`
# and `go vet -tags cucheck ./internal/cuda/cucheck`, cgo compiling
# gorgonia.org/cu and cu/blas against CUDA 11.8's headers from Debian and
# gorgonia.org/cu/dnn swapped for .ci/gpu/nocudnn (see .ci/gpu/prepare.sh).
# Linking and running need the CUDA libraries and a GPU: .ci/gpu/build.sh
# and scripts/gpu-check.sh.
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
