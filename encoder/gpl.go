package encoder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/genq-go/genq/search"
)

// GPL's models (UKPLab/gpl's train defaults): the query generator, the
// cross-encoder that labels, and the retrievers that mine hard negatives
// (GPLRetrievers).
const (
	GPLGenerator    = "BeIR/query-gen-msmarco-t5-base-v1"
	GPLCrossEncoder = "cross-encoder/ms-marco-MiniLM-L-6-v2"
)

// GPLRetrievers returns GPL's default retrievers for hard-negative mining,
// msmarco-distilbert-base-v3 and msmarco-MiniLM-L-6-v3, as hub ids.
func GPLRetrievers() []string {
	return []string{"sentence-transformers/msmarco-distilbert-base-v3", "sentence-transformers/msmarco-MiniLM-L-6-v3"}
}

// GPLQueriesPerPassage is GPL's automatic number of generated queries per
// passage for a corpus of corpusSize passages (its queries_per_passage −1):
// enough that queries × passages reach 250K, ⌈250000 / corpusSize⌉, and 3
// for a corpus of 250K / 3 passages or more. It returns 0 for an empty
// corpus.
func GPLQueriesPerPassage(corpusSize int) int {
	switch {
	case corpusSize <= 0:
		return 0
	case corpusSize*3 < 250_000:
		return (250_000 + corpusSize - 1) / corpusSize
	}
	return 3
}

// GeneratedQuery is a query generated from a passage (the caller's query
// generation step, t5.Model.Generate): the query text and the index of its
// passage in the corpus, its one positive.
type GeneratedQuery struct {
	Query     string
	PassageID int
}

// GPLOptions are the settings of GPLExamples. Start from DefaultGPLOptions.
type GPLOptions struct {
	// Steps is the number of training batches to label (GPL's gpl_steps):
	// GPLExamples returns Steps × BatchSize examples.
	Steps int
	// BatchSize is the number of queries per batch (batch_size_gpl); train
	// with the same FitOptions.BatchSize.
	BatchSize int
	// Negatives is how many hard negatives each retriever mines per query
	// (negatives_per_query), from its top Negatives passages with the
	// positive removed. A corpus of n passages takes at most n − 1.
	Negatives int
	// MaxSeqLength caps each text, in cross-encoder tokens with [CLS] and
	// [SEP], before the pair is labelled, by GPL's retokenization: each text
	// is tokenized, cut on its own (not the pair as a whole) and decoded
	// back without special tokens, which, as in GPL, also drops its [UNK]
	// tokens. The examples keep the original texts. 0 labels the texts as
	// they are.
	MaxSeqLength int
	// Seed seeds the query order and the choice of each example's negative.
	Seed uint64
	// EncodeBatch is the batch size of the retrievers' embeddings and the
	// cross-encoder's predictions (0: 32).
	EncodeBatch int
	// Progress, when not nil, is called on the calling goroutine as the
	// work goes on: stage "embed" (texts embedded, over all retrievers),
	// "mine" (queries mined, per retriever) or "label" (examples labelled),
	// with the work done and the total of the stage.
	Progress func(stage string, done, total int)
}

// DefaultGPLOptions returns UKPLab/gpl's defaults: 140,000 batches of 32, 50
// negatives per retriever and query, texts cut at 350 tokens.
func DefaultGPLOptions() GPLOptions {
	return GPLOptions{Steps: 140_000, BatchSize: 32, Negatives: 50, MaxSeqLength: 350}
}

// GPLExamples builds the training data of GPL (Generative Pseudo Labeling,
// Wang et al. 2022) from generated queries, as UKPLab/gpl does between its
// query generation and its training:
//
//  1. hard negatives: each retriever embeds the corpus and the queries, and
//     each query gets the union of the retrievers' top opts.Negatives
//     passages (cosine similarity), its positive removed
//     (search.MineHardNegatives with WithNegatives(n), WithRange(0, n) and
//     WithPositivesCounted());
//  2. sampling: opts.Steps batches of opts.BatchSize queries, the queries
//     shuffled again for every pass over them (the last, partial batch of a
//     pass dropped), each query with its positive and one of its negatives
//     drawn at random; a query that found no negative gives its place to
//     the next query that did, as GPL's HardNegativeDataset does;
//  3. pseudo labels: the cross-encoder's raw logits, label = CE(q, p⁺) −
//     CE(q, p⁻), each text cut at opts.MaxSeqLength tokens first.
//
// Each example is Example{Texts: [query, positive, negative], Labels:
// [margin]}, in batch order; train on them with loss.MarginMSE (dot-product
// scores, GPL's default) and FitOptions.BatchSize = opts.BatchSize (GPL
// trains 1 epoch, unshuffled, 1000 warm-up steps). Query generation is the
// caller's step: GPL generates GPLQueriesPerPassage(len(corpus)) queries per
// passage with GPLGenerator.
//
// Like GPL, a corpus smaller than opts.Negatives + 1 passages mines fewer
// negatives: len(corpus) − 1 per retriever. Errors name bad input: no
// queries, an empty query, a passage index outside the corpus, a corpus of
// fewer than 2 passages, no retrievers or cross-encoder, settings out of
// range, and fewer queries with negatives than a batch needs. Cancelling ctx
// stops the work between batches.
func GPLExamples(ctx context.Context, queries []GeneratedQuery, corpus []string, retrievers []*Model, ce *CrossEncoder, opts GPLOptions) ([]Example, error) {
	if err := checkGPLInput(queries, corpus, retrievers, ce, opts); err != nil {
		return nil, err
	}
	if opts.EncodeBatch == 0 {
		opts.EncodeBatch = 32
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	qtexts := make([]string, len(queries))
	pairs := make([]search.Pair, len(queries))
	for i, q := range queries {
		qtexts[i] = q.Query
		pairs[i] = search.Pair{Query: i, Positive: q.PassageID}
	}

	// 1. Embeddings and mining.
	rets := make([]search.Retriever, len(retrievers))
	total, done := len(retrievers)*(len(corpus)+len(queries)), 0
	for i, m := range retrievers {
		for _, part := range []struct {
			texts []string
			dst   *[][]float32
		}{{corpus, &rets[i].Corpus}, {qtexts, &rets[i].Queries}} {
			emb, err := m.Encode(ctx, part.texts, WithBatchSize(opts.EncodeBatch))
			if err != nil {
				return nil, fmt.Errorf("encoder: GPL: embedding with retriever %d: %w", i, err)
			}
			*part.dst = emb
			done += len(part.texts)
			progress("embed", done, total)
		}
	}
	n := min(opts.Negatives, len(corpus)-1)
	mined, err := search.MineHardNegatives(ctx, pairs, rets, search.WithNegatives(n), search.WithRange(0, n),
		search.WithPositivesCounted(), search.WithProgress(func(d, t int) { progress("mine", d, t) }))
	if err != nil {
		return nil, fmt.Errorf("encoder: GPL: mining hard negatives: %w", err)
	}
	negs := make([][]int, len(queries))
	valid := 0
	for i, m := range mined {
		for _, neg := range m.Negatives {
			negs[i] = append(negs[i], neg.CorpusID)
		}
		if len(negs[i]) > 0 {
			valid++
		}
	}
	if valid < opts.BatchSize {
		return nil, fmt.Errorf("encoder: GPL: %d of the %d queries have hard negatives, fewer than a batch of %d needs; lower BatchSize or generate more queries", valid, len(queries), opts.BatchSize)
	}

	// 2. Sampling: (query, negative) per example.
	draws := sampleGPL(negs, opts.Steps, opts.BatchSize, opts.Seed)

	// 3. Pseudo labels, each (query, positive) pair scored once, each
	// (query, negative) pair once per chunk.
	lab := newGPLLabeler(ce, opts, qtexts, corpus)
	out := make([]Example, len(draws))
	const chunk = 4096
	for start := 0; start < len(draws); start += chunk {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("encoder: GPL: labelling stopped: %w", err)
		}
		part := draws[start:min(start+chunk, len(draws))]
		for _, d := range part {
			lab.want(d.query, queries[d.query].PassageID)
			lab.want(d.query, d.neg)
		}
		if err := lab.score(ctx); err != nil {
			return nil, fmt.Errorf("encoder: GPL: labelling: %w", err)
		}
		for i, d := range part {
			pos := queries[d.query].PassageID
			margin := lab.scores[[2]int{d.query, pos}] - lab.scores[[2]int{d.query, d.neg}]
			out[start+i] = Example{Texts: []string{qtexts[d.query], corpus[pos], corpus[d.neg]}, Labels: []float64{float64(margin)}}
		}
		// A (query, positive) score serves every pass over the queries; a
		// (query, negative) one seldom comes again: memory stays bounded
		// by the queries, not by Steps × BatchSize.
		for _, d := range part {
			delete(lab.scores, [2]int{d.query, d.neg})
		}
		progress("label", start+len(part), len(draws))
	}
	return out, nil
}

// gplDraw is one sampled example: a query and one of its negatives.
type gplDraw struct{ query, neg int }

// sampleGPL draws steps batches of batch examples as GPL's shuffled
// DataLoader over its HardNegativeDataset does: the queries in a new random
// order for every pass (the last, partial batch of a pass dropped), a query
// without negatives replaced by the next one (in query order, wrapping) that
// has some, and one of the query's negatives drawn at random. negs[q] are
// query q's negatives; at least one query must have some.
func sampleGPL(negs [][]int, steps, batch int, seed uint64) []gplDraw {
	draws := make([]gplDraw, 0, steps*batch)
	rng := rand.New(rand.NewPCG(seed, 0x6770_6c5f_7361_6d70))
	perPass := len(negs) / batch
	var perm []int
	for step := range steps {
		if step%perPass == 0 {
			perm = rng.Perm(len(negs))
		}
		for _, q := range perm[step%perPass*batch : (step%perPass+1)*batch] {
			for len(negs[q]) == 0 {
				q = (q + 1) % len(negs)
			}
			draws = append(draws, gplDraw{q, negs[q][rng.IntN(len(negs[q]))]})
		}
	}
	return draws
}

// checkGPLInput returns what is wrong with GPLExamples' arguments.
func checkGPLInput(queries []GeneratedQuery, corpus []string, retrievers []*Model, ce *CrossEncoder, opts GPLOptions) error {
	switch {
	case len(queries) == 0:
		return errors.New("encoder: GPL: no generated queries; generate queries for the corpus first (GPL: GPLQueriesPerPassage per passage)")
	case len(corpus) < 2:
		return fmt.Errorf("encoder: GPL: the corpus has %d passages; hard negatives need at least 2", len(corpus))
	case len(retrievers) == 0:
		return fmt.Errorf("encoder: GPL: no retrievers to mine hard negatives with; load one or more bi-encoders (GPL: %s)", strings.Join(GPLRetrievers(), ", "))
	case ce == nil:
		return fmt.Errorf("encoder: GPL: no cross-encoder to label with; load one with LoadCrossEncoder (GPL: %s)", GPLCrossEncoder)
	case opts.Steps <= 0:
		return fmt.Errorf("encoder: GPL: Steps must be positive, got %d (GPL: 140000)", opts.Steps)
	case opts.BatchSize <= 0:
		return fmt.Errorf("encoder: GPL: BatchSize must be positive, got %d (GPL: 32)", opts.BatchSize)
	case opts.Negatives <= 0:
		return fmt.Errorf("encoder: GPL: Negatives must be positive, got %d (GPL: 50)", opts.Negatives)
	case opts.MaxSeqLength < 0:
		return fmt.Errorf("encoder: GPL: MaxSeqLength must not be negative, got %d (0: no cut; GPL: 350)", opts.MaxSeqLength)
	case opts.EncodeBatch < 0:
		return fmt.Errorf("encoder: GPL: EncodeBatch must not be negative, got %d (0: 32)", opts.EncodeBatch)
	case len(queries) < opts.BatchSize:
		return fmt.Errorf("encoder: GPL: %d generated queries, fewer than a batch of %d; lower BatchSize or generate more queries", len(queries), opts.BatchSize)
	case int64(opts.Steps)*int64(opts.BatchSize) > math.MaxInt32:
		return fmt.Errorf("encoder: GPL: Steps × BatchSize = %d examples is more than this function builds at once (%d); label in several calls", int64(opts.Steps)*int64(opts.BatchSize), math.MaxInt32)
	}
	for i, m := range retrievers {
		if m == nil {
			return fmt.Errorf("encoder: GPL: retriever %d is nil", i)
		}
	}
	for i, q := range queries {
		if strings.TrimSpace(q.Query) == "" {
			return fmt.Errorf("encoder: GPL: generated query %d is empty", i)
		}
		if q.PassageID < 0 || q.PassageID >= len(corpus) {
			return fmt.Errorf("encoder: GPL: generated query %d (%q) has PassageID %d, outside the corpus of %d passages", i, q.Query, q.PassageID, len(corpus))
		}
	}
	return nil
}

// gplLabeler scores (query, passage) pairs with the cross-encoder's logits,
// each pair it holds a score for once, with each text cut at MaxSeqLength
// tokens first.
type gplLabeler struct {
	ce              *CrossEncoder
	opts            GPLOptions
	queries, corpus []string
	cutQ, cutP      map[int]string
	scores          map[[2]int]float32
	pending         [][2]int
}

func newGPLLabeler(ce *CrossEncoder, opts GPLOptions, queries, corpus []string) *gplLabeler {
	return &gplLabeler{ce: ce, opts: opts, queries: queries, corpus: corpus,
		cutQ: map[int]string{}, cutP: map[int]string{}, scores: map[[2]int]float32{}}
}

// want queues the pair (query q, passage p) unless it is scored or queued.
func (l *gplLabeler) want(q, p int) {
	k := [2]int{q, p}
	if _, ok := l.scores[k]; ok {
		return
	}
	l.scores[k] = float32(math.NaN()) // queued
	l.pending = append(l.pending, k)
}

// cut is GPL's retokenization: text truncated to MaxSeqLength tokens and
// decoded back, special tokens dropped.
func (l *gplLabeler) cut(cache map[int]string, texts []string, i int) string {
	if s, ok := cache[i]; ok {
		return s
	}
	s := texts[i]
	if l.opts.MaxSeqLength > 0 {
		tok := l.ce.Tokenizer()
		s = tok.Decode(tok.Encode(strings.TrimSpace(s), l.opts.MaxSeqLength).IDs, true)
	}
	cache[i] = s
	return s
}

// score scores the queued pairs.
func (l *gplLabeler) score(ctx context.Context) error {
	if len(l.pending) == 0 {
		return nil
	}
	pairs := make([][2]string, len(l.pending))
	for i, k := range l.pending {
		pairs[i] = [2]string{l.cut(l.cutQ, l.queries, k[0]), l.cut(l.cutP, l.corpus, k[1])}
	}
	logits, err := l.ce.PredictLogits(ctx, pairs, WithBatchSize(l.opts.EncodeBatch))
	if err != nil {
		return err
	}
	for i, k := range l.pending {
		l.scores[k] = logits[i]
	}
	l.pending = l.pending[:0]
	return nil
}
