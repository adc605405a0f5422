package search

import (
	"fmt"
	"runtime"
)

// Score selects the similarity function.
type Score int

const (
	// Cosine is cosine similarity, sentence-transformers' util.cos_sim: both
	// sides are divided by max(‖x‖₂, 1e-12) before the dot product.
	Cosine Score = iota
	// Dot is the plain dot product, util.dot_score.
	Dot
)

// String returns "cosine" or "dot".
func (s Score) String() string {
	switch s {
	case Cosine:
		return "cosine"
	case Dot:
		return "dot"
	}
	return fmt.Sprintf("Score(%d)", int(s))
}

// Option configures TopK and Corpus.Search.
type Option func(*options)

type options struct {
	score    Score
	scoreSet bool
	chunk    int
	workers  int
}

// DefaultChunkSize is the most corpus rows a goroutine takes at a time:
// 3 MB of float32 rows of dimension 768, scored into a 400 KB block of
// scores for 100 queries. A search shrinks it so that every worker gets the
// same number of chunks.
const DefaultChunkSize = 1024

// WithScore selects the similarity function of TopK (default Cosine). A
// Corpus fixes its score when it is built; Search fails if WithScore asks for
// another.
func WithScore(s Score) Option { return func(o *options) { o.score, o.scoreSet = s, true } }

// WithChunkSize sets the most corpus rows a goroutine scores as one unit of
// work (default DefaultChunkSize). It changes speed, never the result.
func WithChunkSize(rows int) Option { return func(o *options) { o.chunk = rows } }

// WithWorkers sets how many goroutines score the corpus (default
// runtime.GOMAXPROCS(0)). It changes speed, never the result.
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

func buildOptions(opts []Option) (options, error) {
	o := options{score: Cosine, chunk: DefaultChunkSize, workers: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.score != Cosine && o.score != Dot {
		return o, fmt.Errorf("search: unknown score %v; use search.Cosine or search.Dot", o.score)
	}
	if o.chunk <= 0 {
		return o, fmt.Errorf("search: chunk size %d must be > 0", o.chunk)
	}
	if o.workers <= 0 {
		return o, fmt.Errorf("search: %d workers; it must be > 0", o.workers)
	}
	return o, nil
}
