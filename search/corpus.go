package search

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
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
	q, dim, err := pack("query", queries, c.score == Cosine)
	if err != nil {
		return nil, err
	}
	if dim != c.dim {
		return nil, fmt.Errorf("search: queries have dimension %d but the corpus has %d (embeddings from different models?)", dim, c.dim)
	}
	return run(q, len(queries), c, min(k, c.n), o), nil
}

var errNoQueries = errors.New("search: no query embeddings given")

func errK(k int) error { return fmt.Errorf("search: k is %d; ask for at least one hit", k) }

// pack copies rows into one row-major block, checking that they are
// non-empty, of equal length and finite, and with normalize divides each by
// max(‖row‖₂, 1e-12). Large inputs are split over GOMAXPROCS goroutines.
func pack(what string, rows [][]float32, normalize bool) ([]float32, int, error) {
	if len(rows) == 0 {
		return nil, 0, fmt.Errorf("search: no %s embeddings given", what)
	}
	dim := len(rows[0])
	if dim == 0 {
		return nil, 0, fmt.Errorf("search: %s 0 is an empty vector", what)
	}
	for i, r := range rows {
		if len(r) != dim {
			return nil, 0, fmt.Errorf("search: %s %d has %d dimensions but %s 0 has %d (ragged embeddings)", what, i, len(r), what, dim)
		}
	}
	data := make([]float32, len(rows)*dim)
	parts := min(runtime.GOMAXPROCS(0), max(1, len(data)>>16))
	bad := make([]int, parts) // first non-finite element of each part, or -1
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(rows)/parts, (p+1)*len(rows)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			bad[p] = -1
			for i := lo; i < hi; i++ {
				row := data[i*dim : (i+1)*dim]
				copy(row, rows[i])
				for j, x := range row {
					if x-x != 0 { // NaN or ±Inf
						bad[p] = i*dim + j
						return
					}
				}
				if normalize {
					normalizeRow(row)
				}
			}
		}()
	}
	wg.Wait()
	for _, b := range bad {
		if b >= 0 {
			return nil, 0, fmt.Errorf("search: %s %d holds %v at dimension %d", what, b/dim, data[b], b%dim)
		}
	}
	return data, dim, nil
}

// normalizeRows divides every row of a row-major block by its norm.
func normalizeRows(data []float32, dim int) {
	for off := 0; off < len(data); off += dim {
		normalizeRow(data[off : off+dim])
	}
}

// normalizeRow divides row by max(‖row‖₂, 1e-12) in float32, as
// torch.nn.functional.normalize; the norm is accumulated in float64 and
// rounded to float32.
func normalizeRow(row []float32) {
	var ss float64
	for _, x := range row {
		ss += float64(x) * float64(x)
	}
	d := max(float32(math.Sqrt(ss)), normEps)
	for j := range row {
		row[j] /= d
	}
}
