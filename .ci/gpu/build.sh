#!/usr/bin/env bash
# Builds the CUDA test binaries that .ci/gpu/run.sh runs on a GPU machine
# (which may have no Go toolchain), here or on any Linux machine with Go and
# gcc, GPU or not. Output: .ci/gpu/bin/ (gitignored; name it in the device
# tool's `carry`):
#   cucheck.test.xz   driver API, cuBLAS and gorgonia's kernels (tag cucheck)
#   smoke.test.xz     gorgonia's CUDA machine (internal/cuda, tag cuda)
#   t5.test.xz, encoder.test.xz, nn.test.xz, kernels.test.xz, devopt.test.xz
#                     genq's own tests with -tags cuda (see tests.sh)
#   t5-cpu.test.xz, encoder-cpu.test.xz
#                     the same tests in the default build, for the CPU side
#                     of the benchmarks
#   NAME.test.undef   the CUDA and cuBLAS symbols each binary needs
#   cuda_names.txt    the C names gorgonia.org/cu uses
#   kernels/          gorgonia's kernel sources, for nvcc on the GPU machine
#
#   bash .ci/gpu/build.sh
#
# Then .ci/gpu/emu/dryrun.sh can dry-run them here against a CPU emulator of
# the CUDA libraries, and .ci/gpu/run.sh (or scripts/gpu-check.sh) runs them
# on a GPU.
#
# How:
#  - cgo compiles gorgonia.org/cu against the cuda.h of $CUDA_INC when that is
#    CUDA 12 or older, else against CUDA 11.8's (Debian bookworm non-free,
#    nvidia-cuda-dev, fetched once): gorgonia.org/cu v0.9.6 does not compile
#    against CUDA 13's cuda.h (cuCtxCreate, cuMemAdvise, cuMemPrefetchAsync,
#    cuGraphAddDependencies and cuGraphGetEdges changed signatures), and the
#    older headers make it call the versioned driver entry points
#    (cuCtxCreate_v2, ...) that current drivers still export.
#  - gorgonia.org/cu/dnn is replaced by .ci/gpu/nocudnn, through a copy of
#    gorgonia.org/cu named by a replace directive in a build-only go.mod
#    (-modfile): gorgonia's CUDA engine only creates a cuDNN handle, genq's
#    graphs use no cuDNN op, and cu/dnn wraps the cuDNN 8 API, part of which
#    cuDNN 9 removed. So neither cudnn.h nor libcudnn is needed. The
#    repository's own go.mod is not touched.
#  - The binaries link against stub libraries with the GPU machine's sonames
#    (libcuda.so.1, libcublas.so.$CUBLAS_MAJOR), so that there the dynamic
#    loader binds them to the real libraries.
set -euo pipefail
export LC_ALL=C # name lists sorted here are compared with comm in run.sh
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

GPU=.ci/gpu
BIN=$GPU/bin
# shellcheck source=tests.sh
. "$GPU/tests.sh" # pack_test
CACHE=$GPU/.cache
CUBLAS_MAJOR=${CUBLAS_MAJOR:-13}
mkdir -p "$BIN" "$CACHE"
[ $# -eq 0 ] || echo "build.sh: arguments are ignored (cuDNN headers are no longer needed)" >&2

# 1.-2. CUDA headers and gorgonia.org/cu without cuDNN (sets CUDA_INC, MODFLAG).
# shellcheck source=prepare.sh
. "$GPU/prepare.sh"
prepare_cuda
grep -ohE '\bC\.cu[A-Z][A-Za-z0-9_]*' "$(go list -m -f '{{.Dir}}' gorgonia.org/cu)"/*.go | sed 's/^C\.//' | sort -u >"$BIN/cuda_names.txt"

# 3. Stub libraries with the GPU machine's sonames, defining exactly the
#    symbols the binaries need: link against stubs, collect the linker's
#    "undefined reference" names, add them to the stubs, link again.
STUBS=$CACHE/stubs
NEEDED=$CACHE/needed.txt
make_stubs() {
	rm -rf "$STUBS" && mkdir -p "$STUBS"
	local lib soname prefix
	for spec in "cuda libcuda.so.1 ^cu[A-Z]" "cublas libcublas.so.$CUBLAS_MAJOR ^cublas"; do
		read -r lib soname prefix <<<"$spec"
		{
			echo "/* stub of $soname for linking only; the GPU machine loads the real library */"
			grep -E "$prefix" "$NEEDED" | sed 's/.*/void &(void) {}/' || true
		} >"$STUBS/$lib.c"
		gcc -shared -fPIC -Wl,-soname,"$soname" -o "$STUBS/lib$lib.so" "$STUBS/$lib.c"
	done
}
: >"$NEEDED"

build() { # $1: output name, $2: build tag, $3: package
	local out=$BIN/$1 tag=$2 pkg=$3 try log=$CACHE/$1.log
	export CGO_CFLAGS="-I$CUDA_INC -Wno-deprecated-declarations -O2"
	export CGO_LDFLAGS="-L$(pwd)/$STUBS"
	local ok=""
	for try in 1 2 3 4 5 6 7 8; do
		make_stubs
		if go test -c "$MODFLAG" -tags "$tag" -ldflags='-s -w' -o "$out" "$pkg" >"$log" 2>&1; then
			ok=1
			break
		fi
		local before
		before=$(wc -l <"$NEEDED")
		grep -oE "undefined reference to \`(cu[A-Z]|cublas)[A-Za-z0-9_]*'" "$log" | sed -E "s/.*\`(.*)'/\1/" | cat - "$NEEDED" | sort -u >"$NEEDED.new" || true
		mv "$NEEDED.new" "$NEEDED"
		if [ "$(wc -l <"$NEEDED")" -eq "$before" ]; then
			grep -vE 'warning:|note:|^ +[0-9]* \||^ +\||~~~|\^|In function|In file included' "$log" | tail -40 >&2
			echo "build.sh: building $pkg with -tags $tag failed (full log: $log)" >&2
			return 1
		fi
	done
	[ -n "$ok" ] || { echo "build.sh: $pkg still fails to link after $try tries (log: $log)" >&2; return 1; }
	nm -D --undefined-only "$out" | awk '{print $NF}' | sed 's/@.*//' | grep -E '^(cu[A-Z]|cublas)' | sort -u >"$out.undef" || true
	echo "build.sh: $out ($(du -h "$out" | cut -f1)), $(wc -l <"$out.undef") CUDA symbols, needs $(readelf -d "$out" | grep -o 'Shared library: \[[^]]*\]' | tr '\n' ' ')"
	pack_test "$out" # .xz (or .gz without xz): the carried tree is limited to 64 MiB in all
}

build cucheck.test cucheck ./internal/cuda/cucheck
build smoke.test cuda ./internal/cuda
# genq's own tests, built with the tag: their graphs run on the GPU against
# the same fixtures as on the CPU (see tests.sh).
build t5.test cuda ./t5
build encoder.test cuda ./encoder
build nn.test cuda ./internal/nn
# genq's own CUDA kernels against internal/kernel
build kernels.test cuda ./internal/cuda/kernels
# clipping and AdamW on the device, fed by a graph, against encoder/optim
build devopt.test cuda ./internal/devopt

# 4. The same packages' tests in the default build (pure Go, no tag), for
#    the CPU side of the benchmarks that run.sh runs on both.
#    GENQ_GPU_CPU_BENCH=0 skips them (CI's dry run needs none).
if [ "${GENQ_GPU_CPU_BENCH:-1}" != 0 ]; then
	for t in t5 encoder; do
		CGO_ENABLED=0 go test -c -ldflags='-s -w' -o "$BIN/$t-cpu.test" "./$t"
		pack_test "$BIN/$t-cpu.test"
	done
fi

# 5. gorgonia's kernel sources, for nvcc on the GPU machine.
rm -rf "$BIN/kernels" && mkdir -p "$BIN/kernels"
cp "$(go list -f '{{.Dir}}' gorgonia.org/gorgonia)/cuda modules/src/"*.cu "$BIN/kernels/"
chmod -R u+w "$BIN/kernels"
rm -f "$BIN/cudnn_names.txt"
du -sh "$BIN"
