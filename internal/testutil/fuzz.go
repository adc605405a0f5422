package testutil

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/tokenutil"
)

// MaxFuzzText caps the texts the tokenizer fuzz targets tokenize: longer
// ones reach no new code and only slow each run (and the minimization of
// what it finds).
const MaxFuzzText = 512

// MaxFuzzFile caps the files the parser fuzz targets read: bigger ones reach
// no new code, and the peak memory of a run stays a few times this.
const MaxFuzzFile = 64 << 10

// FuzzText is a tokenizer's text fuzz target: f is seeded with each of seeds
// and a maxLen of 8, and check runs on every (text, maxLen) the fuzzer makes
// whose text is at most MaxFuzzText bytes.
func FuzzText(f *testing.F, seeds []string, check func(t *testing.T, text string, maxLen int)) {
	for _, s := range seeds {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		if len(text) > MaxFuzzText {
			return
		}
		check(t, text, maxLen)
	})
}

// ReadFixture returns the content of the fixture file Fixture(parts...); a
// missing file fails the test.
func ReadFixture(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Fixture(parts...))
	require.NoError(tb, err)
	return b
}

// FuzzConfigFiles is a fuzz target over the three settings files of a
// tokenizer folder (tokenutil.ConfigNames): check runs on every triple of
// contents the fuzzer makes, at most MaxFuzzFile bytes together, an empty
// content standing for an absent file. Seed f with triples before.
func FuzzConfigFiles(f *testing.F, check func(t *testing.T, files [3]tokenutil.ConfigFile)) {
	f.Fuzz(func(t *testing.T, tc, sm, at []byte) {
		if len(tc)+len(sm)+len(at) > MaxFuzzFile {
			return
		}
		var files [3]tokenutil.ConfigFile
		for i, b := range [][]byte{tc, sm, at} {
			files[i].Path = tokenutil.ConfigNames[i]
			if len(b) > 0 {
				files[i].Data = b
			}
		}
		check(t, files)
	})
}
