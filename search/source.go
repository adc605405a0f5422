package search

import (
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/kernel"
)

// source is where a search reads corpus rows from: the contiguous block of a
// Corpus, or the caller's rows in TopK, copied a chunk at a time into a
// worker's buffer, so that the whole corpus is never copied at once.
type source struct {
	n, dim int
	score  Score       // Cosine: queries and rows are scored normalized
	data   []float32   // n × dim, row-major and ready to score (a Corpus); or nil
	rows   [][]float32 // the caller's rows when data is nil
}

// chunk is a block of corpus rows ready for scoring.
type chunk struct {
	block []float32 // rows × dim, row-major
	// scale, when not nil, holds for each row the factor its scores take:
	// 1/max(‖row‖₂, 1e-12) for cosine scores of rows copied unnormalized.
	scale []float32
}

// chunk returns rows [lo, hi) of the corpus ready to be scored: a view of a
// Corpus, or rows copied into buf (which must hold (hi-lo)·dim floats) with,
// for cosine scores, their reciprocal norms in scale (hi-lo floats). Scaling
// the scores instead of the rows costs one product per query and row instead
// of one division per element. It fails on the first row holding NaN or ±Inf.
func (s *source) chunk(lo, hi int, buf, scale []float32) (chunk, error) {
	if s.data != nil {
		return chunk{block: s.data[lo*s.dim : hi*s.dim]}, nil
	}
	dim := s.dim
	cosine := s.score == Cosine
	buf, scale = buf[:(hi-lo)*dim], scale[:hi-lo]
	for r := range scale {
		row := buf[r*dim : (r+1)*dim]
		copy(row, s.rows[lo+r])
		// One pass both measures the row and checks it: a float64 sum of
		// squares of float32 values cannot overflow, so it is finite exactly
		// when every value is.
		ss := kernel.SumSquares(row)
		if math.IsNaN(ss) || math.IsInf(ss, 0) {
			j := nonFinite(row)
			return chunk{}, errNonFinite("corpus", lo+r, j, row[j])
		}
		if !cosine {
			continue
		}
		d := max(float32(math.Sqrt(ss)), normEps)
		if d > maxScaledNorm {
			// The reciprocal of such a norm loses precision (it is a
			// subnormal float32 past 8.5e37) and raw scores near float32's
			// range could overflow: normalize the row itself.
			for j := range row {
				row[j] /= d
			}
			d = 1
		}
		scale[r] = 1 / d
	}
	if !cosine {
		return chunk{block: buf}, nil
	}
	return chunk{block: buf, scale: scale}, nil
}

// maxScaledNorm is the largest row norm TopK scales scores by: its
// reciprocal is a normal float32, and raw dot products with a unit query (at
// most the norm, by Cauchy–Schwarz) stay far from float32's overflow.
const maxScaledNorm = 1e30

// nonFinite returns the index of the first NaN or ±Inf in row, or -1.
func nonFinite(row []float32) int {
	for j, x := range row {
		if x-x != 0 {
			return j
		}
	}
	return -1
}

func errNonFinite(what string, row, col int, x float32) error {
	return fmt.Errorf("search: %s %d holds %v at dimension %d", what, row, x, col)
}

// checkShape checks that rows is non-empty and that its rows all have the
// same, non-zero length, which it returns.
func checkShape(what string, rows [][]float32) (int, error) {
	if len(rows) == 0 {
		return 0, fmt.Errorf("search: no %s embeddings given", what)
	}
	dim := len(rows[0])
	if dim == 0 {
		return 0, fmt.Errorf("search: %s 0 is an empty vector", what)
	}
	for i, r := range rows {
		if len(r) != dim {
			return 0, fmt.Errorf("search: %s %d has %d dimensions but %s 0 has %d (ragged embeddings)", what, i, len(r), what, dim)
		}
	}
	return dim, nil
}
