package search

import (
	"errors"
	"fmt"
	"sync"

	"github.com/genq-go/genq/internal/kernel"
)

// normEps is torch.nn.functional.normalize's default eps: vectors are divided
// by max(‖x‖₂, eps).
const normEps = 1e-12

// Corpus is a set of embeddings prepared once and searched many times: rows
// copied into one contiguous block and, for cosine scores, normalized.
type Corpus struct {
	data  []float32 // n × dim, row-major
	n     int
	dim   int
	score Score
}

// NewCorpus copies emb into a Corpus. With normalize true, every row is
// divided by max(‖row‖₂, 1e-12) and Search scores by cosine similarity
// (normalizing the queries too); with normalize false, Search scores by the
// plain dot product. Rows must all have the same, non-zero length and hold
// finite values.
func NewCorpus(emb [][]float32, normalize bool) (*Corpus, error) {
	data, dim, err := pack("corpus", emb, normalize)
	if err != nil {
		return nil, err
	}
	score := Dot
	if normalize {
		score = Cosine
	}
	return &Corpus{data: data, n: len(emb), dim: dim, score: score}, nil
}

// Len returns the number of corpus rows.
func (c *Corpus) Len() int { return c.n }

// Dim returns the embedding dimension.
func (c *Corpus) Dim() int { return c.dim }

// Score returns the similarity Search uses: Cosine for a normalized corpus,
// Dot otherwise.
func (c *Corpus) Score() Score { return c.score }

// Row returns corpus row i as stored (normalized for a cosine corpus). The
// slice aliases the corpus; do not modify it.
func (c *Corpus) Row(i int) []float32 { return c.data[i*c.dim : (i+1)*c.dim : (i+1)*c.dim] }

// Search returns, for each query, the best min(k, Len()) hits, best first.
// Queries are normalized first when the corpus is a cosine corpus.
// WithWorkers and WithChunkSize apply; WithScore must agree with Score().
func (c *Corpus) Search(queries [][]float32, k int, opts ...Option) ([][]Hit, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.scoreSet && o.score != c.score {
		return nil, fmt.Errorf("search: the corpus was prepared for %v scores (NewCorpus normalize=%v) but the search asks for %v; build the corpus with normalize=%v",
			c.score, c.score == Cosine, o.score, o.score == Cosine)
	}
	if k <= 0 {
		return nil, errK(k)
	}
	if len(queries) == 0 {
		return nil, errNoQueries
	}
	if c.n == 0 {
		return nil, fmt.Errorf("search: the corpus is empty")
	}
	src := &source{n: c.n, dim: c.dim, score: c.score, data: c.data}
	return search(queries, src, min(k, c.n), o)
}

var errNoQueries = errors.New("search: no query embeddings given")

func errK(k int) error { return fmt.Errorf("search: k is %d; ask for at least one hit", k) }

// pack copies rows into one row-major block, checking that they are
// non-empty, of equal length and finite, and with normalize divides each by
// max(‖row‖₂, 1e-12). Large inputs are split over GOMAXPROCS goroutines.
func pack(what string, rows [][]float32, normalize bool) ([]float32, int, error) {
	dim, err := checkShape(what, rows)
	if err != nil {
		return nil, 0, err
	}
	data := make([]float32, len(rows)*dim)
	var mu sync.Mutex
	bad := -1 // the first non-finite element
	kernel.ParallelFor(len(rows), max(1, (1<<16)/dim), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := data[i*dim : (i+1)*dim]
			copy(row, rows[i])
			if j := nonFinite(row); j >= 0 {
				mu.Lock()
				if bad < 0 || i*dim+j < bad {
					bad = i*dim + j
				}
				mu.Unlock()
				return
			}
			if normalize {
				normalizeRow(row)
			}
		}
	})
	if bad >= 0 {
		return nil, 0, errNonFinite(what, bad/dim, bad%dim, data[bad])
	}
	return data, dim, nil
}

// normalizeRows divides every row of a row-major block by max(‖row‖₂,
// 1e-12) in float32, as torch.nn.functional.normalize does.
func normalizeRows(data []float32, dim int) { kernel.L2Normalize(data, data, dim) }

// normalizeRow is normalizeRows of one row.
func normalizeRow(row []float32) { kernel.L2Normalize(row, row, len(row)) }
