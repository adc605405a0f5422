#!/usr/bin/env bash
# Runs genq's CUDA checks on the GPU machine (no Go toolchain there), from the
# repository root, with .ci/gpu/bin carried (built here by .ci/gpu/build.sh):
#
#   bash .ci/gpu/run.sh
#
# Every step has its own timeout and the script goes on after a failed step;
# the whole run stays under about 8 minutes (usually 1 to 2). Results, written to $OUT even
# when steps fail:
#   gpu.log          everything printed below
#   compat.txt       which C names gorgonia.org/cu, cu/blas and cu/dnn use are
#                    missing from this machine's CUDA/cuDNN headers, and which
#                    symbols the carried binaries need are missing from the
#                    real libraries
#   headers.tar.gz   the cuDNN headers (for build.sh's smoke.test) and CUDA's
#                    cuda.h, cublas_api.h, cublas_v2.h
#   symbols.tar.gz   nm -D of libcuda, libcublas, libcublasLt, libcudnn*
#   ptx.tar.gz       gorgonia's kernels compiled by this machine's nvcc
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/genq-gpu-out}
mkdir -p "$OUT"
BIN=.ci/gpu/bin
WORK=$(mktemp -d)
LOG=$OUT/gpu.log
exec > >(tee "$LOG") 2>&1

step() { echo; echo "=== $* ($(date +%T))"; }
# run SECONDS CMD...: runs a step under a timeout and reports its exit code.
run() {
	local secs=$1
	shift
	timeout -k 5 "$secs" "$@"
	local rc=$?
	[ $rc -eq 0 ] || echo "--- exit code $rc: $*"
	return $rc
}

step "machine"
run 20 nvidia-smi
run 10 nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv
run 10 nvcc --version || echo "nvcc not on PATH; looking in /usr/local/cuda*/bin"
NVCC=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
echo "nvcc: ${NVCC:-none}"
ls -d /usr/local/cuda* 2>/dev/null

step "libraries"
SITE=$(ls -d /opt/torch/.venv/lib/python3*/site-packages 2>/dev/null | head -1)
ROOTS="/usr/local/cuda/ /usr/local/nvidia/ /usr/lib/x86_64-linux-gnu/ /usr/lib64/ ${SITE:+$SITE/nvidia/}"
echo "search roots: $ROOTS"
timeout 30 ldconfig -p | grep -E 'libcuda\.so|libcublas|libcudnn' || true
find_lib() { # first file named $1 under the roots
	# shellcheck disable=SC2086
	timeout 30 find -L $ROOTS -name "$1" 2>/dev/null | head -1
}
LIBCUDA=$(timeout 10 ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
[ -n "$LIBCUDA" ] || LIBCUDA=$(find_lib 'libcuda.so.1')
LIBCUBLAS=$(find_lib 'libcublas.so.13')
LIBCUBLASLT=$(find_lib 'libcublasLt.so.13')
LIBCUDNN=$(find_lib 'libcudnn.so.9')
echo "libcuda.so.1:      ${LIBCUDA:-MISSING}"
echo "libcublas.so.13:   ${LIBCUBLAS:-MISSING}"
echo "libcublasLt.so.13: ${LIBCUBLASLT:-MISSING}"
echo "libcudnn.so.9:     ${LIBCUDNN:-MISSING}"
# shellcheck disable=SC2086
timeout 30 find -L $ROOTS \( -name 'libcublas.so*' -o -name 'libcudnn*.so*' \) 2>/dev/null | sort | head -40

step "headers"
CUDA_H=$(find_lib cuda.h)
for d in /usr/local/cuda/include /usr/local/cuda/targets/x86_64-linux/include; do
	[ -f "$d/cuda.h" ] && CUDA_H=$d/cuda.h && break
done
CUBLAS_H=$(dirname "${CUDA_H:-/nonexistent/x}")/cublas_api.h
[ -f "$CUBLAS_H" ] || CUBLAS_H=$(find_lib cublas_api.h)
CUDNN_H=$(find_lib cudnn.h)
CUDNN_VERSION_H=$(find_lib cudnn_version.h)
echo "cuda.h: ${CUDA_H:-MISSING}   cublas_api.h: ${CUBLAS_H:-MISSING}   cudnn.h: ${CUDNN_H:-MISSING}"
[ -n "$CUDA_H" ] && grep -m1 -E '^#define CUDA_VERSION' "$CUDA_H"
[ -n "$CUDNN_VERSION_H" ] && grep -E '^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)' "$CUDNN_VERSION_H"
if [ -n "$CUDA_H" ]; then
	echo "-- CUDA declarations that changed since the 11.8 headers gorgonia.org/cu is built against:"
	grep -nE '#define (cuCtxCreate|cuMemAdvise|cuMemPrefetchAsync|cuGraphGetEdges|cuGraphAddDependencies|cuStreamWaitValue32|cuGraphAddKernelNode)\b' "$CUDA_H"
	grep -nE 'CUresult CUDAAPI (cuCtxCreate|cuCtxCreate_v2|cuCtxCreate_v4|cuTexRefSetArray|cuModuleGetTexRef)\(' "$CUDA_H"
fi

step "compatibility report -> compat.txt"
{
	echo "# C names used by gorgonia.org/cu v0.9.4 (driver API) that ${CUDA_H:-cuda.h} does not declare:"
	[ -f "$BIN/cuda_names.txt" ] && [ -n "$CUDA_H" ] && while read -r n; do
		grep -qw -- "$n" "$CUDA_H" || echo "cuda-header-missing $n"
	done <"$BIN/cuda_names.txt"
	echo "# C names used by gorgonia.org/cu/dnn v0.9.4 that the cuDNN headers ($(dirname "${CUDNN_H:-/x/none}")) do not declare:"
	[ -f "$BIN/cudnn_names.txt" ] && [ -n "$CUDNN_H" ] && while read -r n; do
		grep -qw -- "$n" "$(dirname "$CUDNN_H")"/cudnn*.h || echo "cudnn-header-missing $n"
	done <"$BIN/cudnn_names.txt"
	defined=$WORK/defined.txt
	for lib in "$LIBCUDA" "$LIBCUBLAS" "$LIBCUBLASLT" "$LIBCUDNN"; do
		[ -n "$lib" ] && timeout 30 nm -D --defined-only "$lib" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//'
	done | sort -u >"$defined"
	for u in "$BIN"/*.undef; do
		[ -f "$u" ] || continue
		echo "# symbols $(basename "$u" .undef) needs that libcuda/libcublas/libcudnn do not export (lazy binding: harmless unless called):"
		comm -23 "$u" "$defined" | sed "s/^/symbol-missing $(basename "$u" .undef) /"
	done
} >"$OUT/compat.txt" 2>&1
grep -c -- '-missing' "$OUT/compat.txt" | sed 's/^/missing names in total: /'
grep -E 'symbol-missing' "$OUT/compat.txt" | head -40
grep -E 'header-missing' "$OUT/compat.txt" | head -60

step "gorgonia kernels -> PTX (nvcc)"
PTX=$WORK/ptx
mkdir -p "$PTX"
CC=$(timeout 10 nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
CC=${CC:-90}
echo "target: compute_$CC"
if [ -n "$NVCC" ] && [ -d "$BIN/kernels" ]; then
	for cu in "$BIN"/kernels/*.cu; do
		name=$(basename "$cu" .cu)
		run 40 "$NVCC" -ptx -arch="compute_$CC" -fmad=false -ftz=false -prec-div=true -prec-sqrt=true \
			-o "$PTX/$name.ptx" "$cu" && echo "$name.ptx: $(grep -c '\.entry' "$PTX/$name.ptx") kernels"
	done
else
	echo "no nvcc or no $BIN/kernels: skipping"
fi

step "run the carried test binaries"
LIBDIRS=""
for lib in "$LIBCUBLAS" "$LIBCUBLASLT" "$LIBCUDNN" "$LIBCUDA"; do
	[ -n "$lib" ] && LIBDIRS=$LIBDIRS:$(dirname "$lib")
done
export LD_LIBRARY_PATH=${LIBDIRS#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GENQ_CUDA_PTX=$PTX
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
for t in cucheck smoke; do
	exe=$WORK/$t.test
	[ -f "$BIN/$t.test.gz" ] && gunzip -c "$BIN/$t.test.gz" >"$exe" && chmod +x "$exe"
	if [ ! -x "$exe" ]; then
		echo "-- $t.test not carried (build.sh builds smoke.test once it has the cuDNN headers)"
		continue
	fi
	echo "-- ldd $t.test"
	run 20 ldd "$exe" | grep -E 'cuda|cublas|cudnn|not found'
	echo "-- $t.test"
	secs=90
	[ "$t" = smoke ] && secs=150
	run "$secs" "$exe" -test.v -test.count=1 -test.timeout=$((secs - 10))s
	echo "--- $t.test finished"
done

step "collect headers, symbols, PTX"
H=$WORK/headers
mkdir -p "$H/cuda" "$H/cudnn"
[ -n "$CUDA_H" ] && cp "$CUDA_H" "$H/cuda/" && for f in cublas_api.h cublas_v2.h cuda_runtime_api.h driver_types.h library_types.h; do
	[ -f "$(dirname "$CUDA_H")/$f" ] && cp "$(dirname "$CUDA_H")/$f" "$H/cuda/"
done
[ -n "$CUDNN_H" ] && cp "$(dirname "$CUDNN_H")"/cudnn*.h "$H/cudnn/"
run 60 tar -czf "$OUT/headers.tar.gz" -C "$H" .
S=$WORK/symbols
mkdir -p "$S"
for lib in "$LIBCUDA" "$LIBCUBLAS" "$LIBCUBLASLT" "$LIBCUDNN" $(ls "$(dirname "${LIBCUDNN:-/x/none}")"/libcudnn_*.so.9 2>/dev/null); do
	[ -n "$lib" ] && timeout 30 nm -D --defined-only "$lib" >"$S/$(basename "$lib").nm" 2>&1
done
run 60 tar -czf "$OUT/symbols.tar.gz" -C "$S" .
run 60 tar -czf "$OUT/ptx.tar.gz" -C "$PTX" .
ls -la "$OUT"

step "summary"
grep -E '^(--- (PASS|FAIL)|PASS$|FAIL|ok |panic:)|exit code' "$LOG" | grep -v '^=== ' || true
echo "run.sh done"
exit 0
