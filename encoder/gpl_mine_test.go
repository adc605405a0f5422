package encoder

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/search"
)

func TestGPLQueriesPerPassage(t *testing.T) {
	for _, tc := range []struct{ corpus, want int }{
		{0, 0}, {1, 250_000}, {1000, 250}, {3, 83_334}, {83_333, 4}, {83_334, 3}, {1_000_000, 3},
	} {
		assert.Equal(t, tc.want, GPLQueriesPerPassage(tc.corpus), "corpus %d", tc.corpus)
	}
}

// gplCorpus is a small corpus with two generated queries per passage.
var gplCorpus = []string{
	"Go is a statically typed language with garbage collection and goroutines.",
	"Rust guarantees memory safety without a garbage collector through ownership.",
	"PostgreSQL is a relational database that also stores JSON documents.",
	"Matplotlib draws plots and charts in Python.",
	"Kubernetes schedules containers across a cluster of machines.",
	"Git records the history of a project as a graph of commits.",
}

func gplQueries() []GeneratedQuery {
	qs := []string{
		"go concurrency", "typed language with gc",
		"memory safety without gc", "rust ownership",
		"database for json", "relational database",
		"python plotting library", "draw charts",
		"container orchestration", "cluster scheduler",
		"version control history", "commit graph",
	}
	out := make([]GeneratedQuery, len(qs))
	for i, q := range qs {
		out[i] = GeneratedQuery{Query: q, PassageID: i / 2}
	}
	return out
}

// TestGPLExamples checks the examples against what they are built from: the
// positive is the query's passage, the negative one of the passages mined
// for the query (recomputed with search.MineHardNegatives), every pass over
// the queries a permutation of them, and the label the cross-encoder's
// logit margin of the cut texts scored pair by pair (|Δ| <= 1e-5: batching
// and padding change the summation order only).
func TestGPLExamples(t *testing.T) {
	ctx := t.Context()
	rets := []*Model{loadFixture(t, "distilbert-tiny"), loadFixture(t, "bert-tiny")}
	ce := loadCE(t, CrossEncoderOptions{})
	queries := gplQueries()
	opts := DefaultGPLOptions()
	opts.Steps, opts.BatchSize, opts.Seed = 7, 4, 1
	opts.MaxSeqLength = 8 // short enough to cut the passages
	var stages []string
	opts.Progress = func(stage string, done, total int) {
		require.LessOrEqual(t, done, total)
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	}
	got, err := GPLExamples(ctx, queries, gplCorpus, rets, ce, opts)
	require.NoError(t, err)
	require.Len(t, got, opts.Steps*opts.BatchSize)
	assert.Equal(t, []string{"embed", "mine", "label"}, stages)

	// The negatives each query may get: the union of both retrievers' top 5
	// (the corpus has 6 passages: 50 is clamped to 5), positive removed.
	rs := make([]search.Retriever, len(rets))
	pairs := make([]search.Pair, len(queries))
	texts := make([]string, len(queries))
	for i, q := range queries {
		pairs[i], texts[i] = search.Pair{Query: i, Positive: q.PassageID}, q.Query
	}
	for i, m := range rets {
		rs[i].Corpus, err = m.Encode(ctx, gplCorpus)
		require.NoError(t, err)
		rs[i].Queries, err = m.Encode(ctx, texts)
		require.NoError(t, err)
	}
	mined, err := search.MineHardNegatives(ctx, pairs, rs, search.WithNegatives(5), search.WithRange(0, 5), search.WithPositivesCounted())
	require.NoError(t, err)
	byQuery := map[string]int{}
	for i, q := range queries {
		byQuery[q.Query] = i
	}
	tok := ce.Tokenizer()
	cut := func(s string) string {
		return tok.Decode(tok.Encode(strings.TrimSpace(s), opts.MaxSeqLength).IDs, true)
	}
	seen := map[string]bool{}
	for i, ex := range got {
		require.Len(t, ex.Texts, 3, "example %d", i)
		require.Len(t, ex.Labels, 1, "example %d", i)
		qi, ok := byQuery[ex.Texts[0]]
		require.True(t, ok, "example %d: query %q is not a generated query", i, ex.Texts[0])
		assert.Equal(t, gplCorpus[queries[qi].PassageID], ex.Texts[1], "example %d: positive", i)
		var negs []string
		for _, n := range mined[qi].Negatives {
			negs = append(negs, gplCorpus[n.CorpusID])
		}
		assert.Contains(t, negs, ex.Texts[2], "example %d: negative", i)
		assert.NotEqual(t, ex.Texts[1], ex.Texts[2], "example %d", i)
		logits, err := ce.PredictLogits(ctx, [][2]string{{cut(ex.Texts[0]), cut(ex.Texts[1])}})
		require.NoError(t, err)
		pos := logits[0]
		logits, err = ce.PredictLogits(ctx, [][2]string{{cut(ex.Texts[0]), cut(ex.Texts[2])}})
		require.NoError(t, err)
		assert.InDelta(t, float64(pos-logits[0]), ex.Labels[0], 1e-5, "example %d: label", i)
		// A pass is 12 / 4 = 3 batches: each query once.
		if i%12 == 0 {
			seen = map[string]bool{}
		}
		assert.False(t, seen[ex.Texts[0]], "example %d: query %q twice in one pass", i, ex.Texts[0])
		seen[ex.Texts[0]] = true
	}

	again, err := GPLExamples(ctx, queries, gplCorpus, rets, ce, opts)
	require.NoError(t, err)
	assert.Equal(t, got, again, "the same seed gives the same examples")
}

// TestGPLLabelsGolden checks GPLExamples' labeller against the gpl
// fixture's pseudo labels, cross-encoder-tiny's margins CE(q, p⁺) − CE(q, p⁻)
// over (query_i, passage_i) and (query_i, passage_{i+1 mod 6}) scored by
// sentence-transformers: |Δ| <= 1e-5, the cross-encoder's tolerance. With
// GPL's MaxSeqLength 350 the texts go through GPL's retokenization first
// (encode, cut, decode without special tokens): the same tokens for most
// texts, but [UNK] tokens are dropped (HF counts unk among the special
// tokens), so tuples 3 and 4, with [UNK]s, get other labels there, which
// must equal the cross-encoder's margin over the decoded texts.
func TestGPLLabelsGolden(t *testing.T) {
	g := testutil.LoadGolden(t, "gpl")
	want := g.T(t, "margin.label").F32
	var tuples []gplTuple
	g.Decode(t, "tuples", &tuples)
	require.Len(t, want, len(tuples))
	queries, corpus := make([]string, len(tuples)), make([]string, len(tuples))
	for i, tu := range tuples {
		queries[i], corpus[i] = tu.Query, tu.Positive
	}
	for i, tu := range tuples {
		require.Equal(t, corpus[(i+1)%len(corpus)], tu.Negative, "tuple %d: the negative is the next tuple's positive", i)
	}
	for _, maxLen := range []int{0, 350} {
		opts := DefaultGPLOptions()
		opts.MaxSeqLength, opts.EncodeBatch = maxLen, 4
		l := newGPLLabeler(loadCE(t, CrossEncoderOptions{}), opts, queries, corpus)
		for i := range tuples {
			l.want(i, i)
			l.want(i, (i+1)%len(corpus))
			l.want(i, i) // asked twice, scored once
		}
		require.Len(t, l.pending, 2*len(tuples))
		require.NoError(t, l.score(t.Context()))
		tok := l.ce.Tokenizer()
		for i := range tuples {
			got := l.scores[[2]int{i, i}] - l.scores[[2]int{i, (i + 1) % len(corpus)}]
			q, p, n := queries[i], corpus[i], corpus[(i+1)%len(corpus)]
			if maxLen > 0 && slices.Contains(tok.IDs(q+" "+p+" "+n), tok.UnkID()) {
				cut := func(s string) string { return tok.Decode(tok.Encode(s, maxLen).IDs, true) }
				logits, err := l.ce.PredictLogits(t.Context(), [][2]string{{cut(q), cut(p)}, {cut(q), cut(n)}})
				require.NoError(t, err)
				assert.InDelta(t, logits[0]-logits[1], got, ceTol, "MaxSeqLength %d: label %d (texts with [UNK])", maxLen, i)
				assert.Greater(t, math.Abs(float64(want[i]-got)), 1e-3, "MaxSeqLength %d: label %d: dropping [UNK] changed nothing", maxLen, i)
				continue
			}
			assert.InDelta(t, want[i], got, ceTol, "MaxSeqLength %d: label %d", maxLen, i)
		}
	}
}

// TestSampleGPL checks the sampling against GPL's DataLoader over its
// HardNegativeDataset: whole batches only, every pass a permutation of the
// queries, a query without negatives replaced by the next one that has some,
// each negative one of the query's.
func TestSampleGPL(t *testing.T) {
	negs := [][]int{{5, 6}, nil, {7}, nil, nil, {8, 9, 10}, {11}}
	const steps, batch = 5, 3 // 7 queries: 2 batches per pass, one query left out
	draws := sampleGPL(negs, steps, batch, 3)
	require.Len(t, draws, steps*batch)
	subst := map[int]int{0: 0, 1: 2, 2: 2, 3: 5, 4: 5, 5: 5, 6: 6}
	for pass := 0; pass*2*batch < len(draws); pass++ {
		got := map[int]int{}
		for _, d := range draws[pass*2*batch : min((pass+1)*2*batch, len(draws))] {
			got[d.query]++
			assert.Contains(t, negs[d.query], d.neg, "pass %d: negative of query %d", pass, d.query)
		}
		// Each substituted query stands for itself and the empty ones
		// before it: counts bounded by how many map to it.
		for q, n := range got {
			want := 0
			for _, to := range subst {
				if to == q {
					want++
				}
			}
			assert.LessOrEqual(t, n, want, "pass %d: query %d drawn %d times", pass, q, n)
		}
	}
	assert.Equal(t, draws, sampleGPL(negs, steps, batch, 3), "same seed")
	assert.NotEqual(t, draws, sampleGPL(negs, steps, batch, 4), "another seed")
}

func TestGPLExamplesErrors(t *testing.T) {
	rets := []*Model{loadFixture(t, "bert-tiny")}
	ce := loadCE(t, CrossEncoderOptions{})
	small := func(edit func(*GPLOptions)) GPLOptions {
		o := DefaultGPLOptions()
		o.Steps, o.BatchSize = 1, 4
		if edit != nil {
			edit(&o)
		}
		return o
	}
	for _, tc := range []struct {
		name    string
		queries []GeneratedQuery
		corpus  []string
		rets    []*Model
		ce      *CrossEncoder
		opts    GPLOptions
		want    string
	}{
		{"no queries", nil, gplCorpus, rets, ce, small(nil), "no generated queries"},
		{"tiny corpus", []GeneratedQuery{{"q", 0}}, gplCorpus[:1], rets, ce, small(nil), "at least 2"},
		{"no retrievers", gplQueries(), gplCorpus, nil, ce, small(nil), "no retrievers"},
		{"nil retriever", gplQueries(), gplCorpus, []*Model{nil}, ce, small(nil), "retriever 0 is nil"},
		{"no cross-encoder", gplQueries(), gplCorpus, rets, nil, small(nil), "no cross-encoder"},
		{"steps", gplQueries(), gplCorpus, rets, ce, small(func(o *GPLOptions) { o.Steps = 0 }), "Steps must be positive"},
		{"batch", gplQueries(), gplCorpus, rets, ce, small(func(o *GPLOptions) { o.BatchSize = 0 }), "BatchSize must be positive"},
		{"negatives", gplQueries(), gplCorpus, rets, ce, small(func(o *GPLOptions) { o.Negatives = -1 }), "Negatives must be positive"},
		{"max length", gplQueries(), gplCorpus, rets, ce, small(func(o *GPLOptions) { o.MaxSeqLength = -1 }), "MaxSeqLength must not be negative"},
		{"encode batch", gplQueries(), gplCorpus, rets, ce, small(func(o *GPLOptions) { o.EncodeBatch = -1 }), "EncodeBatch must not be negative"},
		{"batch > queries", gplQueries(), gplCorpus, rets, ce, small(func(o *GPLOptions) { o.BatchSize = 13 }), "fewer than a batch of 13"},
		{"empty query", []GeneratedQuery{{"a", 0}, {" ", 1}, {"c", 2}, {"d", 3}}, gplCorpus, rets, ce, small(nil), "generated query 1 is empty"},
		{"passage out of range", []GeneratedQuery{{"a", 0}, {"b", 1}, {"c", 6}, {"d", 3}}, gplCorpus, rets, ce, small(nil), "PassageID 6, outside the corpus of 6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GPLExamples(t.Context(), tc.queries, tc.corpus, tc.rets, tc.ce, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := GPLExamples(ctx, gplQueries(), gplCorpus, rets, ce, small(nil))
		require.ErrorIs(t, err, context.Canceled)
	})
}
