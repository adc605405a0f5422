#!/usr/bin/env bash
# Runs every fuzz target of the repository for a short while (FUZZTIME, 5s by
# default), one target per `go test -fuzz` invocation, as Go requires. The
# seed corpus (the f.Add calls plus testdata/fuzz/<Target>/ of the package) is
# always run first; a crash fails the script, and Go writes the failing input
# to testdata/fuzz/<Target>/ so that it becomes a regression test of
# `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
# Go minimizes every new interesting input before fuzzing on, by default for
# up to a minute each, and counts none of those runs until it is done: on
# inputs of a few kB that stalls a short run for seconds. A cap of 1000 calls
# per minimization keeps the runs fuzzing (failing inputs are still minimized).
minimize="${FUZZMINIMIZETIME:-1000x}"

# "./t5/sentencepiece/fuzz_test.go:12:func FuzzEncodeDecode(" -> "./t5/sentencepiece FuzzEncodeDecode"
targets=$(grep -rn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . |
	sed -E 's|^(.*)/[^/]*_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' | sort)
if [[ -z "$targets" ]]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

start=$SECONDS
failed=()
while read -r pkg name; do
	echo "=== fuzz $pkg $name ($fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg"; then
		failed+=("$pkg $name")
	fi
done <<<"$targets"

echo "fuzz.sh: $(wc -l <<<"$targets") targets in $((SECONDS - start))s"
if ((${#failed[@]})); then
	printf 'fuzz.sh: FAILED %s\n' "${failed[@]}" >&2
	exit 1
fi
