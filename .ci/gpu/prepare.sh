# shellcheck shell=bash
# Sourced by .ci/gpu/build.sh and .ci/cuda-vet.sh, from the repository root,
# with GPU (.ci/gpu) and CACHE (.ci/gpu/.cache) set. prepare_cuda readies
# what cgo needs to compile genq's `cuda` and `cucheck` builds on a machine
# with neither a GPU nor cuDNN, and sets:
#   CUDA_INC  an absolute folder holding cuda.h and cublas_v2.h
#   MODFLAG   the -modfile flag of a build-only go.mod that swaps in
#             gorgonia.org/cu without cu/dnn (.ci/gpu/nocudnn)
# It returns non-zero, saying why, when the CUDA headers cannot be had.

prepare_cuda() {
	# 1. CUDA headers: $CUDA_INC when it names a folder with the cuda.h of
	#    CUDA 12 or older (gorgonia.org/cu does not compile against CUDA
	#    13's), else CUDA 11.8's, from Debian's nvidia-cuda-dev package
	#    (a 774 MB download, once; only usr/include is kept). A private
	#    sources list keeps the system's apt configuration untouched.
	if [ -n "${CUDA_INC:-}" ]; then
		local v
		v=$(grep -m1 -E '^#define CUDA_VERSION ' "$CUDA_INC/cuda.h" 2>/dev/null | awk '{print $3}')
		if [ -z "$v" ] || [ "$v" -ge 13000 ]; then
			echo "prepare.sh: $CUDA_INC/cuda.h is ${v:+CUDA_VERSION $v, }not CUDA 12 or older: using CUDA 11.8's headers instead" >&2
			CUDA_INC=""
		fi
	fi
	CUDA_INC=${CUDA_INC:-$CACHE/cuda-11.8/usr/include}
	if [ ! -f "$CUDA_INC/cuda.h" ]; then
		local apt_dir deb
		apt_dir=$(mktemp -d)
		mkdir -p "$apt_dir/lists/partial"
		echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm non-free' >"$apt_dir/sources.list"
		local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt_dir/lists")
		deb=$(ls "${GENQ_CUDA_DEB_DIR:-/tmp/cudadeb}"/nvidia-cuda-dev_11.8*.deb 2>/dev/null | head -1 || true)
		if [ -z "$deb" ]; then
			echo "prepare.sh: fetching CUDA 11.8's headers (Debian bookworm non-free, nvidia-cuda-dev, 774 MB)" >&2
			if ! apt-get "${apt_opts[@]}" update -q >&2 || ! (cd "$apt_dir" && apt-get "${apt_opts[@]}" download nvidia-cuda-dev >&2); then
				rm -rf "$apt_dir"
				echo "prepare.sh: could not download nvidia-cuda-dev from deb.debian.org" >&2
				return 1
			fi
			deb=$(ls "$apt_dir"/nvidia-cuda-dev_*.deb)
		fi
		mkdir -p "$CACHE/cuda-11.8"
		if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$CACHE/cuda-11.8" --wildcards './usr/include/*'; then
			rm -rf "$apt_dir" "$CACHE/cuda-11.8"
			echo "prepare.sh: could not unpack the headers of $deb" >&2
			return 1
		fi
		rm -rf "$apt_dir"
	fi
	CUDA_INC=$(cd "$CUDA_INC" && pwd)

	# 2. gorgonia.org/cu without cuDNN, and a go.mod that points at it (the
	#    repository's go.mod is not touched).
	local src cu
	src=$(go list -m -f '{{.Dir}}' gorgonia.org/cu) || return 1
	cu=$(pwd)/$CACHE/cu-nocudnn
	rm -rf "$cu" && cp -r "$src" "$cu" && chmod -R u+w "$cu"
	rm -rf "$cu/dnn" && mkdir -p "$cu/dnn" && cp "$GPU/nocudnn/dnn.go" "$cu/dnn/"
	# BatchedContext.DoWork runs the batched calls with no lock, and
	# gorgonia's CUDA machine runs it from two goroutines at once (the
	# engine's worker when the batch fills up, the machine's program at a
	# flush), which corrupts the batch once more than 63 calls wait (a graph
	# whose ops all run on the device): serialize it.
	grep -q '^func (ctx \*BatchedContext) DoWork() {$' "$cu/batch.go" || { echo "prepare.sh: gorgonia.org/cu's BatchedContext.DoWork changed; update the lock patch" >&2; return 1; }
	sed -i 's/^func (ctx \*BatchedContext) DoWork() {$/&\n\tdoWorkMu.Lock()\n\tdefer doWorkMu.Unlock()/' "$cu/batch.go"
	printf 'package cu\n\nimport "sync"\n\n// doWorkMu serializes BatchedContext.DoWork (patched in by genq'"'"'s .ci/gpu/prepare.sh).\nvar doWorkMu sync.Mutex\n' >"$cu/genq_dowork_lock.go"
	cp go.mod "$CACHE/go.cuda.mod" && cp go.sum "$CACHE/go.cuda.sum"
	echo "replace gorgonia.org/cu => $cu" >>"$CACHE/go.cuda.mod"
	MODFLAG=-modfile=$(pwd)/$CACHE/go.cuda.mod
}
