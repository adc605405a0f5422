#!/usr/bin/env bash
# Runs genq's CUDA checks on the GPU machine (no Go toolchain there), from the
# repository root, with .ci/gpu/bin carried (built here by .ci/gpu/build.sh):
#
#   GENQ_GPU_QUICK=1 bash .ci/gpu/run.sh
#
# Steps: compile gorgonia's kernels to PTX with this machine's nvcc, then run
# cucheck.test (driver API, gorgonia's kernels, cuBLAS, one layer at a time)
# and smoke.test (gorgonia's `cuda` build: a TapeMachine running MatMul on
# cuBLAS, elementwise kernels and a gradient, compared with a float64 CPU
# reference), each under its own timeout; the script goes on after a failed
# step and ends with a summary whose last line is "RESULT: PASS" or
# "RESULT: FAIL". With GENQ_GPU_QUICK=1 (about 30 s; every step has a
# timeout, at most about 3 minutes in all) it skips the slow inventory steps
# marked "full run only" below.
#
# Results, written to $OUT even when steps fail:
#   gpu.log          everything printed
#   cucheck.out, smoke.out  the test binaries' full output (three runs each)
#   bindings.txt     the CUDA, cuBLAS and cuDNN functions smoke.test called
#                    (the dynamic linker's lazy bindings)
#   ptx.tar.gz       gorgonia's kernels compiled by this machine's nvcc
#   full run only:
#   compat.txt       C names gorgonia.org/cu, cu/blas and cu/dnn use that this
#                    machine's CUDA/cuDNN headers lack, and symbols the
#                    carried binaries need that the real libraries do not
#                    export (lazily bound: harmless unless called)
#   headers.tar.gz   the cuDNN headers (for build.sh's smoke.test) and CUDA's
#                    cuda.h, cublas_api.h, cublas_v2.h
#   symbols.tar.gz   nm -D of libcuda, libcublas, libcublasLt, libcudnn*
set -u
export LC_ALL=C # sort and comm must agree on the order of names
unset LD_BIND_NOW # the binaries rely on lazy binding (see compat.txt)
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/genq-gpu-out}
QUICK=${GENQ_GPU_QUICK:-0}
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
declare -A RESULT
# The whole run must end within DEADLINE seconds (8 minutes in all, with
# room to copy $OUT back): each step's timeout is cut to what is left, and a
# step that no longer fits is skipped and reported so.
DEADLINE=${GENQ_GPU_DEADLINE:-450}
START=$SECONDS
# budget SECONDS: prints SECONDS, or less when the deadline is nearer; 0 when
# fewer than 15 seconds are left.
budget() {
	local left=$((DEADLINE - (SECONDS - START) - 10))
	[ "$left" -lt 15 ] && { echo 0; return; }
	[ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}

step "machine (quick=$QUICK)"
[ "$QUICK" = 1 ] || run 20 nvidia-smi
run 10 nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv
NVCC=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
echo "nvcc: ${NVCC:-none}"
[ -n "$NVCC" ] && run 10 "$NVCC" --version | tail -2

step "libraries"
SITE=$(ls -d /opt/torch/.venv/lib/python3*/site-packages 2>/dev/null | head -1)
ROOTS="/usr/local/cuda/ /usr/local/nvidia/ /usr/lib/x86_64-linux-gnu/ /usr/lib64/ ${SITE:+$SITE/nvidia/}"
find_lib() { # first file named $1 under the roots
	# shellcheck disable=SC2086
	timeout 30 find -L $ROOTS -name "$1" 2>/dev/null | head -1
}
ldcache() { timeout 10 ldconfig -p | awk -v n="$1" '$1 == n {print $NF; exit}'; }
LIBCUDA=$(ldcache libcuda.so.1)
[ -n "$LIBCUDA" ] || LIBCUDA=$(find_lib 'libcuda.so.1')
LIBCUBLAS=$(ldcache libcublas.so.13)
[ -n "$LIBCUBLAS" ] || LIBCUBLAS=$(find_lib 'libcublas.so.13')
LIBCUBLASLT=$(ldcache libcublasLt.so.13)
[ -n "$LIBCUBLASLT" ] || LIBCUBLASLT=$(find_lib 'libcublasLt.so.13')
LIBCUDNN=$(ldcache libcudnn.so.9)
[ -n "$LIBCUDNN" ] || LIBCUDNN=$(find_lib 'libcudnn.so.9')
# torch's cuDNN (the version of the headers build.sh compiled against): the
# fallback when the system's cuDNN fails.
VENV_CUDNN_DIR=""
[ -n "$SITE" ] && [ -f "$SITE/nvidia/cudnn/lib/libcudnn.so.9" ] && VENV_CUDNN_DIR=$SITE/nvidia/cudnn/lib
echo "libcuda.so.1:      ${LIBCUDA:-MISSING}"
echo "libcublas.so.13:   ${LIBCUBLAS:-MISSING}"
echo "libcublasLt.so.13: ${LIBCUBLASLT:-MISSING}"
echo "libcudnn.so.9:     ${LIBCUDNN:-MISSING} (torch's: ${VENV_CUDNN_DIR:-none})"
if [ "$QUICK" != 1 ]; then # full run only
	timeout 30 ldconfig -p | grep -E 'libcuda\.so|libcublas|libcudnn' || true
	# shellcheck disable=SC2086
	timeout 30 find -L $ROOTS \( -name 'libcublas.so*' -o -name 'libcudnn*.so*' \) 2>/dev/null | sort | head -40
fi

step "symbols the carried binaries need that the real libraries lack"
defined=$WORK/defined.txt
for lib in "$LIBCUDA" "$LIBCUBLAS" "$LIBCUBLASLT" "$LIBCUDNN"; do
	[ -n "$lib" ] && timeout 30 nm -D --defined-only "$lib" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//'
done | sort -u >"$defined"
for u in "$BIN"/*.undef; do
	[ -f "$u" ] || continue
	sort -u "$u" | comm -23 - "$defined" >"$WORK/lacking.txt"
	echo "$(basename "$u" .undef): $(wc -l <"$u") CUDA symbols, $(wc -l <"$WORK/lacking.txt") lacking: $(head -30 "$WORK/lacking.txt" | tr '\n' ' ')"
done
echo "(lazily bound, so harmless unless called: the cuDNN 8 functions gorgonia.org/cu/dnn wraps are expected here)"

CUDA_H="" CUDNN_H=""
if [ "$QUICK" != 1 ]; then # full run only
	step "headers"
	CUDA_H=$(find_lib cuda.h)
	for d in /usr/local/cuda/include /usr/local/cuda/targets/x86_64-linux/include; do
		[ -f "$d/cuda.h" ] && CUDA_H=$d/cuda.h && break
	done
	CUDNN_H=$(find_lib cudnn.h)
	CUDNN_VERSION_H=$(find_lib cudnn_version.h)
	echo "cuda.h: ${CUDA_H:-MISSING}   cudnn.h: ${CUDNN_H:-MISSING}"
	[ -n "$CUDA_H" ] && grep -m1 -E '^#define CUDA_VERSION' "$CUDA_H"
	[ -n "$CUDNN_VERSION_H" ] && grep -E '^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)' "$CUDNN_VERSION_H"

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
		for u in "$BIN"/*.undef; do
			[ -f "$u" ] || continue
			echo "# symbols $(basename "$u" .undef) needs that libcuda/libcublas/libcudnn do not export (lazy binding: harmless unless called):"
			sort -u "$u" | comm -23 - "$defined" | sed "s/^/symbol-missing $(basename "$u" .undef) /"
		done
	} >"$OUT/compat.txt" 2>&1
	grep -c -- '-missing' "$OUT/compat.txt" | sed 's/^/missing names in total: /'
fi

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
run 30 tar -czf "$OUT/ptx.tar.gz" -C "$PTX" .

step "run the carried test binaries"
libdirs() { # the library folders, $1 (if any) first
	local d="" lib
	for lib in "$@" "$LIBCUBLAS" "$LIBCUBLASLT" "$LIBCUDNN" "$LIBCUDA"; do
		[ -n "$lib" ] && d=$d:$(dirname "$lib")
	done
	echo "${d#:}"
}
BASE_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
export GENQ_CUDA_PTX=$PTX
echo "GENQ_CUDA_PTX=$GENQ_CUDA_PTX ($(ls "$PTX" | tr '\n' ' '))"
# runtest NAME SECONDS [FIRST_LIB [DIR [ARGS...]]]: runs NAME.test in DIR
# (default .) with ARGS (default: every test, three times) and the library
# folders on LD_LIBRARY_PATH (FIRST_LIB's folder first), and records PASS or
# FAIL.
runtest() {
	local t=$1 secs exe=$WORK/$1.test dir=${4:-.}
	secs=$(budget "$2")
	[ "$secs" -eq 0 ] && { RESULT[$t]="SKIPPED (no time left before the ${DEADLINE}s deadline)"; echo "--- $t.test: ${RESULT[$t]}"; return; }
	local args=("${@:5}")
	# by default three runs: a call made on a thread where gorgonia's
	# context is not current would fail only now and then
	[ ${#args[@]} -eq 0 ] && args=(-test.count=3)
	export LD_LIBRARY_PATH
	LD_LIBRARY_PATH=$(libdirs "${3:-}")${BASE_LD_LIBRARY_PATH:+:$BASE_LD_LIBRARY_PATH}
	echo "-- $t.test in $dir (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)"
	run 20 ldd "$exe" | grep -E 'cuda|cublas|cudnn|not found'
	(cd "$dir" && run "$secs" "$exe" -test.v -test.failfast -test.timeout=$((secs - 5))s "${args[@]}") >"$WORK/$t.out" 2>&1
	local rc=$?
	cp "$WORK/$t.out" "$OUT/$t.out"
	if [ $rc -eq 0 ] && grep -qx PASS "$WORK/$t.out"; then
		RESULT[$t]=PASS
		grep -E '^\s*--- |max \|gpu-cpu\||^(PASS|ok)' "$WORK/$t.out" | awk '!seen[$0]++' # once each; all of it in $OUT/NAME.out
	else
		RESULT[$t]="FAIL (exit code $rc)"
		grep -vE '^\s+[0-9]+\s|^\s+(memcpy|DoWork|Free|Read|Alloc|A ×|tanh|⊙)' "$WORK/$t.out" | head -150
	fi
	echo "--- $t.test: ${RESULT[$t]}"
}
for t in cucheck smoke; do
	RESULT[$t]="NOT RUN (no $BIN/$t.test.gz: build it with .ci/gpu/build.sh)"
	[ -f "$BIN/$t.test.gz" ] && gunzip -c "$BIN/$t.test.gz" >"$WORK/$t.test" && chmod +x "$WORK/$t.test" || continue
	secs=30
	[ "$t" = smoke ] && secs=45
	runtest "$t" "$secs"
	if [ "$t" = smoke ] && [ "${RESULT[smoke]}" != PASS ] && [ -n "$VENV_CUDNN_DIR" ] &&
		[ "$(dirname "$LIBCUDNN")" != "$VENV_CUDNN_DIR" ]; then
		echo "-- smoke.test failed with the system's cuDNN: again with torch's ($VENV_CUDNN_DIR)"
		runtest smoke 45 "$VENV_CUDNN_DIR/libcudnn.so.9"
		RESULT[smoke]="${RESULT[smoke]} with torch's cuDNN"
	fi
done

# genq's own tests on the GPU: the fixture tests of .ci/gpu/tests.sh, built
# with -tags cuda, with the cuDNN that smoke.test passed with.
# shellcheck source=tests.sh
. .ci/gpu/tests.sh
DNN_FIRST=""
[[ "${RESULT[smoke]}" == *"torch's cuDNN"* ]] && DNN_FIRST=$VENV_CUDNN_DIR/libcudnn.so.9
MODEL_NAMES=()
step "genq's fixture tests on the GPU"
for spec in "${GPU_TESTS[@]}"; do
	read -r t pkg pattern <<<"$spec"
	MODEL_NAMES+=("$t")
	RESULT[$t]="NOT RUN (no $BIN/$t.test.gz: build it with .ci/gpu/build.sh and cuDNN headers)"
	[ -f "$BIN/$t.test.gz" ] && gunzip -c "$BIN/$t.test.gz" >"$WORK/$t.test" && chmod +x "$WORK/$t.test" || continue
	runtest "$t" 150 "$DNN_FIRST" "$pkg" -test.count=1 -test.run "$pattern"
done

step "benchmarks P1-P3: GPU (-tags cuda) and CPU (default build), side by side"
echo "GOMAXPROCS=$(nproc) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
BENCH_NAMES=()
for spec in "${GPU_BENCHES[@]}"; do
	read -r t pkg pattern <<<"$spec"
	for side in cpu gpu; do
		name=$t-bench-$side exe=$WORK/$t.test
		[ $side = cpu ] && exe=$WORK/$t-cpu.test
		[ $side = cpu ] && [ -f "$BIN/$t-cpu.test.gz" ] && gunzip -c "$BIN/$t-cpu.test.gz" >"$exe" && chmod +x "$exe"
		BENCH_NAMES+=("$name")
		RESULT[$name]="NOT RUN (no $(basename "$exe"))"
		[ -x "$exe" ] || continue
		[ $side = gpu ] && [ "${RESULT[$t]}" != PASS ] && { RESULT[$name]="NOT RUN ($t.test did not pass on the GPU)"; continue; }
		cp "$exe" "$WORK/$name.test"
		runtest "$name" 240 "$DNN_FIRST" "$pkg" -test.run '^$' -test.bench "$pattern" -test.benchtime=1x
	done
done

if [[ "${RESULT[smoke]}" == PASS* ]]; then
	step "functions smoke.test calls -> bindings.txt"
	# The dynamic linker binds each function at its first call; this lists
	# those of libcuda, libcublas and libcudnn the test binary called.
	mkdir -p "$WORK/ld"
	LD_DEBUG=bindings LD_DEBUG_OUTPUT=$WORK/ld/ld run 30 "$WORK/smoke.test" -test.count=1 -test.run 'OnGPU' >/dev/null 2>&1
	cat "$WORK"/ld/ld.* 2>/dev/null | grep -F "binding file $WORK/smoke.test " |
		grep -E "to [^ ]*lib(cuda|cublas|cublasLt|cudnn)\.so" |
		sed -E "s/.* to ([^ ]*) \[.*symbol \`([^']*)'.*/\2 \1/" | sort -u >"$OUT/bindings.txt"
	echo "$(wc -l <"$OUT/bindings.txt") functions:"
	awk '{print $1}' "$OUT/bindings.txt" | tr '\n' ' '
	echo
	rm -rf "$WORK/ld"
fi

if [ "$QUICK" != 1 ]; then # full run only
	step "collect headers, symbols"
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
fi

step "summary ($((SECONDS - START)) s)"
for t in "${MODEL_NAMES[@]}"; do
	echo "$t.test: ${RESULT[$t]}"
	[ -f "$WORK/$t.out" ] || continue
	grep -E '^(--- (PASS|FAIL)|panic:)|_test\.go:[0-9]+: .*(outside|want|got)' "$WORK/$t.out" | sed -E 's/ \([0-9.]+s\)$//' | sed 's/^/    /'
	# the largest difference any comparison logged ("max |Δ| = X" against
	# the fixtures, "max |gpu-cpu|/max(1,|cpu|) = X" against the CPU)
	grep -oE '(max \|Δ\|=? ?=? ?|max \|gpu-cpu\|/max\(1,\|cpu\|\) = )[0-9.e+-]+' "$WORK/$t.out" | awk '{v = $NF + 0; if (v > m) m = v; n++} END {if (n) printf "    largest of %d logged differences: %g\n", n, m}'
done
for t in cucheck smoke; do
	echo "$t.test: ${RESULT[$t]}"
	[ -f "$WORK/$t.out" ] && grep -E '^(--- (PASS|FAIL)|panic:)|max \|gpu-cpu\||symbol lookup error|Error in initialization|_test\.go:[0-9]+: ' "$WORK/$t.out" |
		sed -E 's/ \([0-9.]+s\)$//' | sort | uniq -c | sed 's/^/    /'
done
echo "benchmarks (one op each after a warm-up; GPU = the cuda build, CPU = the default build):"
for name in "${BENCH_NAMES[@]}"; do
	echo "  $name: ${RESULT[$name]}"
	[ -f "$WORK/$name.out" ] && grep -E '^Benchmark' "$WORK/$name.out" | sed 's/^/      /'
done
# The matrix products must have run on cuBLAS and the elementwise ops as
# kernels, not on gorgonia's CPU fallbacks.
onGPU=yes
if [ -s "$OUT/bindings.txt" ]; then
	echo "smoke.test called $(wc -l <"$OUT/bindings.txt") CUDA/cuBLAS/cuDNN functions (bindings.txt)"
	for f in cublasSgemm_v2 cuLaunchKernel; do
		grep -q "^$f " "$OUT/bindings.txt" && echo "    $f: called" || { echo "    $f: NOT called"; onGPU=no; }
	done
fi
rm -rf "$WORK"
models=PASS
for t in "${MODEL_NAMES[@]}"; do
	[ "${RESULT[$t]}" = PASS ] || models=FAIL
done
if [ "${RESULT[cucheck]}" = PASS ] && [[ "${RESULT[smoke]}" == PASS* ]] && [ $onGPU = yes ] && [ $models = PASS ]; then
	echo "RESULT: PASS"
else
	echo "RESULT: FAIL"
fi
exit 0
