#!/usr/bin/env bash
# Runs genq's CUDA checks on a GPU machine, from the repository root, with
# the test binaries of .ci/gpu/bin (made by .ci/gpu/build.sh, here or on
# another machine: this one needs no Go toolchain). scripts/gpu-check.sh
# builds them first where Go is installed, then runs this.
#
#   OUT=/some/dir bash .ci/gpu/run.sh
#
# Steps, each under a timeout cut to what is left of GENQ_GPU_DEADLINE
# (default 450 s; a step that no longer fits is skipped and reported so):
#  1. machine, nvcc, libcuda and libcublas; the CUDA symbols each binary
#     needs that the libraries lack (lazily bound: harmless unless called)
#  2. gorgonia's kernels ("cuda modules/src/*.cu") compiled to PTX for this
#     GPU's compute capability with nvcc, what gorgonia's cmd/cudagen does
#     short of embedding them in Go source: the tests load them from
#     $GENQ_CUDA_PTX at run time
#  3. cucheck.test (driver API, cuBLAS, gorgonia's kernels, one layer at a
#     time) and smoke.test (gorgonia's CUDA machine: MatMul on cuBLAS,
#     elementwise kernels, a gradient), three runs each
#  4. genq's fixture tests with their graphs on the GPU (tests.sh: T5, the
#     bi-encoder, the GPU products), against the CPU tests' fixtures and
#     tolerances
#  5. the P1-P3 benchmarks (tests.sh), CPU build then GPU build, one timed
#     op each after a warm-up, with the GPU memory in use sampled meanwhile
#  6. PyTorch doing P1-P3 on the same GPU (torch_gpu.py: HF generate when
#     transformers is installed, a torch bi-encoder step and encode), with
#     torch's peak GPU memory
# The summary ends with "RESULT: PASS" (steps 3 and 4 passed and the products
# ran in cuBLAS) or "RESULT: FAIL".
#
# Results, written to $OUT even when steps fail:
#   gpu.log        everything printed
#   NAME.out       each test binary's full output
#   bindings.txt   the CUDA and cuBLAS functions smoke.test called (the
#                  dynamic linker's lazy bindings)
#   ptx.tar.gz     gorgonia's kernels compiled by this machine's nvcc
set -u
export LC_ALL=C # sort and comm must agree on the order of names
unset LD_BIND_NOW # the binaries rely on lazy binding
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
# shellcheck source=tests.sh
. .ci/gpu/tests.sh # GPU_TESTS, GPU_BENCHES, unpack_test
declare -A RESULT
declare -A GPUMEM
# gpumem: the GPU memory in use now, MiB; sample_gpumem FILE: every 100 ms into FILE until killed.
gpumem() { timeout 5 nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1; }
sample_gpumem() { : >"$1"; while true; do gpumem >>"$1"; sleep 0.1; done; }
DEADLINE=${GENQ_GPU_DEADLINE:-450}
START=$SECONDS
# budget SECONDS: prints SECONDS, or less when the deadline is nearer; 0 when
# fewer than 15 seconds are left.
budget() {
	local left=$((DEADLINE - (SECONDS - START) - 10))
	[ "$left" -lt 15 ] && { echo 0; return; }
	[ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}

step "machine"
run 10 nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv
NVCC=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
echo "nvcc: ${NVCC:-none}"
[ -n "$NVCC" ] && run 10 "$NVCC" --version | tail -2
echo "CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

step "libraries"
ldcache() { timeout 10 ldconfig -p | awk -v n="$1" '$1 == n {print $NF; exit}'; }
find_lib() { # first file named $1 under the usual roots and Python's nvidia packages
	local roots="/usr/local/cuda/ /usr/local/nvidia/ /usr/lib/x86_64-linux-gnu/ /usr/lib64/"
	roots="$roots $(ls -d /opt/*/.venv/lib/python3*/site-packages/nvidia /usr/local/lib/python3*/dist-packages/nvidia 2>/dev/null | tr '\n' ' ')"
	# shellcheck disable=SC2086
	timeout 30 find -L $roots -name "$1" 2>/dev/null | head -1
}
LIBCUDA=$(ldcache libcuda.so.1)
[ -n "$LIBCUDA" ] || LIBCUDA=$(find_lib 'libcuda.so.1')
LIBCUBLAS=$(ldcache libcublas.so.13)
[ -n "$LIBCUBLAS" ] || LIBCUBLAS=$(find_lib 'libcublas.so.13')
LIBCUBLASLT=$(ldcache libcublasLt.so.13)
[ -n "$LIBCUBLASLT" ] || LIBCUBLASLT=$(find_lib 'libcublasLt.so.13')
echo "libcuda.so.1:      ${LIBCUDA:-MISSING}"
echo "libcublas.so.13:   ${LIBCUBLAS:-MISSING}"
echo "libcublasLt.so.13: ${LIBCUBLASLT:-MISSING}"
defined=$WORK/defined.txt
for lib in "$LIBCUDA" "$LIBCUBLAS" "$LIBCUBLASLT"; do
	[ -n "$lib" ] && timeout 30 nm -D --defined-only "$lib" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//'
done | sort -u >"$defined"
for u in "$BIN"/*.undef; do
	[ -f "$u" ] || continue
	sort -u "$u" | comm -23 - "$defined" >"$WORK/lacking.txt"
	echo "$(basename "$u" .undef): $(wc -l <"$u") CUDA symbols, $(wc -l <"$WORK/lacking.txt") lacking (lazily bound, harmless unless called): $(head -30 "$WORK/lacking.txt" | tr '\n' ' ')"
done

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
# genq's own kernels, compiled by this machine's nvcc for this GPU: a genq.ptx
# in $GENQ_CUDA_PTX takes the place of the compute_70 PTX the build embeds
# (nvcc 11.8's, internal/cuda/kernels/gen.sh).
if [ -n "$NVCC" ]; then
	run 120 "$NVCC" -ptx -arch="compute_$CC" -O3 -o "$PTX/genq.ptx" internal/cuda/kernels/genq.cu &&
		echo "genq.ptx: $(grep -c '\.entry' "$PTX/genq.ptx") kernels (genq's own, by $("$NVCC" --version | tail -1))"
fi
run 30 tar -czf "$OUT/ptx.tar.gz" -C "$PTX" .

step "CUDA layers and gorgonia's CUDA machine"
libdirs() { # the library folders
	local d="" lib
	for lib in "$LIBCUBLAS" "$LIBCUBLASLT" "$LIBCUDA"; do
		[ -n "$lib" ] && d=$d:$(dirname "$lib")
	done
	echo "${d#:}"
}
export LD_LIBRARY_PATH
LD_LIBRARY_PATH=$(libdirs)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
export GENQ_CUDA_PTX=$PTX
echo "GENQ_CUDA_PTX=$GENQ_CUDA_PTX ($(ls "$PTX" | tr '\n' ' '))"
# unpack NAME: unpacks $BIN/NAME.test.xz (or .gz) into $WORK; false when it is missing.
unpack() {
	unpack_test "$BIN/$1.test" "$WORK/$1.test"
}
# runtest NAME EXE SECONDS DIR ARGS...: runs EXE in DIR with ARGS and
# records PASS or FAIL under NAME; its output goes to $OUT/NAME.out.
runtest() {
	local t=$1 exe=$2 secs dir=$4
	secs=$(budget "$3")
	shift 4
	if [ "$secs" -eq 0 ]; then
		RESULT[$t]="SKIPPED (no time left before the ${DEADLINE}s deadline)"
		echo "--- $t: ${RESULT[$t]}"
		return
	fi
	echo "-- $t: $(basename "$exe") in $dir, at most $secs s"
	(cd "$dir" && run "$secs" "$exe" -test.v -test.failfast -test.timeout=$((secs - 5))s "$@") >"$WORK/$t.out" 2>&1
	local rc=$?
	cp "$WORK/$t.out" "$OUT/$t.out"
	if [ $rc -eq 0 ] && grep -qx PASS "$WORK/$t.out"; then
		RESULT[$t]=PASS
		grep -E '^\s*--- |^Benchmark.*/op|^(PASS|ok)' "$WORK/$t.out" | awk '!seen[$0]++'
	else
		RESULT[$t]="FAIL (exit code $rc)"
		grep -vE '^\s+[0-9]+\s|^\s+(memcpy|DoWork|Free|Read|Alloc|A ×|tanh|⊙)' "$WORK/$t.out" | tail -80
	fi
	echo "--- $t: ${RESULT[$t]}"
}
for t in cucheck smoke; do
	RESULT[$t]="NOT RUN (no $BIN/$t.test.xz or .gz: build it with .ci/gpu/build.sh)"
	# three runs: a call made on a thread where gorgonia's context is not
	# current would fail only now and then
	unpack "$t" && runtest "$t" "$WORK/$t.test" 45 . -test.count=3
done

# genq's own tests on the GPU: the fixture tests of .ci/gpu/tests.sh, built
# with -tags cuda.
MODEL_NAMES=()
step "genq's fixture tests on the GPU"
for spec in "${GPU_TESTS[@]}"; do
	read -r t pkg pattern <<<"$spec"
	MODEL_NAMES+=("$t")
	RESULT[$t]="NOT RUN (no $BIN/$t.test.xz or .gz: build it with .ci/gpu/build.sh)"
	unpack "$t" && runtest "$t" "$WORK/$t.test" 150 "$pkg" -test.count=1 -test.run "$pattern"
done

step "benchmarks P1-P3: CPU (default build) and GPU (-tags cuda), side by side"
BENCH_NAMES=()
for spec in "${GPU_BENCHES[@]}"; do
	read -r t pkg pattern <<<"$spec"
	for side in cpu gpu; do
		name=$t-bench-$side exe=$WORK/$t.test
		[ $side = cpu ] && exe=$WORK/$t-cpu.test && unpack "$t-cpu"
		BENCH_NAMES+=("$name")
		RESULT[$name]="NOT RUN (no $(basename "$exe"))"
		[ -x "$exe" ] || continue
		if [ $side = gpu ] && [ "${RESULT[$t]}" != PASS ]; then
			RESULT[$name]="NOT RUN ($t.test did not pass on the GPU)"
			continue
		fi
		# peak GPU memory in use while it runs (nvidia-smi every 100 ms, less the idle level)
		[ $side = gpu ] && { idle=$(gpumem | sort -n | tail -1); sample_gpumem "$WORK/mem.txt" & sampler=$!; }
		runtest "$name" "$exe" 150 "$pkg" -test.run '^$' -test.bench "$pattern" -test.benchtime=1x
		if [ $side = gpu ]; then
			kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
			GPUMEM[$name]=$(( $(sort -n "$WORK/mem.txt" | tail -1) - ${idle:-0} ))
			echo "$name: peak GPU memory in use $((GPUMEM[$name])) MiB above idle"
		fi
	done
done

# PyTorch doing the same work on the same GPU, in the same run (torch_gpu.py:
# HF generate for P1 when transformers is installed, a torch bi-encoder MNRL
# step and encode for P2/P3).
step "PyTorch on the same GPU: P2, P3, P1"
PY=$(command -v python3 || true)
TORCH="NOT RUN (no python3 with torch and CUDA)"
if [ -n "$PY" ] && "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
	secs=$(budget 200)
	if [ "$secs" -gt 0 ]; then
		run "$secs" "$PY" .ci/gpu/torch_gpu.py p2 p3 p1 >"$OUT/torch.out" 2>&1 && TORCH=PASS || TORCH="FAIL (see torch.out)"
		cat "$OUT/torch.out"
	else
		TORCH="SKIPPED (no time left)"
	fi
fi

if [ "${RESULT[smoke]}" = PASS ] && [ "$(budget 30)" -gt 0 ]; then
	step "functions smoke.test calls -> bindings.txt"
	# The dynamic linker binds each function at its first call; this lists
	# those of libcuda and libcublas the test binary called.
	mkdir -p "$WORK/ld"
	LD_DEBUG=bindings LD_DEBUG_OUTPUT=$WORK/ld/ld run 30 "$WORK/smoke.test" -test.count=1 -test.run 'OnGPU' >/dev/null 2>&1
	cat "$WORK"/ld/ld.* 2>/dev/null | grep -F "binding file $WORK/smoke.test " |
		grep -E "to [^ ]*lib(cuda|cublas|cublasLt)\.so" |
		sed -E "s/.* to ([^ ]*) \[.*symbol \`([^']*)'.*/\2 \1/" | sort -u >"$OUT/bindings.txt"
	echo "$(wc -l <"$OUT/bindings.txt") functions:"
	awk '{print $1}' "$OUT/bindings.txt" | tr '\n' ' '
	echo
	rm -rf "$WORK/ld"
fi

step "summary ($((SECONDS - START)) s)"
for t in "${MODEL_NAMES[@]}"; do
	echo "$t.test: ${RESULT[$t]}"
	[ -f "$WORK/$t.out" ] || continue
	grep -E '^(--- (PASS|FAIL)|panic:)|_test\.go:[0-9]+: .*(outside|want|got)' "$WORK/$t.out" | sed -E 's/ \([0-9.]+s\)$//' | sed 's/^/    /'
	# the largest difference any comparison logged ("max |Δ| = X" against
	# the fixtures, "max |gpu-cpu|/max(1,|cpu|) = X" against the CPU)
	grep -oE '(max \|Δ\|=? ?=? ?|max \|gpu-cpu\|/max\(1,\|cpu\|\) = )[0-9.e+-]+' "$WORK/$t.out" |
		awk '{v = $NF + 0; if (v > m) m = v; n++} END {if (n) printf "    largest of %d logged differences: %g\n", n, m}'
done
for t in cucheck smoke; do
	echo "$t.test: ${RESULT[$t]}"
	[ -f "$WORK/$t.out" ] && grep -E '^(--- (PASS|FAIL)|panic:)|max \|gpu-cpu\||symbol lookup error|Error in initialization|_test\.go:[0-9]+: ' "$WORK/$t.out" |
		sed -E 's/ \([0-9.]+s\)$//' | sort | uniq -c | sed 's/^/    /'
done
echo "benchmarks (one op each after a warm-up; CPU = the default build, GPU = the cuda build):"
for name in "${BENCH_NAMES[@]}"; do
	echo "  $name: ${RESULT[$name]}"
	[ -f "$WORK/$name.out" ] && grep -E '^Benchmark.*/op' "$WORK/$name.out" | sed 's/^/      /'
	[ -n "${GPUMEM[$name]:-}" ] && echo "      peak GPU memory in use: ${GPUMEM[$name]} MiB above idle"
done
echo "PyTorch on the same GPU: $TORCH"
[ -f "$OUT/torch.out" ] && grep -E 'queries/s|pairs/s|passages/s|peak GPU' "$OUT/torch.out" | sed 's/^/      /'
# The matrix products must have run on cuBLAS and the elementwise ops as
# kernels, not on gorgonia's CPU fallbacks.
onGPU=yes
if [ -s "$OUT/bindings.txt" ]; then
	echo "smoke.test called $(wc -l <"$OUT/bindings.txt") CUDA/cuBLAS functions (bindings.txt)"
	for f in cublasSgemm_v2 cuLaunchKernel; do
		grep -q "^$f " "$OUT/bindings.txt" && echo "    $f: called" || { echo "    $f: NOT called"; onGPU=no; }
	done
fi
rm -rf "$WORK"
pass=yes
for t in cucheck smoke "${MODEL_NAMES[@]}"; do
	[ "${RESULT[$t]}" = PASS ] || pass=no
done
if [ $pass = yes ] && [ $onGPU = yes ]; then
	echo "RESULT: PASS"
else
	echo "RESULT: FAIL"
fi
exit 0
