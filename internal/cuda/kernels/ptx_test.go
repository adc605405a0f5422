package kernels

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sourcesHash is gen.sh's hash of the kernel sources: the sha256 of every
// *.cu and *.h file of the folder, in name order, concatenated.
func sourcesHash(t *testing.T) string {
	t.Helper()
	var names []string
	for _, pat := range []string{"*.cu", "*.h"} {
		m, err := filepath.Glob(pat)
		require.NoError(t, err)
		names = append(names, m...)
	}
	require.NotEmpty(t, names, "no kernel sources next to the test")
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(t, err)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestPTXIsCurrent fails when genq.ptx was not regenerated after a change to
// the kernel sources, or declares other kernels than the launcher knows.
func TestPTXIsCurrent(t *testing.T) {
	b, err := os.ReadFile("genq.ptx")
	require.NoError(t, err, "genq.ptx is missing: run `bash internal/cuda/kernels/gen.sh`")
	ptx := string(b)
	first, _, _ := strings.Cut(ptx, "\n")
	fields := strings.Fields(first)
	require.GreaterOrEqual(t, len(fields), 3, "first line of genq.ptx %q is not gen.sh's", first)
	assert.Equal(t, "genq-sources-sha256", fields[1])
	assert.Equal(t, sourcesHash(t), fields[2],
		"genq.ptx is stale: the kernel sources changed since gen.sh wrote it; run `bash internal/cuda/kernels/gen.sh` (needs nvcc)")

	var entries []string
	for _, m := range regexp.MustCompile(`\.entry\s+([A-Za-z0-9_]+)\s*\(`).FindAllStringSubmatch(ptx, -1) {
		entries = append(entries, m[1])
	}
	want := append([]string(nil), kernelNames[:]...)
	sort.Strings(entries)
	sort.Strings(want)
	assert.Equal(t, want, entries, "the kernels of genq.ptx and kernelNames (names.go) differ")
}
