#!/usr/bin/env bash
# Dry-runs the test binaries build.sh made (.ci/gpu/bin/*.test.xz or .gz) on this
# GPU-less machine, against a CPU emulator of the CUDA driver API and cuBLAS
# (emu.cc) instead of the real libraries: it checks gorgonia's CUDA
# TapeMachine logic, genq's GPU code paths against the fixtures (the tests of
# tests.sh, with GENQ_CUDA_PTX set) and the binaries' dynamic linking before
# GPU time is spent, and lists the CUDA functions the tests call ("EMU call").
# It cannot check the real libraries' numerics or ABI; run.sh on the GPU does.
# genq's own kernels (internal/cuda/kernels) need no PTX argument: the test
# binaries embed genq.ptx, and the emulator runs genq.cu, the source gen.sh
# compiled it from, compiled here for the CPU.
#
#   bash .ci/gpu/emu/dryrun.sh PTX [TEST...]
#
# PTX: a folder of gorgonia's kernels compiled by nvcc -ptx, the ptx.tar.gz
# that run.sh wrote to $OUT, or "stub" for the kernels' interfaces made from
# their sources by ptxstub.sh (the emulator reads only the kernels' names and
# parameter lists from the PTX; it runs the sources compiled for the CPU). TEST: binaries to run (smoke, t5, encoder, nn, kernels),
# default smoke.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export PATH="$PATH:/usr/local/go/bin"
[ $# -ge 1 ] || { echo "usage: $0 PTX_DIR_OR_TAR [TEST...]" >&2; exit 2; }
EMU=.ci/gpu/emu
BIN=.ci/gpu/bin
OUT=.ci/gpu/.cache/emu
rm -rf "$OUT" && mkdir -p "$OUT/ptx"
if [ "$1" = stub ]; then
	bash "$EMU/ptxstub.sh" "$OUT/ptx"
elif [ -f "$1" ]; then
	tar -xzf "$1" -C "$OUT/ptx"
else
	cp "$1"/*.ptx "$OUT/ptx/"
fi
shift
tests=("${@:-smoke}")

# The emulator, with gorgonia's kernels compiled for the CPU, as libcuda.so.1;
# libcublas is an empty library with the sonames the binaries
# need (the dynamic linker finds every symbol in libcuda.so.1).
src="$(go list -f '{{.Dir}}' gorgonia.org/gorgonia)/cuda modules/src"
objs=()
for cu in "$src"/*.cu; do
	o=$OUT/$(basename "$cu" .cu).o
	g++ -O1 -fPIC -w -include "$EMU/kernels.h" -x c++ -c "$cu" -o "$o"
	objs+=("$o")
done
# genq's own kernels, the very source gen.sh compiles to genq.ptx, with
# the host's IEEE float operations (no FMA contraction, as the kernels ask
# with their __f*_rn intrinsics).
g++ -O1 -fPIC -w -ffp-contract=off -include "$EMU/kernels.h" -x c++ -c internal/cuda/kernels/genq.cu -o "$OUT/genq.o"
objs+=("$OUT/genq.o")
g++ -O1 -fPIC -Wall -c "$EMU/emu.cc" -o "$OUT/emu.o"
nm -g --defined-only "$OUT/emu.o" | awk '{print $NF}' | LC_ALL=C sort -u >"$OUT/implemented.txt"
{
	echo '#include <stdio.h>'
	echo '#include <stdlib.h>'
	echo 'static void unimplemented(const char *name) { fprintf(stderr, "EMU: unimplemented %s called\n", name); abort(); }'
	cat "$BIN"/*.test.undef | LC_ALL=C sort -u | LC_ALL=C comm -23 - "$OUT/implemented.txt" |
		awk '{printf "void %s(void) { unimplemented(\"%s\"); }\n", $1, $1}'
} >"$OUT/unimplemented.c"
gcc -O1 -fPIC -c "$OUT/unimplemented.c" -o "$OUT/unimplemented.o"
g++ -shared -Wl,-soname,libcuda.so.1 -o "$OUT/libcuda.so.1" "$OUT/emu.o" "$OUT/unimplemented.o" "${objs[@]}" -ldl
echo 'void genq_emu_empty(void) {}' >"$OUT/empty.c"
for so in "libcublas.so.${CUBLAS_MAJOR:-13}"; do
	gcc -shared -fPIC -Wl,-soname,"$so" -o "$OUT/$so" "$OUT/empty.c"
done

# shellcheck source=../tests.sh
. .ci/gpu/tests.sh
ROOT=$(pwd)
rc=0
for t in "${tests[@]}"; do
	exe=$ROOT/$OUT/$t.test
	unpack_test "$BIN/$t.test" "$exe"
	echo "=== $t.test against the CPU emulator"
	dir=. args=(-test.v -test.count=5)
	for spec in "${GPU_TESTS[@]}"; do
		read -r name pkg pattern <<<"$spec"
		# genq's own tests, once, on the emulated GPU
		[ "$name" = "$t" ] && dir=$pkg args=(-test.v -test.count=1 -test.run "$pattern")
	done
	# Five runs of the smoke test on 16 threads: a driver call made on a
	# thread where the context is not current shows up within a few runs.
	(cd "$dir" && GOMAXPROCS=16 LD_LIBRARY_PATH=$ROOT/$OUT GENQ_CUDA_PTX=$ROOT/$OUT/ptx timeout 900 "$exe" "${args[@]}" 2>&1) |
		grep -vE '^\s+(Instructions|[0-9]+\s)' | tee "$OUT/$t.log" | grep -E '^EMU:|^(--- |PASS|FAIL|ok|panic)|_test\.go' || true
	grep -qx PASS "$OUT/$t.log" && ! grep -q '^EMU:' "$OUT/$t.log" || rc=1
done
echo "dryrun.sh: functions called: $(grep -h '^EMU call' "$OUT"/*.log | awk '{print $3}' | LC_ALL=C sort -u | tr '\n' ' ')"
[ $rc -eq 0 ] && echo "dryrun.sh: PASS" || echo "dryrun.sh: FAIL (logs in $OUT)"
exit $rc
