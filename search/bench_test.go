package search

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/stretchr/testify/require"
)

// randomRows returns n standard-normal rows of length dim.
func randomRows(r *rand.Rand, n, dim int) [][]float32 {
	block := make([]float32, n*dim)
	for i := range block {
		block[i] = float32(r.NormFloat64())
	}
	return split(block, dim)
}

// split cuts a row-major block into rows of length dim.
func split(block []float32, dim int) [][]float32 {
	rows := make([][]float32, len(block)/dim)
	for i := range rows {
		rows[i] = block[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return rows
}

// reportQueries reports the throughput of a benchmark that searches nq
// queries per op against n corpus rows of length dim: queries/s, and the
// GFLOP/s of the 2·nq·n·dim multiply-adds of the scores.
func reportQueries(b *testing.B, nq, n, dim int) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*nq)/s, "queries/s")
	b.ReportMetric(2*float64(nq)*float64(n)*float64(dim)*float64(b.N)/s/1e9, "GFLOP/s")
}

// BenchmarkTopK100x100k is workload P4 of shared/reference/bench_hf.py:
// util.semantic_search of 100 queries against a 100,000 × 768 corpus, top 10,
// cosine (the corpus given as rows, as the reference takes a tensor and
// normalizes it on every call). The Python reference does 676 queries/s on
// the project's reference machine.
func BenchmarkTopK100x100k(b *testing.B) {
	r := rand.New(rand.NewPCG(0, 0))
	corpus := randomRows(r, 100_000, 768)
	queries := randomRows(r, 100, 768)
	b.ResetTimer()
	for b.Loop() {
		hits, err := TopK(queries, corpus, 10)
		if err != nil || len(hits) != 100 || len(hits[0]) != 10 {
			b.Fatalf("TopK: %d results, %v", len(hits), err)
		}
	}
	reportQueries(b, 100, 100_000, 768)
}

// BenchmarkCorpusSearch100x100k is the same search on a Corpus built once.
func BenchmarkCorpusSearch100x100k(b *testing.B) {
	c, queries := p4Corpus(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Search(queries, 10); err != nil {
			b.Fatal(err)
		}
	}
	reportQueries(b, 100, 100_000, 768)
}

// BenchmarkScaling searches corpora of 10k, 100k and 1M rows of dimension
// 768 (the last is 3 GB of float32; skipped with -short) with one query (the
// latency of an interactive search, bound by reading the corpus) and with
// 100 (bound by arithmetic), by Corpus.Search and by TopK, top 10, cosine.
// The time of a search grows linearly with the corpus: divide the rows by
// the rate measured here. One 1M-row block backs all sizes, normalized in
// place and wrapped as a Corpus without a copy.
func BenchmarkScaling(b *testing.B) {
	const dim = 768
	sizes := []int{10_000, 100_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	r := rand.New(rand.NewPCG(2, 0))
	block := make([]float32, sizes[len(sizes)-1]*dim)
	for i := range block {
		block[i] = r.Float32() - 0.5
	}
	normalizeRows(block, dim)
	rows := split(block, dim)
	for _, n := range sizes {
		c := &Corpus{data: block[:n*dim], n: n, dim: dim, score: Cosine}
		for _, nq := range []int{1, 100} {
			queries := randomRows(r, nq, dim)
			b.Run(fmt.Sprintf("corpus=%dk/queries=%d/Corpus", n/1000, nq), func(b *testing.B) {
				for b.Loop() {
					if _, err := c.Search(queries, 10); err != nil {
						b.Fatal(err)
					}
				}
				reportQueries(b, nq, n, dim)
			})
			b.Run(fmt.Sprintf("corpus=%dk/queries=%d/TopK", n/1000, nq), func(b *testing.B) {
				for b.Loop() {
					if _, err := TopK(queries, rows[:n], 10); err != nil {
						b.Fatal(err)
					}
				}
				reportQueries(b, nq, n, dim)
			})
		}
	}
}

// BenchmarkBatchSize searches a 100k × 768 Corpus with batches of 1 to 256
// queries on both scoring paths, matrix products (gemm) and the small-batch
// kernel (tile), to place gemmMinQueries.
func BenchmarkBatchSize(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 0))
	c, err := NewCorpus(randomRows(r, 100_000, 768), true)
	if err != nil {
		b.Fatal(err)
	}
	defer func(v int) { gemmMinQueries = v }(gemmMinQueries)
	for _, nq := range []int{1, 4, 16, 32, 64, 100, 256} {
		queries := randomRows(r, nq, 768)
		for _, path := range []string{"gemm", "tile"} {
			b.Run(fmt.Sprintf("queries=%d/%s", nq, path), func(b *testing.B) {
				gemmMinQueries = 1
				if path == "tile" {
					gemmMinQueries = nq + 1
				}
				for b.Loop() {
					if _, err := c.Search(queries, 10); err != nil {
						b.Fatal(err)
					}
				}
				reportQueries(b, nq, c.Len(), c.Dim())
			})
		}
	}
}

// BenchmarkGemmThreads compares the two ways of spreading the gemm path over
// the cores, on the P4 workload: workers that each let Sgemm split its
// product over all cores (the default: Sgemm's goroutines and the workers
// share the cores), and workers whose Sgemm calls stay on one goroutine
// (gemm.SetMaxThreads(1), a process-wide setting a library must not change
// behind its caller's back).
func BenchmarkGemmThreads(b *testing.B) {
	c, queries := p4Corpus(b)
	for _, threads := range []int{0, 1} {
		b.Run(fmt.Sprintf("gemm-threads=%d", threads), func(b *testing.B) {
			defer gemm.SetMaxThreads(gemm.SetMaxThreads(threads))
			for b.Loop() {
				if _, err := c.Search(queries, 10); err != nil {
					b.Fatal(err)
				}
			}
			reportQueries(b, len(queries), c.Len(), c.Dim())
		})
	}
}

// BenchmarkKernel measures the small-batch scoring kernel alone on one core:
// 16 queries against one 30-row tile of dimension 768, in GFLOP/s.
func BenchmarkKernel(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 0))
	const nq, rows, dim = 16, 30, 768
	q := randomRows(r, 1, nq*dim)[0]
	c := randomRows(r, 1, rows*dim)[0]
	out := make([]float32, nq*rows)
	b.Logf("kernel: %s", kernelName)
	for b.Loop() {
		scoreTile(out, q, nq, c, rows, dim)
	}
	b.ReportMetric(2*nq*rows*dim*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// p4Corpus returns P4's normalized random corpus of 100k rows of 768 and
// 100 queries.
func p4Corpus(b *testing.B) (*Corpus, [][]float32) {
	r := rand.New(rand.NewPCG(0, 0))
	c, err := NewCorpus(randomRows(r, 100_000, 768), true)
	require.NoError(b, err)
	return c, randomRows(r, 100, 768)
}
