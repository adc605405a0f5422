package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// BenchmarkMine100kx768 mines hard negatives for 1,000 (query, positive)
// pairs against a 100,000 × 768 corpus, cosine, with two recipes: top50,
// the best 50 negatives per query (range max 50, as GPL mines with each
// retriever), and relative-margin, mine_hard_negatives' NV-Retriever recipe
// (5 negatives, relative margin 0.05, 10·5 + 1 candidates per query). The
// corpus is given as rows (as an encoder returns them) or as a prepared
// Corpus. It reports queries/s, the peak resident memory of the process
// while mining (the high-water mark is reset first, on Linux; the process
// holds the 307 MB of corpus rows and a 307 MB prepared Corpus) and how
// much of it mining added (mining-MiB: the peak less the resident memory
// before). .ci/bench/torch_proxy_mine.py does the same work in torch.
// Skipped with -short; run once with -benchtime=1x to check it works.
func BenchmarkMine100kx768(b *testing.B) {
	if testing.Short() {
		b.Skip("a 307 MB corpus; skipped with -short")
	}
	const nq, n, dim = 1000, 100_000, 768
	r := rand.New(rand.NewPCG(5, 0))
	corpus := randomRows(r, n, dim)
	queries := randomRows(r, nq, dim)
	pairs := make([]Pair, nq)
	for i := range pairs {
		pairs[i] = Pair{Query: i, Positive: i * (n / nq)}
	}
	idx, err := NewCorpus(corpus, true)
	if err != nil {
		b.Fatal(err)
	}
	for _, src := range []string{"rows", "Corpus"} {
		ret := Retriever{Queries: queries, Corpus: corpus}
		if src == "Corpus" {
			ret = Retriever{Queries: queries, Index: idx}
		}
		for _, recipe := range []struct {
			name string
			opts []MineOption
		}{
			{"top50", []MineOption{WithNegatives(50), WithRange(0, 50)}},
			{"relative-margin", []MineOption{WithNegatives(5), WithRelativeMargin(0.05)}},
		} {
			b.Run(fmt.Sprintf("%s/%s", src, recipe.name), func(b *testing.B) {
				benchMine(b, pairs, ret, recipe.opts...)
			})
		}
	}
}

// BenchmarkMineScaling mines the top 50 negatives for 200 queries against
// corpora of 100k and 1M rows of dimension 768 given as rows (the larger is
// 3 GB), to show that the memory mining adds (mining-MiB) does not grow with
// the corpus while its time grows linearly. Skipped with -short.
func BenchmarkMineScaling(b *testing.B) {
	if testing.Short() {
		b.Skip("a 3 GB corpus; skipped with -short")
	}
	const nq, dim = 200, 768
	sizes := []int{100_000, 1_000_000}
	r := rand.New(rand.NewPCG(6, 0))
	block := make([]float32, sizes[len(sizes)-1]*dim)
	for i := range block {
		block[i] = r.Float32() - 0.5
	}
	rows := split(block, dim)
	queries := randomRows(r, nq, dim)
	for _, n := range sizes {
		pairs := make([]Pair, nq)
		for i := range pairs {
			pairs[i] = Pair{Query: i, Positive: i * (n / nq)}
		}
		ret := Retriever{Queries: queries, Corpus: rows[:n]}
		b.Run(fmt.Sprintf("corpus=%dk", n/1000), func(b *testing.B) {
			benchMine(b, pairs, ret, WithNegatives(50), WithRange(0, 50))
		})
	}
}

// benchMine times MineHardNegatives and reports queries/s, the process's
// peak resident memory while mining, and how much of it mining added.
func benchMine(b *testing.B, pairs []Pair, ret Retriever, opts ...MineOption) {
	testutil.ResetPeakRSS()
	before, _ := testutil.RSS()
	for b.Loop() {
		mined, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, opts...)
		if err != nil || len(mined) != len(pairs) {
			b.Fatalf("mined %d pairs, %v", len(mined), err)
		}
	}
	b.ReportMetric(float64(b.N*len(pairs))/b.Elapsed().Seconds(), "queries/s")
	if peak, ok := testutil.PeakRSS(); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric((float64(peak)-float64(before))/(1<<20), "mining-MiB")
	}
}
