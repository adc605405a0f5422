package search

import (
	"math/rand/v2"
	"testing"
)

// randomRows returns n standard-normal rows of length dim.
func randomRows(r *rand.Rand, n, dim int) [][]float32 {
	block := make([]float32, n*dim)
	for i := range block {
		block[i] = float32(r.NormFloat64())
	}
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = block[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return rows
}

// BenchmarkTopK100x100k is workload P4 of shared/reference/bench_hf.py:
// util.semantic_search of 100 queries against a 100,000 × 768 corpus, top 10,
// cosine (normalizing the corpus on every call, as cos_sim does). The Python
// reference does 676 queries/s on the project's machine.
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
	b.ReportMetric(float64(b.N*len(queries))/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkCorpusSearch100x100k is the same search on a Corpus built once.
func BenchmarkCorpusSearch100x100k(b *testing.B) {
	r := rand.New(rand.NewPCG(0, 0))
	c, err := NewCorpus(randomRows(r, 100_000, 768), true)
	if err != nil {
		b.Fatal(err)
	}
	queries := randomRows(r, 100, 768)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Search(queries, 10); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(queries))/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkKernel measures the scoring kernel alone on one core: 100 queries
// against one 30-row tile of dimension 768, in GFLOP/s.
func BenchmarkKernel(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 0))
	const nq, rows, dim = 100, 30, 768
	q := randomRows(r, 1, nq*dim)[0]
	c := randomRows(r, 1, rows*dim)[0]
	out := make([]float32, nq*rows)
	b.Logf("kernel: %s", kernelName)
	for b.Loop() {
		scoreTile(out, q, nq, c, rows, dim)
	}
	b.ReportMetric(2*nq*rows*dim*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
