package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Pair is a (query, positive passage) training pair, by index: Query
// indexes every Retriever's Queries, Positive its corpus rows.
type Pair struct {
	Query, Positive int
}

// Retriever holds one embedding model's embeddings of the queries and of the
// corpus, which MineHardNegatives searches. Several retrievers (GPL mines
// with msmarco-distilbert-base-v3 and msmarco-MiniLM-L-6-v3) must index the
// same queries and corpus rows; their dimensions may differ.
type Retriever struct {
	// Queries are the query embeddings, indexed by Pair.Query.
	Queries [][]float32
	// Corpus are the passage embeddings, indexed by Pair.Positive and by
	// the mined ids; leave it nil when Index is set. Like TopK, mining copies
	// a chunk of rows at a time, never the whole corpus.
	Corpus [][]float32
	// Index, when not nil, is a prepared corpus searched instead of Corpus;
	// its own Score applies.
	Index *Corpus
	// Score is the similarity for Corpus: Cosine (the zero value, as
	// sentence-transformers' mine_hard_negatives and GPL normalize the
	// embeddings) or Dot.
	Score Score
}

// Negative is one mined hard negative.
type Negative struct {
	// CorpusID is the index of the corpus row.
	CorpusID int
	// Score is its similarity to the query under the retriever that found it.
	Score float32
	// Retriever is the index of that retriever.
	Retriever int
}

// Mined is a pair with its hard negatives.
type Mined struct {
	Pair
	// PositiveScores holds the similarity of the query and the positive
	// under each retriever.
	PositiveScores []float32
	// Negatives holds the negatives of the first retriever, best first,
	// then those of the second that the first did not find, and so on (the
	// union GPL takes). Every pair of a query gets the same negatives.
	Negatives []Negative
}

// MineOption configures MineHardNegatives.
type MineOption func(*mineOptions)

type mineOptions struct {
	negatives          int
	rangeMin, rangeMax int
	maxScore, minScore optional
	absMargin, relMarg optional
	random             bool
	seed               uint64
	positivesCounted   bool
	batch              int
	progress           func(done, total int)
	search             []Option
}

type optional struct {
	v   float64
	set bool
}

// WithNegatives sets how many negatives each retriever contributes per
// query: mine_hard_negatives' num_negatives (default 3).
func WithNegatives(n int) MineOption { return func(o *mineOptions) { o.negatives = n } }

// WithRange sets the window of candidate ranks negatives are taken from:
// mine_hard_negatives' range_min (lo) and range_max (hi). A query's
// candidates are its best hi + P corpus rows (P the most positives any
// query has), less its positives and those the score and margin filters
// remove; negatives come from ranks [lo, hi) of what is left. A hi of 0
// takes the reference's default: lo + negatives + P, or lo + 10·negatives
// + P when a score or margin filter is set, at most the corpus size less P.
func WithRange(lo, hi int) MineOption {
	return func(o *mineOptions) { o.rangeMin, o.rangeMax = lo, hi }
}

// WithPositivesCounted makes a query's candidates its best hi corpus rows
// (WithRange), positives among them, instead of hi + P: GPL's miner takes
// each retriever's top 50 and then removes the positives, so that a query
// whose positive ranks among them keeps 49 candidates.
func WithPositivesCounted() MineOption { return func(o *mineOptions) { o.positivesCounted = true } }

// WithMaxScore leaves out candidates scoring above s (max_score): too
// similar to the query to be safe negatives.
func WithMaxScore(s float64) MineOption {
	return func(o *mineOptions) { o.maxScore = optional{s, true} }
}

// WithMinScore leaves out candidates scoring below s (min_score).
func WithMinScore(s float64) MineOption {
	return func(o *mineOptions) { o.minScore = optional{s, true} }
}

// WithAbsoluteMargin leaves out candidates whose score plus m exceeds the
// positive's (absolute_margin; the deprecated margin): 0 keeps only
// negatives scoring at most the positive's. With several positives the
// lowest positive score counts.
func WithAbsoluteMargin(m float64) MineOption {
	return func(o *mineOptions) { o.absMargin = optional{m, true} }
}

// WithRelativeMargin leaves out candidates scoring above (1 − m) times the
// positive's score (relative_margin): 0.05 keeps negatives at most 95% as
// similar to the query as the positive (NV-Retriever's TopK-PercPos). With
// several positives the lowest positive score counts.
func WithRelativeMargin(m float64) MineOption {
	return func(o *mineOptions) { o.relMarg = optional{m, true} }
}

// WithRandomSampling draws each query's negatives uniformly from its window
// (sampling_strategy="random") instead of taking the best ones ("top", the
// default), and sorts them best first. The draws depend on seed, the query
// and the retriever only, never on batching or workers; they are not
// Python's random module's.
func WithRandomSampling(seed uint64) MineOption {
	return func(o *mineOptions) { o.random, o.seed = true, seed }
}

// WithQueryBatch sets how many queries are scored per pass over the corpus
// (default: up to 1024, fewer when the candidate lists are long, so that
// the per-query candidate heaps stay under 64 MiB). It changes memory use
// and speed, never the result.
func WithQueryBatch(n int) MineOption { return func(o *mineOptions) { o.batch = n } }

// WithProgress has f called on the calling goroutine after every batch of
// queries, with the queries mined so far and the total, both counted once
// per retriever.
func WithProgress(f func(done, total int)) MineOption {
	return func(o *mineOptions) { o.progress = f }
}

// WithSearchOptions passes WithWorkers and WithChunkSize to the searches
// (WithScore does not apply: each Retriever names its score).
func WithSearchOptions(opts ...Option) MineOption {
	return func(o *mineOptions) { o.search = append(o.search, opts...) }
}

// mineHeapBudget bounds the bytes of candidate heaps of one query batch.
const mineHeapBudget = 64 << 20

// MineHardNegatives finds hard negatives for (query, positive) pairs, as
// sentence-transformers' util.mine_hard_negatives does with embeddings
// given instead of a model: for every query, the best-scoring corpus rows
// of each retriever with the query's positives (all pairs with that query)
// removed, filtered and windowed by the options, the best
// WithNegatives(n) of them taken (or n drawn at random). With several
// retrievers each contributes its own negatives, and the union is kept, as
// GPL does; GPL's own mining is WithNegatives(50), WithRange(0, 50) and
// WithPositivesCounted() with its two retrievers. Results come one per
// pair, in the order of pairs (the reference groups its rows by query: the
// same order when each query's pairs are adjacent).
//
// Errors name what is wrong: no pairs or retrievers, an index outside the
// embeddings, dimensions that differ between queries and corpus, retrievers
// that embed different numbers of queries or rows, non-finite values, and a
// corpus with fewer rows than a query's candidates (k) need.
//
// Differences from the reference: corpus rows are ids, so duplicate
// passages are not merged (a duplicate of a positive can be mined); equal
// scores rank by lower corpus id; with several positives the margins use
// the lowest positive score of the query (the reference means to, but a
// bookkeeping slip there can pick another query's); and a cross-encoder
// rescoring step is left to the caller.
//
// The corpus is scored in blocks of queries against cache-sized chunks of
// rows (TopK's machinery), each query keeping its candidates in a heap, so
// memory beyond the embeddings is bounded by the batch, not by the corpus
// size. Mining stops with ctx's error when ctx is done.
func MineHardNegatives(ctx context.Context, pairs []Pair, retrievers []Retriever, opts ...MineOption) ([]Mined, error) {
	o, err := buildMineOptions(opts)
	if err != nil {
		return nil, err
	}
	so, err := buildOptions(o.search)
	if err != nil {
		return nil, err
	}
	srcs, err := mineSources(retrievers)
	if err != nil {
		return nil, err
	}
	g, err := groupPairs(pairs, len(retrievers[0].Queries), srcs[0].n)
	if err != nil {
		return nil, err
	}
	k, err := o.candidates(g.maxPositives, srcs[0].n)
	if err != nil {
		return nil, err
	}
	batch := o.batch
	if batch == 0 {
		batch = min(1024, max(1, mineHeapBudget/(2*so.workers*k*16)))
	}
	total := len(g.queries) * len(retrievers)
	negs := make([][][]Hit, len(retrievers)) // [retriever][unique query]
	posScores := make([][]float32, len(retrievers))
	done := 0
	for ri, src := range srcs {
		if err := checkQueries(ri, retrievers[ri].Queries, g.queries, src.dim); err != nil {
			return nil, err
		}
		negs[ri] = make([][]Hit, len(g.queries))
		posScores[ri] = make([]float32, len(pairs))
		for b := 0; b < len(g.queries); b += batch {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("search: mining stopped: %w", err)
			}
			ids := g.queries[b:min(b+batch, len(g.queries))]
			rows := make([][]float32, len(ids))
			for i, qi := range ids {
				rows[i] = retrievers[ri].Queries[qi]
			}
			q, dim, err := pack("query", rows, src.score == Cosine)
			if err != nil {
				return nil, err
			}
			hits, err := run(ctx, q, len(ids), src, k, so)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("search: mining stopped: %w", err)
				}
				return nil, err
			}
			for i := range ids {
				u := b + i
				qv := q[i*dim : (i+1)*dim]
				minPos := float32(math.Inf(1))
				for _, pi := range g.pairsOf[u] {
					s := src.score1(qv, pairs[pi].Positive)
					posScores[ri][pi] = s
					minPos = min(minPos, s)
				}
				var rng *rand.Rand
				if o.random {
					rng = rand.New(rand.NewPCG(o.seed, uint64(ids[i])*uint64(len(srcs))+uint64(ri)))
				}
				negs[ri][u] = o.selectNegatives(hits[i], g.positives[u], minPos, rng)
			}
			done += len(ids)
			if o.progress != nil {
				o.progress(done, total)
			}
		}
	}
	return assemble(pairs, g, negs, posScores), nil
}

func buildMineOptions(opts []MineOption) (mineOptions, error) {
	o := mineOptions{negatives: 3}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	switch {
	case o.negatives < 1:
		return o, fmt.Errorf("search: %d negatives per query; ask for at least one (WithNegatives)", o.negatives)
	case o.rangeMin < 0:
		return o, fmt.Errorf("search: range min %d is negative (WithRange)", o.rangeMin)
	case o.rangeMax < 0:
		return o, fmt.Errorf("search: range max %d is negative; use 0 for the default (WithRange)", o.rangeMax)
	case o.rangeMax > 0 && o.rangeMax-o.rangeMin < o.negatives:
		return o, fmt.Errorf("search: the rank window [%d, %d) holds fewer than the %d negatives asked for; widen WithRange or lower WithNegatives",
			o.rangeMin, o.rangeMax, o.negatives)
	case o.batch < 0:
		return o, fmt.Errorf("search: query batch %d must be > 0 (WithQueryBatch)", o.batch)
	}
	for _, f := range []struct {
		name string
		v    optional
	}{{"max score", o.maxScore}, {"min score", o.minScore}, {"absolute margin", o.absMargin}, {"relative margin", o.relMarg}} {
		if f.v.set && (math.IsNaN(f.v.v) || math.IsInf(f.v.v, 0)) {
			return o, fmt.Errorf("search: %s is %v; give a finite number", f.name, f.v.v)
		}
	}
	return o, nil
}

// filtered reports whether a score or margin filter is set.
func (o *mineOptions) filtered() bool {
	return o.maxScore.set || o.minScore.set || o.absMargin.set || o.relMarg.set
}

// candidates returns how many best corpus rows each query keeps before
// positives are removed and filters applied: range max + maxPositives, as
// the reference's torch.topk does. It fails when a corpus of n rows cannot
// hold that many, or the window and negatives of a query with maxPositives
// positives.
func (o *mineOptions) candidates(maxPositives, n int) (int, error) {
	if need := o.rangeMin + o.negatives + maxPositives; need > n {
		return 0, fmt.Errorf("search: the corpus has %d rows, fewer than the %d negatives after rank %d plus the %d positives a query has (k = %d); lower WithNegatives or WithRange's min, or mine a larger corpus",
			n, o.negatives, o.rangeMin, maxPositives, need)
	}
	if o.rangeMax == 0 {
		o.rangeMax = o.rangeMin + o.negatives + maxPositives
		if o.filtered() {
			o.rangeMax = o.rangeMin + 10*o.negatives + maxPositives
		}
		o.rangeMax = min(o.rangeMax, n-maxPositives)
	}
	if k := o.rangeMax + maxPositives; k > n {
		return 0, fmt.Errorf("search: the corpus has %d rows, fewer than range max %d plus the %d positives a query has (k = %d); lower WithRange's max to at most %d",
			n, o.rangeMax, maxPositives, k, n-maxPositives)
	}
	if o.positivesCounted {
		return o.rangeMax, nil
	}
	return o.rangeMax + maxPositives, nil
}

// selectNegatives picks a query's negatives from its candidates (best
// first): positives and filtered candidates removed, ranks [range min,
// range max) of the rest, the best n or n drawn at random, best first.
func (o *mineOptions) selectNegatives(cands []Hit, positives []int, minPos float32, rng *rand.Rand) []Hit {
	abs, rel := float32(o.absMargin.v), minPos*float32(1-o.relMarg.v)
	hi, lo := float32(o.maxScore.v), float32(o.minScore.v)
	kept := make([]Hit, 0, len(cands))
	for _, h := range cands {
		s := h.Score
		switch {
		case slices.Contains(positives, h.CorpusID),
			o.absMargin.set && s+abs > minPos,
			o.relMarg.set && s > rel,
			o.maxScore.set && s > hi,
			o.minScore.set && s < lo:
			continue
		}
		kept = append(kept, h)
	}
	win := kept[:min(len(kept), o.rangeMax)]
	win = win[min(len(win), o.rangeMin):]
	if o.random && len(win) > o.negatives {
		// A partial Fisher–Yates shuffle draws n distinct candidates.
		for i := range o.negatives {
			j := i + rng.IntN(len(win)-i)
			win[i], win[j] = win[j], win[i]
		}
		sortHits(win[:o.negatives])
	}
	return slices.Clone(win[:min(len(win), o.negatives)]) // not the candidates' array
}

// mineSources checks the retrievers and returns their corpus sources.
func mineSources(retrievers []Retriever) ([]*source, error) {
	if len(retrievers) == 0 {
		return nil, errors.New("search: no retrievers given; pass the query and corpus embeddings of at least one model")
	}
	srcs := make([]*source, len(retrievers))
	for i, r := range retrievers {
		what := fmt.Sprintf("retriever %d: ", i)
		if len(r.Queries) == 0 {
			return nil, errors.New("search: " + what + "no query embeddings given")
		}
		switch {
		case r.Index != nil && r.Corpus != nil:
			return nil, errors.New("search: " + what + "both Corpus and Index are set; give one")
		case r.Index != nil:
			if r.Index.n == 0 {
				return nil, errors.New("search: " + what + "the corpus is empty")
			}
			srcs[i] = &source{n: r.Index.n, dim: r.Index.dim, score: r.Index.score, data: r.Index.data}
		default:
			if r.Score != Cosine && r.Score != Dot {
				return nil, fmt.Errorf("search: %sunknown score %v; use search.Cosine or search.Dot", what, r.Score)
			}
			dim, err := checkShape("corpus", r.Corpus)
			if err != nil {
				return nil, fmt.Errorf("%w (retriever %d)", err, i)
			}
			srcs[i] = &source{n: len(r.Corpus), dim: dim, score: r.Score, rows: r.Corpus}
		}
		if i == 0 {
			continue
		}
		if nq, nq0 := len(r.Queries), len(retrievers[0].Queries); nq != nq0 {
			return nil, fmt.Errorf("search: retriever %d has %d query embeddings but retriever 0 has %d; every retriever must embed the same queries", i, nq, nq0)
		}
		if n, n0 := srcs[i].n, srcs[0].n; n != n0 {
			return nil, fmt.Errorf("search: retriever %d has %d corpus rows but retriever 0 has %d; every retriever must embed the same corpus", i, n, n0)
		}
	}
	return srcs, nil
}

// checkQueries checks that the mined queries of retriever ri have the
// corpus's dimension and finite values.
func checkQueries(ri int, queries [][]float32, ids []int, dim int) error {
	for _, qi := range ids {
		q := queries[qi]
		if len(q) != dim {
			return fmt.Errorf("search: retriever %d: query %d has dimension %d but the corpus has %d (embeddings from different models?)", ri, qi, len(q), dim)
		}
		if j := nonFinite(q); j >= 0 {
			return fmt.Errorf("search: retriever %d: query %d holds %v at dimension %d", ri, qi, q[j], j)
		}
	}
	return nil
}

// score1 returns the score of the packed (normalized for cosine) query q
// and corpus row id.
func (s *source) score1(q []float32, id int) float32 {
	if s.data != nil {
		return dot(q, s.data[id*s.dim:(id+1)*s.dim])
	}
	row := s.rows[id]
	if s.score == Cosine {
		row = slices.Clone(row)
		normalizeRow(row)
	}
	return dot(q, row)
}

// pairGroups are the pairs grouped by query.
type pairGroups struct {
	queries      []int   // the distinct queries, in order of first appearance
	slot         []int   // slot[p]: the index in queries of pair p's query
	pairsOf      [][]int // the pairs of each distinct query
	positives    [][]int // the distinct positives of each distinct query
	maxPositives int
}

// groupPairs checks the pairs' indices against nq queries and n corpus rows
// and groups them by query.
func groupPairs(pairs []Pair, nq, n int) (pairGroups, error) {
	if len(pairs) == 0 {
		return pairGroups{}, errors.New("search: no (query, positive) pairs given")
	}
	g := pairGroups{slot: make([]int, len(pairs))}
	slotOf := make(map[int]int)
	for pi, p := range pairs {
		if p.Query < 0 || p.Query >= nq {
			return g, fmt.Errorf("search: pair %d names query %d, outside the %d query embeddings", pi, p.Query, nq)
		}
		if p.Positive < 0 || p.Positive >= n {
			return g, fmt.Errorf("search: pair %d names positive %d, outside the %d corpus rows", pi, p.Positive, n)
		}
		u, ok := slotOf[p.Query]
		if !ok {
			u = len(g.queries)
			slotOf[p.Query] = u
			g.queries = append(g.queries, p.Query)
			g.pairsOf = append(g.pairsOf, nil)
			g.positives = append(g.positives, nil)
		}
		g.slot[pi] = u
		g.pairsOf[u] = append(g.pairsOf[u], pi)
		if !slices.Contains(g.positives[u], p.Positive) {
			g.positives[u] = append(g.positives[u], p.Positive)
			g.maxPositives = max(g.maxPositives, len(g.positives[u]))
		}
	}
	return g, nil
}

// assemble builds the result of every pair from each retriever's negatives
// per distinct query, keeping the first retriever's copy of a corpus row
// that several found.
func assemble(pairs []Pair, g pairGroups, negs [][][]Hit, posScores [][]float32) []Mined {
	perQuery := make([][]Negative, len(g.queries))
	seen := make(map[int]bool)
	for u := range perQuery {
		var all []Negative
		clear(seen)
		for ri := range negs {
			for _, h := range negs[ri][u] {
				if !seen[h.CorpusID] {
					seen[h.CorpusID] = true
					all = append(all, Negative{CorpusID: h.CorpusID, Score: h.Score, Retriever: ri})
				}
			}
		}
		perQuery[u] = all
	}
	out := make([]Mined, len(pairs))
	for pi, p := range pairs {
		ps := make([]float32, len(posScores))
		for ri := range posScores {
			ps[ri] = posScores[ri][pi]
		}
		out[pi] = Mined{Pair: p, PositiveScores: ps, Negatives: perQuery[g.slot[pi]]}
	}
	return out
}

// Triplets returns one (query, positive, negative) index triplet per mined
// negative, pair by pair: mine_hard_negatives' output_format="triplet".
func Triplets(mined []Mined) [][3]int {
	var out [][3]int
	for _, m := range mined {
		for _, n := range m.Negatives {
			out = append(out, [3]int{m.Query, m.Positive, n.CorpusID})
		}
	}
	return out
}

// Tuples returns (query, positive, negative 1, ..., negative n) index rows,
// the first n negatives of each pair, leaving out the pairs with fewer:
// mine_hard_negatives' output_format="n-tuple".
func Tuples(mined []Mined, n int) [][]int {
	var out [][]int
	for _, m := range mined {
		if len(m.Negatives) < n || n < 0 {
			continue
		}
		row := make([]int, 2, 2+n)
		row[0], row[1] = m.Query, m.Positive
		for _, neg := range m.Negatives[:n] {
			row = append(row, neg.CorpusID)
		}
		out = append(out, row)
	}
	return out
}
