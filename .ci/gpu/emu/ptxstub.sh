#!/usr/bin/env bash
# Writes, for each of gorgonia's kernel sources ("cuda modules/src/NAME.cu"),
# NAME.ptx holding only what the emulator reads from nvcc's PTX: each
# extern "C" kernel as an .entry with the sizes of its parameters (pointers
# .u64, int .u32, float .f32, double .f64). With it, dryrun.sh needs no
# GPU machine's nvcc output.
#
#   bash .ci/gpu/emu/ptxstub.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=$1
mkdir -p "$out"
src="$(go list -f '{{.Dir}}' gorgonia.org/gorgonia)/cuda modules/src"
for cu in "$src"/*.cu; do
	name=$(basename "$cu" .cu)
	g++ -E -P -w -include .ci/gpu/emu/kernels.h -x c++ "$cu" | tr '\n' ' ' |
		grep -oE 'extern "C" *\{ *void +[A-Za-z0-9_]+ *\([^)]*\)' |
		sed -E 's/^extern "C" *\{ *void +//' |
		awk -F'(' '{
			kernel = $1; gsub(/ /, "", kernel)
			args = $2; n = split(args, a, ",")
			printf ".visible .entry %s(\n", kernel
			for (i = 1; i <= n; i++) {
				t = a[i]
				if (t ~ /\*/) ty = ".u64"
				else if (t ~ /double/) ty = ".f64"
				else if (t ~ /float/) ty = ".f32"
				else if (t ~ /long|size_t/) ty = ".u64"
				else ty = ".u32"
				printf "\t.param %s %s_param_%d%s\n", ty, kernel, i - 1, (i < n ? "," : "")
			}
			print ")"
		}' >"$out/$name.ptx"
done
