package search

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/genq-go/genq/internal/kernel"
)

// Batches of at least gemmMinQueries queries are scored by matrix products
// (gemm.Sgemm), queryBlock queries against a chunk of corpus rows at a time
// (which bounds a worker's score buffer to queryBlock × chunk floats).
// Smaller batches are scored by scoreTile, tiles of tileBytes of corpus
// rows against all queries: with few queries a search is bound by reading
// the corpus, and scoreTile reads it once where Sgemm first packs it.
// BenchmarkBatchSize measures both paths: on 2 cores of an AVX2 Zen 3 the
// small-batch kernel is ahead by ~10% at 64 queries, even at 100, and
// behind at 256; where Sgemm runs its AVX-512 kernel (2 cores of a Xeon)
// they cross between 4 and 16 queries, and gemm is 1.5× ahead at 100.
var gemmMinQueries = minQueriesFor(gemm.KernelName())

func minQueriesFor(gemmKernel string) int {
	if gemmKernel == "avx512-12x32" {
		return 16
	}
	return 96
}

const (
	queryBlock = 256
	tileBytes  = 96 << 10
)

// search packs the queries (normalized for cosine scores) and runs the
// search over src.
func search(queries [][]float32, src *source, k int, o options) ([][]Hit, error) {
	q, dim, err := pack("query", queries, src.score == Cosine)
	if err != nil {
		return nil, err
	}
	if dim != src.dim {
		return nil, fmt.Errorf("search: queries have dimension %d but the corpus has %d (embeddings from different models?)", dim, src.dim)
	}
	return run(context.Background(), q, len(queries), src, k, o)
}

// run scores the nq row-major queries q against the corpus rows of src and
// returns each query's best k hits. Workers take chunks of corpus rows in
// turn, score them against the queries (see gemmMinQueries) into a buffer
// that stays in cache, and offer every query's row of scores to that
// query's heap. The heaps of the workers are merged at the end. Hits are
// ordered by (score, id), and each scoring path sums every score in one
// order wherever it falls in a chunk or tile, so the result does not depend
// on the number of workers or the chunk size. Workers stop taking chunks
// once ctx is done, and run returns ctx's error.
func run(ctx context.Context, q []float32, nq int, src *source, k int, o options) ([][]Hit, error) {
	dim := src.dim
	chunk := chunkRows(src.n, o.chunk, o.workers)
	chunks := (src.n + chunk - 1) / chunk
	workers := min(o.workers, chunks)
	useGemm := nq >= gemmMinQueries
	qb, tile := min(nq, queryBlock), chunk
	if !useGemm {
		qb, tile = nq, min(chunk, max(3, tileBytes/(4*dim)/3*3)) // whole three-row kernel blocks
	}

	// Each worker has its heaps and buffers; workers take chunks in turn.
	type state struct {
		heaps      []best
		scores     []float32
		buf, scale []float32
	}
	states := make([]state, workers)
	errs := make([]error, workers)
	var failed atomic.Bool
	kernel.ForEachOn(workers, chunks, func(w, ci int) {
		if failed.Load() {
			return
		}
		if ctx.Err() != nil {
			failed.Store(true)
			return
		}
		defer func() {
			if p := recover(); p != nil { // a bug: gemm panics only on bad arguments
				errs[w] = fmt.Errorf("search: internal error scoring the corpus: %v", p)
				failed.Store(true)
			}
		}()
		st := &states[w]
		if st.heaps == nil {
			st.heaps = make([]best, nq)
			for i := range st.heaps {
				st.heaps[i] = newBest(k)
			}
			st.scores = make([]float32, qb*tile)
			if src.data == nil {
				st.buf, st.scale = make([]float32, chunk*dim), make([]float32, chunk)
			}
		}
		lo, hi := ci*chunk, min((ci+1)*chunk, src.n)
		ch, err := src.chunk(lo, hi, st.buf, st.scale)
		if err != nil {
			errs[w] = err
			failed.Store(true)
			return
		}
		for t := 0; t < hi-lo; t += tile {
			rows := min(tile, hi-lo-t)
			block := ch.block[t*dim : (t+rows)*dim]
			var sc []float32
			if ch.scale != nil {
				sc = ch.scale[t : t+rows]
			}
			for q0 := 0; q0 < nq; q0 += qb {
				m := min(qb, nq-q0)
				out := st.scores[:m*rows]
				if useGemm {
					gemm.Sgemm(false, true, m, rows, dim, 1, q[q0*dim:(q0+m)*dim], dim, block, dim, 0, out, rows)
				} else {
					scoreTile(out, q[q0*dim:(q0+m)*dim], m, block, rows, dim)
				}
				for i := range m {
					h := &st.heaps[q0+i]
					if s := out[i*rows : (i+1)*rows]; sc != nil {
						h.offerScaled(s, sc, lo+t)
					} else {
						h.offer(s, lo+t)
					}
				}
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if failed.Load() {
		return nil, firstError(src, errs)
	}

	res := make([][]Hit, nq)
	for i := range res {
		all := make([]Hit, 0, workers*k)
		for _, st := range states {
			if st.heaps != nil {
				all = append(all, st.heaps[i].Items()...)
			}
		}
		sortHits(all)
		res[i] = all[:min(k, len(all))]
	}
	return res, nil
}

// chunkRows is the number of corpus rows per unit of work: at most want, and
// small enough that every worker gets the same number of chunks.
func chunkRows(n, want, workers int) int {
	rounds := (n + want*workers - 1) / (want * workers)
	per := rounds * workers
	return max(1, (n+per-1)/per)
}

// firstError returns the error a failed search reports: the first
// non-finite corpus value, whichever worker met a bad row first, else a
// worker's error.
func firstError(src *source, errs []error) error {
	if src.data == nil {
		for i, row := range src.rows {
			if j := nonFinite(row); j >= 0 {
				return errNonFinite("corpus", i, j, row[j])
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("search: internal error: a worker failed without an error")
}
