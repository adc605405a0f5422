package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/t5"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// testLimit is the slice of the bundled corpus the pipeline tests generate
// for: 48 of its 240 passages keep a Prism run with the tiny model near a
// second or two.
const testLimit = 48

// testConfig is the configuration of a -tiny run on the first testLimit
// passages of the bundled corpus, writing into a temporary folder.
func testConfig(t *testing.T) Config {
	t.Helper()
	root, err := checkoutRoot()
	require.NoError(t, err)
	return Config{
		Corpus:     filepath.Join(root, bundledCorpus),
		Limit:      testLimit,
		Out:        t.TempDir(),
		Generator:  filepath.Join(root, tinyGenerator),
		Encoder:    filepath.Join(root, tinyEncoder),
		PerPassage: 5,
		Seed:       42,
		Batch:      8,
		Block:      64,
		ShardRows:  100000,
		Workers:    1,
		Prefix:     beir.DefaultPrefix,
	}
}

// runOnPrism runs the pipeline build makes for c on Prism, in process, and
// returns its genq counters. split lets Prism split slow bundles.
func runOnPrism(t *testing.T, build func(beam.Scope, Config), c Config, split bool) (map[string]int64, error) {
	t.Helper()
	saved := *jobopts.Experiments
	t.Cleanup(func() { *jobopts.Experiments = saved })
	*jobopts.Experiments = ""
	if !split {
		disablePrismSplits()
	}
	p, s := beam.NewPipelineWithRoot()
	build(s, c)
	res, err := beam.Run(context.Background(), "prism", p)
	return countersOf(res), err
}

// singleProcess generates queries for the passages of c as the programming
// example's generate does, in one process: the corpus read whole, cut to
// -limit, and generated -batch passages at a time with FirstIndex the
// batch's start.
func singleProcess(t *testing.T, c Config) ([]corpus.Passage, [][]string) {
	t.Helper()
	ctx := context.Background()
	passages, err := corpus.ReadFile(c.Corpus)
	require.NoError(t, err)
	if c.Limit > 0 && c.Limit < len(passages) {
		passages = passages[:c.Limit]
	}
	m, err := t5.Load(ctx, c.Generator, t5.LoadOptions{})
	require.NoError(t, err)
	opts := t5.DefaultGenerateOptions()
	opts.NumReturnSequences = c.PerPassage
	opts.BatchSize = c.Batch
	opts.Seed = c.Seed
	var queries [][]string
	for start := 0; start < len(passages); start += c.Batch {
		end := min(start+c.Batch, len(passages))
		texts := make([]string, end-start)
		for i, p := range passages[start:end] {
			texts[i] = p.Text
		}
		opts.FirstIndex = start
		qs, err := m.Generate(ctx, texts, opts)
		require.NoError(t, err)
		queries = append(queries, qs...)
	}
	return passages, queries
}

// beirFiles is what BEIR's GenQ layout holds for these queries: the
// queries file and the qrels file.
func beirFiles(passages []corpus.Passage, queries [][]string) (string, string) {
	var g beir.GenQ
	q, r := []byte(nil), beir.AppendQrelsHeader(nil)
	for i, p := range passages {
		q, r, _ = g.Append(q, r, p.ID, queries[i])
	}
	return string(q), string(r)
}

// readOutput returns the BEIR files a generate run wrote into c.Out.
func readOutput(t *testing.T, c Config) (string, string) {
	t.Helper()
	q, err := os.ReadFile(beir.QueriesPath(c.Out, c.Prefix))
	require.NoError(t, err)
	r, err := os.ReadFile(beir.QrelsPath(c.Out, c.Prefix, beir.GenSplit))
	require.NoError(t, err)
	return string(q), string(r)
}

// TestGenerateDeterministicAcrossSharding runs pipeline A on Prism with one
// and several workers, bundles split or not, and other -block and -batch
// sizes, and requires BEIR files byte-identical to those the programming
// example's single-process generation gives for the same seed.
func TestGenerateDeterministicAcrossSharding(t *testing.T) {
	base := testConfig(t)
	passages, queries := singleProcess(t, base)
	wantQ, wantR := beirFiles(passages, queries)
	require.Equal(t, testLimit*base.PerPassage, strings.Count(wantQ, "\n")+countDuplicates(queries), "the expected file holds one line per distinct query")

	for _, tc := range []struct {
		name                        string
		workers, block, batch, rows int
		split                       bool
		minBundles                  int64
	}{
		{"1 worker", 1, 64, 8, 100000, false, 1},
		{"3 workers, block 5, batch 3, 5 BEIR parts", 3, 5, 3, 10, false, 3},
		{"2 workers, block 7, batch 4, Prism splits, 7 BEIR parts", 2, 7, 4, 7, true, 2},
		{"1 worker, batch 1", 1, 16, 1, 100000, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Out = t.TempDir()
			c.Workers, c.Block, c.Batch, c.ShardRows = tc.workers, tc.block, tc.batch, tc.rows
			counters, err := runOnPrism(t, GeneratePipeline, c, tc.split)
			require.NoError(t, err)
			gotQ, gotR := readOutput(t, c)
			require.Equal(t, wantQ, gotQ, "gen-queries.jsonl")
			require.Equal(t, wantR, gotR, "gen-qrels/train.tsv")
			require.EqualValues(t, testLimit, counters[cPassages])
			require.EqualValues(t, testLimit*c.PerPassage, counters[cQueries])
			require.Zero(t, counters[cFailures])
			require.GreaterOrEqual(t, counters[cBundles], tc.minBundles, "generation bundles")
			require.NoDirExists(t, filepath.Join(c.Out, partsDir), "the parts are removed")
		})
	}
}

// countDuplicates is the number of sampled queries BEIR's GenQ drops as
// repeats of an earlier sample of the same passage.
func countDuplicates(queries [][]string) int {
	n := 0
	for _, qs := range queries {
		n += len(qs) - len(beir.Distinct(qs))
	}
	return n
}

// TestGenerateRetriedBundle injects a one-time failure in a generation
// bundle, after it emitted its first batch. Prism (v2.78) does not retry a
// failed bundle itself: it fails the job (execute.go calls FailBundle and
// returns the error), so the retry here is the next run of the same
// pipeline, as a Prism user would do it; Dataflow, Flink and Spark retry the
// bundle within the job. Either way the failed attempt must leave nothing
// behind, and the retry must give every passage's queries once.
func TestGenerateRetriedBundle(t *testing.T) {
	c := testConfig(t)
	passages, queries := singleProcess(t, c)
	wantQ, wantR := beirFiles(passages, queries)
	c.Workers, c.Block, c.ShardRows = 2, 8, 16
	c.FailOnce = filepath.Join(t.TempDir(), "failed-once")

	counters, err := runOnPrism(t, GeneratePipeline, c, false)
	require.ErrorContains(t, err, "injected failure")
	require.FileExists(t, c.FailOnce)
	_, statErr := os.Stat(beir.QueriesPath(c.Out, c.Prefix))
	require.True(t, os.IsNotExist(statErr), "the failed attempt left %s behind", beir.QueriesPath(c.Out, c.Prefix))
	t.Logf("failed attempt: %v", counters)

	counters, err = runOnPrism(t, GeneratePipeline, c, false)
	require.NoError(t, err)
	gotQ, gotR := readOutput(t, c)
	require.Equal(t, wantQ, gotQ, "gen-queries.jsonl after the retry")
	require.Equal(t, wantR, gotR, "gen-qrels/train.tsv after the retry")
	require.Zero(t, counters[cFailures])
	require.EqualValues(t, testLimit, counters[cPassages])
}

// TestGenerateFnRetryInstance drives one generateFn as a runner that retries
// a bundle on the same DoFn instance does: the first attempt fails after
// emitting a batch, its outputs are discarded, and the second attempt of the
// same elements must emit each passage once, with the queries of a run that
// never failed (nothing of the failed attempt stays in the instance).
func TestGenerateFnRetryInstance(t *testing.T) {
	c := testConfig(t)
	passages, queries := singleProcess(t, c)
	ctx := context.Background()
	fn := &generateFn{Model: c.Generator, PerPassage: c.PerPassage, Seed: c.Seed, Batch: 4, Block: 16,
		FailOnce: filepath.Join(t.TempDir(), "failed-once")}
	require.NoError(t, fn.Setup(ctx))
	defer fn.Teardown()

	attempt := func() ([]Generated, error) {
		var out []Generated
		emit := func(g Generated) { out = append(out, g) }
		fn.StartBundle(ctx, emit)
		for start := 0; start < len(passages); start += 16 {
			group := passages[start:min(start+16, len(passages))]
			i := len(group)
			iter := func(p *corpus.Passage) bool { // a GBK group, in reverse order
				if i == 0 {
					return false
				}
				i--
				*p = group[i]
				return true
			}
			if err := fn.ProcessElement(ctx, start/16, iter, emit); err != nil {
				return out, err
			}
		}
		return out, fn.FinishBundle(ctx, emit)
	}
	out, err := attempt()
	require.ErrorContains(t, err, "injected failure")
	require.Len(t, out, 4, "the failed attempt emitted its first batch")

	out, err = attempt()
	require.NoError(t, err)
	require.Len(t, out, len(passages))
	for i, g := range out {
		require.Equal(t, i, g.Position)
		require.Equal(t, passages[i].ID, g.ID)
		require.Equal(t, queries[i], g.Queries, "passage %d", i)
	}
}

// TestDeadLetters reads a BEIR corpus split into two shards with bad lines
// (not JSON, no text, no _id): the pipeline finishes, the bad lines are in
// deadletter.jsonl with their reasons, and the good documents get the
// queries of a single-process run over them, numbered across the shards.
func TestDeadLetters(t *testing.T) {
	c := testConfig(t)
	dir := t.TempDir()
	shards := []string{
		`{"_id": "d1", "title": "Go", "text": "Go is a statically typed language."}` + "\n" +
			"this line is not json\n" +
			`{"_id": "d2", "title": "", "text": "Rust has ownership and borrowing."}` + "\n",
		`{"_id": "d3", "title": "", "text": ""}` + "\n" +
			`{"title": "no id", "text": "a document without an id"}` + "\n" +
			`{"_id": "d4", "title": "Python", "text": "Python uses indentation."}` + "\n",
	}
	var whole string
	for i, s := range shards {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "corpus-"+string(rune('0'+i))+".jsonl"), []byte(s), 0o644))
		whole += s
	}
	c.Corpus, c.Limit, c.Workers, c.Block, c.Batch = filepath.Join(dir, "corpus-*.jsonl"), 0, 2, 1, 2

	counters, err := runOnPrism(t, GeneratePipeline, c, false)
	require.NoError(t, err)
	require.EqualValues(t, 3, counters[cDeadLetters])
	require.EqualValues(t, 3, counters[cPassages])

	dead, err := os.ReadFile(filepath.Join(c.Out, DeadLetterFile))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(dead), "\n"), "\n")
	require.Len(t, lines, 3)
	for i, want := range []struct{ file, line, reason string }{
		{"corpus-0.jsonl", `"line":2`, "not a JSON object"},
		{"corpus-1.jsonl", `"line":1`, "no text"},
		{"corpus-1.jsonl", `"line":2`, "no _id"},
	} {
		require.Contains(t, lines[i], want.file)
		require.Contains(t, lines[i], want.line)
		require.Contains(t, lines[i], want.reason)
	}

	// The same documents in one file, without the bad lines, in one process.
	var good []corpus.Passage
	rd, err := corpus.NewReader(strings.NewReader(whole), "corpus.jsonl")
	require.NoError(t, err)
	rd.OnBadLine = func(corpus.BadLine) {}
	for p, err := rd.Next(); err == nil; p, err = rd.Next() {
		good = append(good, p)
	}
	require.Len(t, good, 3)
	goodFile := filepath.Join(dir, "good.jsonl")
	var b []byte
	for _, p := range good {
		b = beir.AppendDoc(b, beir.Doc{ID: p.ID, Text: p.Text})
	}
	require.NoError(t, os.WriteFile(goodFile, b, 0o644))
	ref := c
	ref.Corpus = goodFile
	passages, queries := singleProcess(t, ref)
	wantQ, wantR := beirFiles(passages, queries)
	gotQ, gotR := readOutput(t, c)
	require.Equal(t, wantQ, gotQ)
	require.Equal(t, wantR, gotR)
	require.Contains(t, gotR, "\td4\t1\r\n")
}
