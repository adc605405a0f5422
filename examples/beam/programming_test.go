package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
)

// TestMatchesProgrammingExample builds and runs the programming example's
// own `generate -tiny -limit 48` and compares its output with the Beam
// pipeline's (two workers, other block and batch sizes): with -format beir
// the files must be byte-identical; with -format tsv its sorted
// query<TAB>passage lines, repeats removed, must be those the Beam output
// gives (BEIR's GenQ keeps each passage's distinct queries, the TSV all
// samples). Skipped with -short (it compiles the example).
func TestMatchesProgrammingExample(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles examples/programming; skipped with -short")
	}
	c := testConfig(t)
	root, err := checkoutRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "programming")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/programming")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building examples/programming: %s", out)
	programming := func(format string) Config {
		p := c
		p.Out = t.TempDir()
		out, err := exec.CommandContext(ctx, bin, "generate", "-tiny", "-quiet", "-limit", "48", "-seed", "42", "-format", format, "-out", p.Out).CombinedOutput()
		require.NoError(t, err, "examples/programming generate -format %s: %s", format, out)
		return p
	}
	tsv, err := os.ReadFile(filepath.Join(programming("tsv").Out, "generated_queries.tsv"))
	require.NoError(t, err)
	wantQ, wantR := readOutput(t, programming("beir"))

	c.Workers, c.Block, c.Batch = 2, 8, 5
	_, err = runOnPrism(t, GeneratePipeline, c, false)
	require.NoError(t, err)
	gotQ, gotR := readOutput(t, c)
	require.Equal(t, wantQ, gotQ, "gen-queries.jsonl of generate -format beir")
	require.Equal(t, wantR, gotR, "gen-qrels/train.tsv of generate -format beir")
	require.Equal(t, sortedUnique(strings.Split(strings.TrimSuffix(string(tsv), "\n"), "\n")), sortedUnique(pairLines(t, c)),
		"generated_queries.tsv of generate -format tsv")
}

// pairLines turns a generate run's BEIR output back into the programming
// example's generated_queries.tsv lines: query<TAB>passage, both as its
// clean writes them.
func pairLines(t *testing.T, c Config) []string {
	t.Helper()
	passages, err := corpus.ReadFile(c.Corpus)
	require.NoError(t, err)
	text := map[string]string{}
	for _, p := range passages {
		text[p.ID] = p.Text
	}
	// beir.ReadQueries refuses a query with an empty text, which the tiny
	// model can sample and BEIR's GenQ keeps; decode the lines here.
	qf, err := os.ReadFile(beir.QueriesPath(c.Out, c.Prefix))
	require.NoError(t, err)
	queries := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(qf), "\n"), "\n") {
		var q struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &q))
		queries[q.ID] = q.Text
	}
	rf, err := os.Open(beir.QrelsPath(c.Out, c.Prefix, beir.GenSplit))
	require.NoError(t, err)
	defer rf.Close()
	qrels, err := beir.ReadQrels(rf, rf.Name())
	require.NoError(t, err)
	var lines []string
	for _, r := range qrels {
		lines = append(lines, cleanField(queries[r.QueryID])+"\t"+cleanField(text[r.CorpusID]))
	}
	return lines
}

// cleanField is examples/programming's clean: tabs and line breaks become
// spaces, surrounding white space goes.
func cleanField(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(s))
}

func sortedUnique(lines []string) []string {
	slices.Sort(lines)
	return slices.Compact(lines)
}
