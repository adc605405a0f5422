package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/examples/internal/beir"
)

// eval -beir on testdata/beir, whose scores are known whatever the model
// (see testdata/beir/README.md): 0.5 on every metric, for the base model
// and for a second copy of it.
func TestEvalBEIR(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	dir := t.TempDir()
	stdout, stderr, err := invoke(t.Context(), t, &app{}, "eval", "-tiny", "-beir", filepath.Join("testdata", "beir"),
		"-models", "base,"+fixture("distilbert-tiny"), "-out", dir, "-quiet")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "4 queries over 6 passages")
	lines := tableRows(stdout)
	require.Len(t, lines, 3, "header and two rows in\n%s", stdout)
	assert.Equal(t, "model | MRR@10 | nDCG@10 | Recall@100", lines[0])
	for _, row := range lines[1:] {
		cells := strings.Split(row, " | ")
		require.Len(t, cells, 4, row)
		assert.Equal(t, []string{"0.5000", "0.5000", "0.5000"}, cells[1:], row)
	}

	// -k moves the cutoffs of MRR and nDCG; Recall stays at 100.
	stdout, stderr, err = invoke(t.Context(), t, &app{}, "eval", "-tiny", "-beir", filepath.Join("testdata", "beir"),
		"-models", "base", "-out", dir, "-quiet", "-k", "1")
	require.NoError(t, err, stderr)
	assert.Equal(t, "model | MRR@1 | nDCG@1 | Recall@100", tableRows(stdout)[0])
}

// tableRows returns the rows of the markdown table in out, header first,
// without the rule and the outer bars.
func tableRows(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| ") {
			rows = append(rows, strings.Trim(l, "| "))
		}
	}
	return rows
}

func TestEvalBEIRErrors(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"with -corpus", []string{"-beir", filepath.Join("testdata", "beir"), "-corpus", "x.txt"}, "leave out -corpus and -eval"},
		{"no such folder", []string{"-beir", filepath.Join(dir, "none")}, filepath.Join(dir, "none", "corpus.jsonl")},
		{"no such split", []string{"-beir", filepath.Join("testdata", "beir"), "-beir-split", "dev"}, filepath.Join("qrels", "dev.tsv")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"eval", "-tiny", "-models", "base", "-out", dir, "-quiet"}, tc.args...)
			_, _, err := invoke(t.Context(), t, &app{}, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// generate -format beir writes, for the same seed, the queries of the TSV
// run: per passage its distinct queries in sampling order, numbered genQ1,
// genQ2, … over the corpus, in files BEIR's GenericDataLoader reads
// (LoadPrefix follows its rules); an interrupted run resumes to the same
// bytes.
func TestGenerateBEIR(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	ctx := context.Background()
	passages, err := loadCorpus(bundledName)
	require.NoError(t, err)
	tsvDir, dir := t.TempDir(), t.TempDir()
	beirArgs := func(out string) []string { return append(generateArgs(out), "-format", "beir") }
	_, stderr, err := invoke(ctx, t, &app{}, generateArgs(tsvDir)...)
	require.NoError(t, err, stderr)
	_, stderr, err = invoke(ctx, t, &app{}, beirArgs(dir)...)
	require.NoError(t, err, stderr)

	tsv, err := os.ReadFile(filepath.Join(tsvDir, queriesFile))
	require.NoError(t, err)
	pairs, err := parsePairs(tsv, queriesFile)
	require.NoError(t, err)
	var wantQueries []beir.Query
	wantQrels := map[string]map[string]int{}
	for i := 0; i < testPassages; i++ {
		var samples []string
		for _, p := range pairs[i*testPerPassage : (i+1)*testPerPassage] {
			samples = append(samples, p.Query)
		}
		for _, q := range beir.Distinct(samples) {
			id := beir.GenQID(len(wantQueries) + 1)
			wantQueries = append(wantQueries, beir.Query{ID: id, Text: q})
			wantQrels[id] = map[string]int{passages[i].ID: 1}
		}
	}
	require.Greater(t, len(wantQueries), testPassages, "the test needs passages with two distinct queries")

	ds, err := beir.LoadPrefix(dir, beir.DefaultPrefix, beir.GenSplit)
	require.NoError(t, err)
	// The TSV's queries are cleaned (tabs and line breaks made spaces),
	// BEIR's only stripped: compare them cleaned.
	for i := range ds.Queries {
		ds.Queries[i].Text = clean(ds.Queries[i].Text)
	}
	assert.Equal(t, wantQueries, ds.Queries)
	assert.Equal(t, wantQrels, ds.Qrels)
	require.Len(t, ds.Corpus, len(passages), "corpus.jsonl holds the whole corpus")
	for i, d := range ds.Corpus {
		assert.Equal(t, passages[i].ID, d.ID)
		assert.Equal(t, passages[i].Text, d.Passage(), "passage %d as BEIR reads it", i)
	}
	qPath, rPath := beir.QueriesPath(dir, "gen"), beir.QrelsPath(dir, "gen", "train")
	assert.Equal(t, filepath.Join(dir, "gen-queries.jsonl"), qPath)
	assert.Equal(t, filepath.Join(dir, "gen-qrels", "train.tsv"), rPath)
	wantQ, _ := os.ReadFile(qPath)
	wantR, _ := os.ReadFile(rPath)
	assert.True(t, bytes.HasPrefix(wantR, []byte("query-id\tcorpus-id\tscore\r\ngenQ1\t"+passages[0].ID+"\t1\r\n")), "qrels as BEIR's csv.writer writes them:\n%q", wantR[:80])

	// The number of qrels lines of each passage, to cut the files at a
	// passage with two queries.
	perPassage := map[string]int{}
	for _, docs := range ds.Qrels {
		for id := range docs {
			perPassage[id]++
		}
	}

	tests := []struct {
		name string
		// damage changes the files an interrupted run left.
		damage func(t *testing.T, q, r []byte) ([]byte, []byte)
		// batches are the ends of the batches the resumed run generates.
		batches []int
	}{
		{"a partial line at the end of each file", func(t *testing.T, q, r []byte) ([]byte, []byte) {
			return append(q, `{"_id": "genQ`...), append(r, "genQ"...)
		}, []int{2 * testBatch, testPassages}},
		{"the queries of a batch whose qrels were not written", func(t *testing.T, q, r []byte) ([]byte, []byte) {
			return append(q, `{"_id": "genQ99", "text": "x", "metadata": {}}`+"\n"...), r
		}, []int{2 * testBatch, testPassages}},
		{"the last passage cut after its first query", func(t *testing.T, q, r []byte) ([]byte, []byte) {
			last := passages[testBatch-1].ID
			require.Equal(t, 2, perPassage[last], "passage %d has one distinct query: pick another for this case", testBatch)
			r = r[:bytes.LastIndex(bytes.TrimSuffix(r, []byte("\r\n")), []byte("\r\n"))+2]
			return q, r
		}, []int{testBatch, 2 * testBatch, testPassages}},
		{"only part of the header", func(t *testing.T, q, r []byte) ([]byte, []byte) {
			return nil, r[:5]
		}, []int{testBatch, 2 * testBatch, testPassages}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := t.TempDir()
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			a := &app{afterBatch: func(int) { cancel() }}
			_, _, err := invoke(cctx, t, a, beirArgs(other)...)
			require.ErrorIs(t, err, context.Canceled, "interrupted generate")
			q, _ := os.ReadFile(beir.QueriesPath(other, "gen"))
			r, _ := os.ReadFile(beir.QrelsPath(other, "gen", "train"))
			q, r = tc.damage(t, q, r)
			require.NoError(t, os.WriteFile(beir.QueriesPath(other, "gen"), q, 0o644))
			require.NoError(t, os.WriteFile(beir.QrelsPath(other, "gen", "train"), r, 0o644))

			var batches []int
			a = &app{afterBatch: func(done int) { batches = append(batches, done) }}
			_, stderr, err := invoke(ctx, t, a, beirArgs(other)...)
			require.NoError(t, err, "resumed generate\n%s", stderr)
			assert.Equal(t, tc.batches, batches, "the batches the resumed run generated end at")
			gotQ, _ := os.ReadFile(beir.QueriesPath(other, "gen"))
			gotR, _ := os.ReadFile(beir.QrelsPath(other, "gen", "train"))
			assert.Equal(t, string(wantQ), string(gotQ), "queries of the resumed run")
			assert.Equal(t, string(wantR), string(gotR), "qrels of the resumed run")
		})
	}

	t.Run("complete files are left alone", func(t *testing.T) {
		var batches []int
		a := &app{afterBatch: func(done int) { batches = append(batches, done) }}
		_, stderr, err := invoke(ctx, t, a, beirArgs(dir)...)
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "already holds")
		assert.Empty(t, batches)
	})

	t.Run("a BEIR corpus in the output folder is read and left as it is", func(t *testing.T) {
		out := t.TempDir()
		src, err := os.ReadFile(filepath.Join("testdata", "beir", "corpus.jsonl"))
		require.NoError(t, err)
		path := filepath.Join(out, "corpus.jsonl")
		require.NoError(t, os.WriteFile(path, src, 0o644))
		_, stderr, err := invoke(ctx, t, &app{}, "generate", "-out", out, "-corpus", path, "-generator", fixture("t5-tiny"),
			"-queries-per-passage", "2", "-seed", "7", "-quiet", "-format", "beir")
		require.NoError(t, err, stderr)
		got, _ := os.ReadFile(path)
		assert.Equal(t, string(src), string(got), "corpus.jsonl was rewritten")
		ds, err := beir.LoadPrefix(out, "gen", "train")
		require.NoError(t, err)
		var ids []string
		for _, q := range ds.Queries {
			for id := range ds.Qrels[q.ID] {
				if len(ids) == 0 || ids[len(ids)-1] != id {
					ids = append(ids, id)
				}
			}
		}
		assert.Equal(t, []string{"d1", "d2", "d3", "d4", "d5", "d6"}, ids, "the passages of the queries, in order")
	})

	t.Run("files of another corpus are refused", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.txt")
		require.NoError(t, os.WriteFile(other, []byte("one passage\nanother passage\n"), 0o644))
		_, _, err := invoke(ctx, t, &app{}, append(beirArgs(dir), "-corpus", other)...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "-overwrite")
	})
}
