package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/genq-go/genq/encoder"
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
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tsv := filepath.Join(dir, queriesFile)

	t.Run("generate", func(t *testing.T) {
		if _, stderr, err := invoke(ctx, t, &app{}, generateArgs(dir)...); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		data, err := os.ReadFile(tsv)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if len(lines) != testPassages*testPerPassage || !strings.HasSuffix(string(data), "\n") {
			t.Fatalf("%d lines (ending in a newline: %v), want %d", len(lines), strings.HasSuffix(string(data), "\n"), testPassages*testPerPassage)
		}
		distinct := map[string]bool{}
		for i, line := range lines {
			fields := strings.Split(line, "\t")
			if len(fields) != 2 {
				t.Fatalf("line %d has %d tab-separated fields, want 2: %q", i+1, len(fields), line)
			}
			if want := clean(passages[i/testPerPassage].Text); fields[1] != want {
				t.Errorf("line %d: passage %q, want passage %d %q", i+1, fields[1], i/testPerPassage, want)
			}
			if fields[0] != clean(fields[0]) {
				t.Errorf("line %d: query %q is not cleaned", i+1, fields[0])
			}
			distinct[fields[0]] = true
		}
		if len(distinct) < len(lines)/2 {
			t.Errorf("only %d distinct queries among %d: sampling does not vary", len(distinct), len(lines))
		}
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
		if _, _, err := invoke(cctx, t, a, generateArgs(other)...); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted generate returned %v, want context.Canceled", err)
		}
		part := filepath.Join(other, queriesFile)
		data, _ := os.ReadFile(part)
		if n := strings.Count(string(data), "\n"); n != testBatch*testPerPassage {
			t.Fatalf("after the first batch the file has %d lines, want %d", n, testBatch*testPerPassage)
		}
		// A crash in the middle of the next write leaves half a line.
		f, _ := os.OpenFile(part, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("half a query\t" + passages[testBatch].Text[:20])
		f.Close()

		batches = nil
		a = &app{afterBatch: func(done int) { batches = append(batches, done) }}
		if _, stderr, err := invoke(ctx, t, a, generateArgs(other)...); err != nil {
			t.Fatalf("resumed generate: %v\n%s", err, stderr)
		}
		if want := []int{2 * testBatch, testPassages}; !equalInts(batches, want) {
			t.Errorf("the resumed run generated the batches ending at %v, want %v", batches, want)
		}
		got, _ := os.ReadFile(part)
		want, _ := os.ReadFile(tsv)
		if !bytes.Equal(got, want) {
			t.Errorf("interrupted and resumed run wrote\n%s\nuninterrupted run wrote\n%s", got, want)
		}

		batches = nil
		if _, stderr, err := invoke(ctx, t, a, generateArgs(other)...); err != nil || len(batches) != 0 {
			t.Errorf("generate on a complete file: err %v, generated batches %v, want none\n%s", err, batches, stderr)
		}
	})

	trainArgs := []string{"train", "-out", dir, "-base", fixture("distilbert-tiny"), "-epochs", "1", "-train-batch", "4",
		"-checkpoint-every", "2", "-seed", "7", "-quiet"}
	model := filepath.Join(dir, modelFolder)
	t.Run("train", func(t *testing.T) {
		if _, stderr, err := invoke(ctx, t, &app{}, trainArgs...); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		m, err := encoder.Load(t.Context(), model, encoder.LoadOptions{})
		if err != nil {
			t.Fatalf("the trained model does not load: %v", err)
		}
		base, err := encoder.Load(t.Context(), fixture("distilbert-tiny"), encoder.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Dim() != base.Dim() {
			t.Errorf("trained model: dim %d, want %d", m.Dim(), base.Dim())
		}
		texts := []string{passages[0].Text}
		e1, _ := m.Encode(ctx, texts)
		e0, _ := base.Encode(ctx, texts)
		if equalFloats(e0[0], e1[0]) {
			t.Error("training left the embeddings unchanged")
		}
		if _, err := os.Stat(filepath.Join(dir, checkpointsDir)); !os.IsNotExist(err) {
			t.Errorf("the checkpoints folder is still there after training: %v", err)
		}

		_, stderr, err := invoke(ctx, t, &app{}, trainArgs...)
		if err != nil || !strings.Contains(stderr, "already trained") {
			t.Errorf("train again: err %v, stderr %q; want it skipped as already trained", err, stderr)
		}
		other := append(append([]string{}, trainArgs...), "-epochs", "2")
		if _, _, err := invoke(ctx, t, &app{}, other...); err == nil || !strings.Contains(err.Error(), "-overwrite") {
			t.Errorf("train with other settings over a trained model: err %v, want one that suggests -overwrite", err)
		}
	})

	t.Run("train resumes an interrupted run", func(t *testing.T) {
		other := t.TempDir()
		data, _ := os.ReadFile(tsv)
		os.WriteFile(filepath.Join(other, queriesFile), data, 0o644)
		args := append(append([]string{}, trainArgs...), "-out", other)

		// A run with other settings left checkpoints behind: they must not be used.
		if err := writeRecord(filepath.Join(other, checkpointsDir), trainingRecord{Base: "another model"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := invoke(ctx, t, &app{}, args...); err == nil || !strings.Contains(err.Error(), "-overwrite") {
			t.Errorf("train over another run's checkpoints: err %v, want one that suggests -overwrite", err)
		}
		os.RemoveAll(filepath.Join(other, checkpointsDir))

		// Ctrl-C after a few steps: ctx reports cancellation from its 5th check on.
		stop := &countdown{Context: ctx}
		stop.left.Store(4)
		if _, _, err := invoke(stop, t, &app{}, args...); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted train returned %v, want context.Canceled", err)
		}
		if _, err := os.Stat(filepath.Join(other, checkpointsDir, trainingFile)); err != nil {
			t.Fatalf("the interrupted run left no checkpoints: %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Join(other, checkpointsDir)); len(entries) < 2 {
			t.Fatalf("the interrupted run wrote no checkpoint besides %s: %v", trainingFile, entries)
		}
		if _, err := os.Stat(filepath.Join(other, modelFolder)); !os.IsNotExist(err) {
			t.Fatalf("the interrupted run saved a model: %v", err)
		}
		if _, stderr, err := invoke(ctx, t, &app{}, args...); err != nil {
			t.Fatalf("resumed train: %v\n%s", err, stderr)
		}
		resumed, err := encoder.Load(t.Context(), filepath.Join(other, modelFolder), encoder.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		straight, err := encoder.Load(t.Context(), model, encoder.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{passages[0].Text, passages[5].Text, "a query"}
		e1, _ := resumed.Encode(ctx, texts)
		e0, _ := straight.Encode(ctx, texts)
		for i := range texts {
			if !equalFloats(e0[i], e1[i]) {
				t.Errorf("text %d: the interrupted and resumed training gives other embeddings than an uninterrupted one", i)
			}
		}
	})

	t.Run("search", func(t *testing.T) {
		queries := []string{"python web framework", "memory safety without garbage collection"}
		args := []string{"search", "-out", dir, "-k", "5", "-quiet", "-q", queries[0], "-q", queries[1]}
		stdout, stderr, err := invoke(ctx, t, &app{}, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		checkHits(t, stdout, hitLine, queries, 5)

		_, stderr, err = invoke(ctx, t, &app{}, args...)
		if err != nil || !strings.Contains(stderr, "using cached embeddings") {
			t.Errorf("second search: err %v, stderr %q; want the cached embeddings used", err, stderr)
		}

		interactive := &app{stdin: strings.NewReader(queries[0] + "\n\n" + queries[1] + "\n")}
		stdout, stderr, err = invoke(ctx, t, interactive, "search", "-out", dir, "-k", "3", "-quiet")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		checkHits(t, stdout, hitLine, queries, 3)
	})

	evalArgs := []string{"eval", "-out", dir, "-base", fixture("distilbert-tiny"), "-quiet"}
	t.Run("eval", func(t *testing.T) {
		stdout, stderr, err := invoke(ctx, t, &app{}, evalArgs...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		checkTable(t, stdout, []string{"base: " + fixture("distilbert-tiny"), "GenQ: " + model})
	})

	t.Run("all", func(t *testing.T) {
		args := append([]string{"all", "-generator", fixture("t5-tiny"), "-limit", "12", "-queries-per-passage", "2",
			"-batch", "4"}, trainArgs[1:]...)
		stdout, stderr, err := invoke(ctx, t, &app{}, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		for _, want := range []string{"already holds", "already trained", "step 4/4"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		checkTable(t, stdout, []string{"base: " + fixture("distilbert-tiny"), "GenQ: " + model})
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
		ids[p.ID()] = true
	}
	blocks := strings.Split(stdout, "\nQuery: ")[1:]
	if len(blocks) != len(queries) {
		t.Fatalf("%d answered queries, want %d:\n%s", len(blocks), len(queries), stdout)
	}
	for i, b := range blocks {
		lines := strings.Split(b, "\n")
		if lines[0] != queries[i] {
			t.Errorf("answer %d is for %q, want %q", i+1, lines[0], queries[i])
		}
		var scores []float64
		for _, l := range lines[1:] {
			m := hitLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			s, _ := strconv.ParseFloat(m[2], 64)
			n, _ := strconv.Atoi(m[4])
			if rank, _ := strconv.Atoi(m[1]); rank != len(scores)+1 {
				t.Errorf("query %q: hit ranked %d after %d hits", queries[i], rank, len(scores))
			}
			if !ids[Passage{Title: m[3], Index: n}.ID()] {
				t.Errorf("query %q: hit %q is not a passage of the corpus", queries[i], l)
			}
			if s < -1 || s > 1 || (len(scores) > 0 && s > scores[len(scores)-1]) {
				t.Errorf("query %q: score %v after %v: want cosine scores in [-1, 1], best first", queries[i], s, scores)
			}
			scores = append(scores, s)
		}
		if len(scores) != k {
			t.Errorf("query %q: %d hits, want %d:\n%s", queries[i], len(scores), k, b)
		}
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
	if !header || len(rows) != len(models) {
		t.Fatalf("want a table with the header model | MRR@10 | nDCG@10 | Recall@10 and %d rows, got\n%s", len(models), stdout)
	}
	for i, r := range rows {
		if len(r) != 4 || r[0] != models[i] {
			t.Errorf("row %d = %q, want 4 cells for %s", i+1, r, models[i])
			continue
		}
		for _, c := range r[1:] {
			if v, err := strconv.ParseFloat(c, 64); err != nil || v < 0 || v > 1 {
				t.Errorf("row %s: value %q, want a number in [0, 1]", r[0], c)
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

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	pairs := filepath.Join(t.TempDir(), "few")
	os.MkdirAll(pairs, 0o755)
	os.WriteFile(filepath.Join(pairs, queriesFile), []byte("q1\tpassage one\nq2\tpassage one\nq3\tpassage two\nq4\tpassage two\n"), 0o644)
	_, _, err := invoke(context.Background(), t, &app{}, "train", "-out", pairs, "-base", fixture("distilbert-tiny"), "-train-batch", "4")
	if err == nil || !strings.Contains(err.Error(), "2 distinct passages") {
		t.Errorf("train with 2 distinct passages in batches of 4: err = %v, want one that counts the distinct passages", err)
	}
	for _, args := range [][]string{{"nonsense"}, {"train", "-epochs", "0"}, {"search", "stray"}} {
		if _, _, err := invoke(context.Background(), t, &app{}, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalData checks the bundled labelled queries: enough of them, no
// duplicates, and every relevant paragraph present in the bundled corpus.
func TestEvalData(t *testing.T) {
	qs, err := loadEval(bundledName)
	if err != nil {
		t.Fatal(err)
	}
	passages, err := loadCorpus(bundledName)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 60 {
		t.Errorf("%d eval queries, want at least 60", len(qs))
	}
	if _, err := checkEval(qs, passages, "data/eval.jsonl"); err != nil {
		t.Error(err)
	}
	seen := map[string]bool{}
	titles := map[string]bool{}
	for _, q := range qs {
		key := strings.ToLower(strings.TrimSpace(q.Query))
		if seen[key] {
			t.Errorf("query %q appears twice", q.Query)
		}
		seen[key] = true
		for _, r := range q.Relevant {
			titles[r.Title] = true
		}
	}
	if len(titles) < 20 {
		t.Errorf("the queries cover %d technologies, want at least 20 of the 30", len(titles))
	}
}
