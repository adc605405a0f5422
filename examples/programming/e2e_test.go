package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/corpus"
)

// The end-to-end test runs the recipe through the same code paths as the
// command, with the tiny random-weight fixture models instead of the real
// ones: t5-tiny as the generator, distilbert-tiny as the base model, the
// first 12 passages with 2 queries each, batches of 4, one epoch.

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "fixtures", name) }

const (
	testPassages   = 12
	testPerPassage = 2
	testBatch      = 4
)

// invoke runs the command with args and returns what it printed.
func invoke(ctx context.Context, t *testing.T, a *app, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	a.stdout, a.stderr = &out, &errOut
	if a.stdin == nil {
		a.stdin = strings.NewReader("")
	}
	err = a.run(ctx, args)
	return out.String(), errOut.String(), err
}

// generateArgs are the generate flags of the test run, writing into out.
func generateArgs(out string) []string {
	return []string{"generate", "-out", out, "-generator", fixture("t5-tiny"), "-limit", strconv.Itoa(testPassages),
		"-queries-per-passage", strconv.Itoa(testPerPassage), "-batch", strconv.Itoa(testBatch), "-seed", "7", "-quiet"}
}

func TestEndToEnd(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1") // the fixtures are folders: nothing may be downloaded
	ctx := context.Background()
	passages, err := loadCorpus(bundledName)
	require.NoError(t, err)
	dir := t.TempDir()
	tsv := filepath.Join(dir, queriesFile)

	t.Run("generate", func(t *testing.T) {
		_, stderr, err := invoke(ctx, t, &app{}, generateArgs(dir)...)
		require.NoError(t, err, stderr)
		data, err := os.ReadFile(tsv)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		require.Len(t, lines, testPassages*testPerPassage)
		require.True(t, strings.HasSuffix(string(data), "\n"), "the file ends in a newline")
		distinct := map[string]bool{}
		for i, line := range lines {
			fields := strings.Split(line, "\t")
			require.Len(t, fields, 2, "line %d: tab-separated fields of %q", i+1, line)
			assert.Equal(t, clean(passages[i/testPerPassage].Text), fields[1], "line %d: passage %d", i+1, i/testPerPassage)
			assert.Equal(t, clean(fields[0]), fields[0], "line %d: the query is not cleaned", i+1)
			distinct[fields[0]] = true
		}
		assert.GreaterOrEqual(t, len(distinct), len(lines)/2, "distinct queries among %d: sampling does not vary", len(lines))
	})

	t.Run("generate resumes an interrupted run", func(t *testing.T) {
		other := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var batches []int
		a := &app{afterBatch: func(done int) {
			batches = append(batches, done)
			cancel() // Ctrl-C after the first batch
		}}
		_, _, err := invoke(cctx, t, a, generateArgs(other)...)
		require.ErrorIs(t, err, context.Canceled, "interrupted generate")
		part := filepath.Join(other, queriesFile)
		data, _ := os.ReadFile(part)
		require.Equal(t, testBatch*testPerPassage, strings.Count(string(data), "\n"), "lines in the file after the first batch")
		// A crash in the middle of the next write leaves half a line.
		f, _ := os.OpenFile(part, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("half a query\t" + passages[testBatch].Text[:20])
		f.Close()

		batches = nil
		a = &app{afterBatch: func(done int) { batches = append(batches, done) }}
		_, stderr, err := invoke(ctx, t, a, generateArgs(other)...)
		require.NoError(t, err, "resumed generate\n%s", stderr)
		assert.Equal(t, []int{2 * testBatch, testPassages}, batches, "the batches the resumed run generated end at")
		got, _ := os.ReadFile(part)
		want, _ := os.ReadFile(tsv)
		assert.Equal(t, string(want), string(got), "interrupted and resumed run against an uninterrupted one")

		batches = nil
		_, stderr, err = invoke(ctx, t, a, generateArgs(other)...)
		assert.NoError(t, err, "generate on a complete file\n%s", stderr)
		assert.Empty(t, batches, "generate on a complete file generated batches")
	})

	trainArgs := []string{"train", "-out", dir, "-base", fixture("distilbert-tiny"), "-epochs", "1", "-train-batch", "4",
		"-checkpoint-every", "2", "-seed", "7", "-quiet"}
	model := filepath.Join(dir, modelFolder)
	t.Run("train", func(t *testing.T) {
		_, stderr, err := invoke(ctx, t, &app{}, trainArgs...)
		require.NoError(t, err, stderr)
		m, err := encoder.Load(t.Context(), model, encoder.LoadOptions{})
		require.NoError(t, err, "the trained model does not load")
		base, err := encoder.Load(t.Context(), fixture("distilbert-tiny"), encoder.LoadOptions{})
		require.NoError(t, err)
		assert.Equal(t, base.Dim(), m.Dim(), "dim of the trained model")
		texts := []string{passages[0].Text}
		e1, _ := m.Encode(ctx, texts)
		e0, _ := base.Encode(ctx, texts)
		assert.NotEqual(t, e0[0], e1[0], "training left the embeddings unchanged")
		_, err = os.Stat(filepath.Join(dir, checkpointsDir))
		assert.ErrorIs(t, err, fs.ErrNotExist, "the checkpoints folder is still there after training")

		_, stderr, err = invoke(ctx, t, &app{}, trainArgs...)
		assert.NoError(t, err, "train again")
		assert.Contains(t, stderr, "already trained", "train again is skipped")
		other := append(append([]string{}, trainArgs...), "-epochs", "2")
		_, _, err = invoke(ctx, t, &app{}, other...)
		assert.ErrorContains(t, err, "-overwrite", "train with other settings over a trained model")
	})

	t.Run("train resumes an interrupted run", func(t *testing.T) {
		other := t.TempDir()
		data, _ := os.ReadFile(tsv)
		os.WriteFile(filepath.Join(other, queriesFile), data, 0o644)
		args := append(append([]string{}, trainArgs...), "-out", other)

		// A run with other settings left checkpoints behind: they must not be used.
		require.NoError(t, writeRecord(filepath.Join(other, checkpointsDir), trainingRecord{Base: "another model"}))
		_, _, err := invoke(ctx, t, &app{}, args...)
		assert.ErrorContains(t, err, "-overwrite", "train over another run's checkpoints")
		os.RemoveAll(filepath.Join(other, checkpointsDir))

		// Ctrl-C after a few steps: ctx reports cancellation from its 5th check on.
		stop := &countdown{Context: ctx}
		stop.left.Store(4)
		_, _, err = invoke(stop, t, &app{}, args...)
		require.ErrorIs(t, err, context.Canceled, "interrupted train")
		require.FileExists(t, filepath.Join(other, checkpointsDir, trainingFile), "the interrupted run left no checkpoints")
		entries, _ := os.ReadDir(filepath.Join(other, checkpointsDir))
		require.GreaterOrEqual(t, len(entries), 2, "the interrupted run wrote no checkpoint besides %s: %v", trainingFile, entries)
		_, err = os.Stat(filepath.Join(other, modelFolder))
		require.ErrorIs(t, err, fs.ErrNotExist, "the interrupted run saved a model")
		_, stderr, err := invoke(ctx, t, &app{}, args...)
		require.NoError(t, err, "resumed train\n%s", stderr)
		resumed, err := encoder.Load(t.Context(), filepath.Join(other, modelFolder), encoder.LoadOptions{})
		require.NoError(t, err)
		straight, err := encoder.Load(t.Context(), model, encoder.LoadOptions{})
		require.NoError(t, err)
		texts := []string{passages[0].Text, passages[5].Text, "a query"}
		e1, _ := resumed.Encode(ctx, texts)
		e0, _ := straight.Encode(ctx, texts)
		for i := range texts {
			assert.Equal(t, e0[i], e1[i], "text %d: the interrupted and resumed training gives other embeddings than an uninterrupted one", i)
		}
	})

	t.Run("search", func(t *testing.T) {
		queries := []string{"python web framework", "memory safety without garbage collection"}
		args := []string{"search", "-out", dir, "-k", "5", "-quiet", "-q", queries[0], "-q", queries[1]}
		stdout, stderr, err := invoke(ctx, t, &app{}, args...)
		require.NoError(t, err, stderr)
		checkHits(t, stdout, hitLine, queries, 5)

		_, stderr, err = invoke(ctx, t, &app{}, args...)
		assert.NoError(t, err, "second search")
		assert.Contains(t, stderr, "using cached embeddings", "second search")

		interactive := &app{stdin: strings.NewReader(queries[0] + "\n\n" + queries[1] + "\n")}
		stdout, stderr, err = invoke(ctx, t, interactive, "search", "-out", dir, "-k", "3", "-quiet")
		require.NoError(t, err, stderr)
		checkHits(t, stdout, hitLine, queries, 3)
	})

	evalArgs := []string{"eval", "-out", dir, "-base", fixture("distilbert-tiny"), "-quiet"}
	t.Run("eval", func(t *testing.T) {
		stdout, stderr, err := invoke(ctx, t, &app{}, evalArgs...)
		require.NoError(t, err, stderr)
		checkTable(t, stdout, []string{"base: " + fixture("distilbert-tiny"), "GenQ: " + model})
	})

	t.Run("all", func(t *testing.T) {
		args := append([]string{"all", "-generator", fixture("t5-tiny"), "-limit", "12", "-queries-per-passage", "2",
			"-batch", "4"}, trainArgs[1:]...)
		args = append(args, gplArgs(dir)[1:]...)
		stdout, stderr, err := invoke(ctx, t, &app{}, args...)
		require.NoError(t, err, stderr)
		for _, want := range []string{"already holds", "already trained", "step 5/5", "-- gpl done in"} {
			assert.Contains(t, stderr, want)
		}
		checkTable(t, stdout, []string{"base: " + fixture("distilbert-tiny"), "GenQ: " + model, "GPL: " + filepath.Join(dir, gplModelFolder)})
		checkHits(t, stdout, hitLine, exampleQueries, 3)
	})
}

// hitLine is one hit as search prints it: rank, score, title, paragraph.
var hitLine = regexp.MustCompile(`^\s*(\d+)\. (-?[0-9.]+)  (.+) \(paragraph (\d+)\)$`)

// checkHits checks that stdout answers each query with k hits ranked 1..k,
// sorted by score, each naming a passage of the corpus.
func checkHits(t *testing.T, stdout string, hitLine *regexp.Regexp, queries []string, k int) {
	t.Helper()
	passages, _ := loadCorpus(bundledName)
	ids := map[string]bool{}
	for _, p := range passages {
		ids[p.ID] = true
	}
	blocks := strings.Split(stdout, "\nQuery: ")[1:]
	require.Len(t, blocks, len(queries), "answered queries:\n%s", stdout)
	for i, b := range blocks {
		lines := strings.Split(b, "\n")
		assert.Equal(t, queries[i], lines[0], "answer %d is for", i+1)
		var scores []float64
		for _, l := range lines[1:] {
			m := hitLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			s, _ := strconv.ParseFloat(m[2], 64)
			n, _ := strconv.Atoi(m[4])
			rank, _ := strconv.Atoi(m[1])
			assert.Equal(t, len(scores)+1, rank, "query %q: rank of the hit after %d hits", queries[i], len(scores))
			assert.True(t, ids[corpus.PassageID(m[3], n)], "query %q: hit %q is not a passage of the corpus", queries[i], l)
			assert.GreaterOrEqual(t, s, -1.0, "query %q: want cosine scores in [-1, 1]", queries[i])
			assert.LessOrEqual(t, s, 1.0, "query %q: want cosine scores in [-1, 1]", queries[i])
			if len(scores) > 0 {
				assert.LessOrEqual(t, s, scores[len(scores)-1], "query %q: score after %v: want the best first", queries[i], scores)
			}
			scores = append(scores, s)
		}
		assert.Len(t, scores, k, "query %q: hits in\n%s", queries[i], b)
	}
}

// checkTable checks eval's markdown table: a header with the metrics at 10,
// one row per model with three values in [0, 1].
func checkTable(t *testing.T, stdout string, models []string) {
	t.Helper()
	var rows [][]string
	header := false
	for _, l := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if cells[0] == "model" {
			header = strings.Join(cells, ",") == "model,MRR@10,nDCG@10,Recall@10"
			continue
		}
		rows = append(rows, cells)
	}
	require.True(t, header, "want a table with the header model | MRR@10 | nDCG@10 | Recall@10, got\n%s", stdout)
	require.Len(t, rows, len(models), "rows of the table\n%s", stdout)
	for i, r := range rows {
		if !assert.Len(t, r, 4, "row %d", i+1) || !assert.Equal(t, models[i], r[0], "row %d", i+1) {
			continue
		}
		for _, c := range r[1:] {
			v, err := strconv.ParseFloat(c, 64)
			if assert.NoError(t, err, "row %s: value %q", r[0], c) {
				assert.GreaterOrEqual(t, v, 0.0, "row %s: want a number in [0, 1]", r[0])
				assert.LessOrEqual(t, v, 1.0, "row %s: want a number in [0, 1]", r[0])
			}
		}
	}
}

// countdown is a context that reports cancellation once Err has been asked
// more than left times, to interrupt a run between two of its steps.
type countdown struct {
	context.Context
	left atomic.Int64
}

func (c *countdown) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return c.Context.Err()
}

// TestErrors checks that the mistakes a user is likely to make end in an
// error that says how to fix them.
func TestErrors(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"train before generate", []string{"train", "-out", dir, "-base", fixture("distilbert-tiny")}, "run the generate subcommand first"},
		{"search before train", []string{"search", "-out", dir, "-q", "x"}, "run the train subcommand first"},
		{"model not downloaded", []string{"search", "-out", dir, "-model", "no-such-org/no-such-model", "-q", "x"},
			"huggingface-cli download no-such-org/no-such-model"},
		{"generator not downloaded", []string{"generate", "-out", dir, "-generator", "no-such-org/t5", "-limit", "1"},
			"huggingface-cli download no-such-org/t5"},
		{"eval of another corpus", []string{"eval", "-out", dir, "-corpus", writeFile(t, "my passage\n"), "-models", "base",
			"-base", fixture("distilbert-tiny")}, "pass -eval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := invoke(context.Background(), t, &app{}, tc.args...)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	pairs := filepath.Join(t.TempDir(), "few")
	os.MkdirAll(pairs, 0o755)
	os.WriteFile(filepath.Join(pairs, queriesFile), []byte("q1\tpassage one\nq2\tpassage one\nq3\tpassage two\nq4\tpassage two\n"), 0o644)
	_, _, err := invoke(context.Background(), t, &app{}, "train", "-out", pairs, "-base", fixture("distilbert-tiny"), "-train-batch", "4")
	assert.ErrorContains(t, err, "2 distinct passages", "train with 2 distinct passages in batches of 4")
	for _, args := range [][]string{{"nonsense"}, {"train", "-epochs", "0"}, {"search", "stray"}} {
		_, _, err := invoke(context.Background(), t, &app{}, args...)
		assert.ErrorIs(t, err, errUsage, "%q", args)
	}
}

func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "corpus.txt")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// TestEvalData checks the bundled labelled queries: enough of them, no
// duplicates, and every relevant paragraph present in the bundled corpus.
func TestEvalData(t *testing.T) {
	qs, err := loadEval(bundledName)
	require.NoError(t, err)
	passages, err := loadCorpus(bundledName)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(qs), 60, "eval queries")
	_, err = checkEval(qs, passages, "data/eval.jsonl")
	assert.NoError(t, err)
	seen := map[string]bool{}
	titles := map[string]bool{}
	for _, q := range qs {
		key := strings.ToLower(strings.TrimSpace(q.Query))
		assert.False(t, seen[key], "query %q appears twice", q.Query)
		seen[key] = true
		for _, r := range q.Relevant {
			titles[r.Title] = true
		}
	}
	assert.GreaterOrEqual(t, len(titles), 20, "technologies the queries cover (of the 30)")
}
