package search

import (
	"sync"
	"sync/atomic"
)

// tileBytes bounds the corpus rows scored against all queries at once, so
// that they stay in the L2 cache while every query passes over them.
const tileBytes = 96 << 10

// run scores the nq row-major queries q against the corpus and returns each
// query's best k hits. Workers take corpus chunks in turn and keep their own
// per-query heaps, merged at the end; since hits are ordered by (score, id)
// the result does not depend on who scored what.
func run(q []float32, nq int, c *Corpus, k int, o options) [][]Hit {
	dim := c.dim
	chunks := (c.n + o.chunk - 1) / o.chunk
	workers := min(o.workers, chunks)
	tile := max(3, tileBytes/(4*dim)/3*3) // whole three-row kernel blocks
	tile = min(tile, o.chunk)
	parts := make([][]best, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			heaps := make([]best, nq)
			for i := range heaps {
				heaps[i] = newBest(k)
			}
			buf := make([]float32, nq*tile)
			for {
				ci := int(next.Add(1)) - 1
				if ci >= chunks {
					break
				}
				lo, hi := ci*o.chunk, min((ci+1)*o.chunk, c.n)
				for t := lo; t < hi; t += tile {
					rows := min(tile, hi-t)
					out := buf[:nq*rows]
					scoreTile(out, q, nq, c.data[t*dim:(t+rows)*dim], rows, dim)
					for i := range heaps {
						heaps[i].offer(out[i*rows:(i+1)*rows], t)
					}
				}
			}
			parts[w] = heaps
		}()
	}
	wg.Wait()

	res := make([][]Hit, nq)
	for i := range res {
		all := make([]Hit, 0, workers*k)
		for _, p := range parts {
			all = append(all, p[i].hits...)
		}
		sortHits(all)
		res[i] = all[:min(k, len(all))]
	}
	return res
}
