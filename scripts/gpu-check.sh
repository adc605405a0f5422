#!/usr/bin/env bash
# Checks genq's `cuda` build on a machine with an NVIDIA GPU: the fixture
# tests that matter (T5 encoder states, logits, loss and gradients, greedy
# and beam ids, scores; bi-encoder embeddings, MNRL loss, scores and
# gradients, one fit step; the GPU matrix products themselves) run with
# their graphs on the GPU, against the same fixtures and tolerances as on
# the CPU, and the P1-P3 benchmarks run on the GPU and on the CPU, side by
# side. Every log lands under $OUT (default ./gpu-check-out); the last line
# of $OUT/gpu.log is "RESULT: PASS" or "RESULT: FAIL", and the exit status
# says the same. It ends within 8 minutes: GENQ_GPU_TOTAL (default 460 s)
# bounds the whole, the run step gets what the build left, and a step that
# no longer fits is skipped and reported so.
#
#   scripts/gpu-check.sh
#
# Steps:
#  1. Build (only where `go` is on PATH and GENQ_GPU_PREBUILT is not 1): the
#     test binaries of .ci/gpu/tests.sh with -tags cuda, by .ci/gpu/build.sh.
#     It finds cuda.h (CUDA_INC, default /usr/local/cuda/include, used when
#     it is CUDA 12 or older; otherwise CUDA 11.8's headers are fetched from
#     Debian once, since gorgonia.org/cu does not compile against CUDA 13's),
#     needs no cuDNN (gorgonia.org/cu/dnn is swapped for a stand-in: genq's
#     graphs use no cuDNN op), sets CGO_CFLAGS/CGO_LDFLAGS, and links against
#     stub libraries with the real libraries' sonames. Without Go, the
#     binaries in .ci/gpu/bin are used as they are (built elsewhere by
#     .ci/gpu/build.sh and copied along, as genq does for its GPU machine).
#  2. Run (.ci/gpu/run.sh): find libcuda and libcublas; compile
#     gorgonia's kernels ("cuda modules/src/*.cu") to PTX for this GPU's
#     compute capability with nvcc (what gorgonia's cmd/cudagen does, minus
#     embedding them in Go source: genq loads them at run time from
#     $GENQ_CUDA_PTX); run the driver/cuBLAS/kernel checks, gorgonia's CUDA
#     machine smoke tests, genq's fixture tests, then the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
export OUT=${OUT:-$(pwd)/gpu-check-out}
mkdir -p "$OUT"
START=$SECONDS

if command -v go >/dev/null && [ "${GENQ_GPU_PREBUILT:-0}" != 1 ]; then
	if [ -z "${CUDA_INC:-}" ] && [ -f /usr/local/cuda/include/cuda.h ]; then
		export CUDA_INC=/usr/local/cuda/include # used when it is CUDA 12 or older
	fi
	echo "gpu-check.sh: building the test binaries (log: $OUT/build.log)"
	if ! bash .ci/gpu/build.sh >"$OUT/build.log" 2>&1; then
		tail -30 "$OUT/build.log" >&2
		echo "gpu-check.sh: build failed (full log: $OUT/build.log)" >&2
		exit 1
	fi
	echo "gpu-check.sh: built in $((SECONDS - START)) s"
fi

for t in cucheck smoke t5 encoder nn t5-cpu encoder-cpu; do
	ls .ci/gpu/bin/"$t".test.xz .ci/gpu/bin/"$t".test.gz >/dev/null 2>&1 || echo "gpu-check.sh: warning: .ci/gpu/bin/$t.test.xz (or .gz) is missing: build it with .ci/gpu/build.sh" >&2
done
# run.sh reports, and ends with RESULT: PASS or RESULT: FAIL
export GENQ_GPU_DEADLINE=${GENQ_GPU_DEADLINE:-$((${GENQ_GPU_TOTAL:-460} - (SECONDS - START)))}
bash .ci/gpu/run.sh
tail -1 "$OUT/gpu.log" | grep -qx 'RESULT: PASS'
