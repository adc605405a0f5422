package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/stretchr/testify/require"
)

// The fuzz targets of the example's readers (issue 12, deliverable 3):
// generated_queries.tsv as train reads it (parsePairs) and as generate
// resumes it (resumeTSV) and the labelled queries (parseEval); the corpus
// reader's target is in examples/internal/corpus. Inputs are capped at
// fuzzMax bytes, so that each run is cheap and its memory bounded.
const fuzzMax = 16 << 10

// fuzzPassages are the corpus resumeTSV checks the fuzzed files against.
var fuzzPassages = []corpus.Passage{{Text: "alpha\tone"}, {Text: "beta"}, {Text: "gamma"}}

func tsvSeeds() [][]byte {
	var whole strings.Builder
	for _, p := range fuzzPassages {
		for _, q := range []string{"q1", "q2"} {
			whole.WriteString(q + " " + clean(p.Text) + "\t" + clean(p.Text) + "\n")
		}
	}
	w := whole.String()
	return [][]byte{nil, []byte(w), []byte(w[:len(w)-7]), []byte(w + "\n\n"), []byte("q\tsomething else\n"), []byte("\n" + w)}
}

func FuzzParsePairs(f *testing.F) {
	for _, s := range tsvSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMax {
			return
		}
		pairs, err := parsePairs(data, "f.tsv")
		if err != nil {
			return
		}
		// Only complete lines are read, each one pair.
		require.True(t, len(data) == 0 || data[len(data)-1] == '\n', "accepted a last line without its newline")
		require.Len(t, pairs, bytes.Count(data, []byte("\n")))
		for _, p := range pairs {
			require.NotContains(t, p.Query, "\t")
			require.NotContains(t, p.Passage, "\n")
		}
	})
}

func FuzzResumeTSV(f *testing.F) {
	for _, s := range tsvSeeds() {
		f.Add(s, uint8(2))
	}
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte, per uint8) {
		if len(data) > fuzzMax || per == 0 || per > 8 {
			return
		}
		// A new file each time: ext4 flushes a file rewritten in place
		// (truncated to 0) when it is closed, which costs a disk write.
		n++
		path := filepath.Join(dir, strconv.Itoa(n)+".tsv")
		defer os.Remove(path)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		done, file, err := resumeTSV(path, fuzzPassages, int(per))
		if err != nil {
			return
		}
		require.NoError(t, file.Close())
		kept, err := os.ReadFile(path)
		require.NoError(t, err)
		// What is kept is a prefix of the file: whole blocks of whole lines.
		require.True(t, bytes.HasPrefix(data, kept), "kept bytes are not a prefix of the file")
		require.Equal(t, done*int(per), bytes.Count(kept, []byte("\n")))
		require.True(t, len(kept) == 0 || kept[len(kept)-1] == '\n')
		require.LessOrEqual(t, done, len(fuzzPassages))
		_, err = parsePairs(kept, path)
		require.NoError(t, err, "train refuses what generate kept")
	})
}

func FuzzParseEval(f *testing.F) {
	f.Add(bundledEval[:bytes.IndexByte(bundledEval, '\n')+1])
	f.Add([]byte(`{"query": "q", "relevant": []}`))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMax {
			return
		}
		qs, err := parseEval(bytes.NewReader(data), "eval.jsonl")
		if err != nil {
			return
		}
		require.NotEmpty(t, qs)
		for _, q := range qs {
			require.NotEmpty(t, strings.TrimSpace(q.Query))
			require.NotEmpty(t, q.Relevant)
		}
	})
}
