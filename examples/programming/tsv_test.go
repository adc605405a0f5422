package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResumeTSV(t *testing.T) {
	passages := []corpus.Passage{{Text: "alpha\tone"}, {Text: "beta"}, {Text: "gamma"}}
	block := func(i int) string {
		p := clean(passages[i].Text)
		return "q1 " + p + "\t" + p + "\nq2 " + p + "\t" + p + "\n"
	}
	tests := []struct {
		name     string
		existing string
		wantDone int
		wantKeep string
		wantErr  bool
	}{
		{"new file", "", 0, "", false},
		{"one block", block(0), 1, block(0), false},
		{"partial line cut", block(0) + "q1 beta\tbe", 1, block(0), false},
		{"partial block cut", block(0) + strings.SplitAfter(block(1), "\n")[0], 1, block(0), false},
		{"all done", block(0) + block(1) + block(2), 3, block(0) + block(1) + block(2), false},
		{"trailing blank lines cut", block(0) + "\n \n", 1, block(0), false},
		{"trailing blank line after a partial block", block(0) + strings.SplitAfter(block(1), "\n")[0] + "\n", 1, block(0), false},
		{"blank line inside", block(0) + "\n" + block(1), 0, "", true},
		{"no tab", "q1 alpha one\n", 0, "", true},
		{"more lines than passages", block(0) + block(1) + block(2) + block(2), 0, "", true},
		{"other corpus", "q\tsomething else\n", 0, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "generated_queries.tsv")
			if tc.existing != "" {
				require.NoError(t, os.WriteFile(path, []byte(tc.existing), 0o644))
			}
			done, f, err := resumeTSV(path, passages, 2)
			if tc.wantErr {
				if !assert.Error(t, err, "want an error for a file from another corpus") {
					f.Close()
				}
				return
			}
			require.NoError(t, err)
			f.Close()
			assert.Equal(t, tc.wantDone, done)
			got, _ := os.ReadFile(path)
			assert.Equal(t, tc.wantKeep, string(got), "file after resume")
		})
	}
}

// TestParsePairs: train reads only complete lines: a last line without its
// newline is an unfinished write, not a pair with a truncated passage.
func TestParsePairs(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []pair
		err        string
	}{
		{"empty", "", nil, ""},
		{"two", "q1\tp1\nq2\tp2\n", []pair{{"q1", "p1"}, {"q2", "p2"}}, ""},
		{"torn last line", "q1\tp1\nq2\tp", nil, "f.tsv line 2 ends without a newline: it is an unfinished write"},
		{"blank", "q1\tp1\n\n", nil, "f.tsv line 2 is blank"},
		{"no tab", "q1 p1\n", nil, "f.tsv line 1: want query<TAB>passage"},
	} {
		got, err := parsePairs([]byte(tc.data), "f.tsv")
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

func TestReadCorpusBundled(t *testing.T) {
	ps, err := corpus.ReadFile(filepath.Join("data", "programming.jsonl.gz"))
	require.NoError(t, err)
	titles := map[string]int{}
	for _, p := range ps {
		titles[p.Title]++
		assert.Greater(t, len(p.Text), 100, "%s: characters in the paragraph", p.ID)
	}
	assert.Len(t, titles, 30, "technologies")
	for title, n := range titles {
		assert.GreaterOrEqual(t, n, 8, "%s: paragraphs", title)
	}
}
