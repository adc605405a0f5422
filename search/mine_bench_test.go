package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// BenchmarkMine100kx768 mines hard negatives for 1,000 (query, positive)
// pairs against a 100,000 × 768 corpus, cosine, GPL's settings (the best 50
// negatives per query, positives removed) and with mine_hard_negatives'
// NV-Retriever recipe (relative margin 0.05, up to 10·n + 1 candidates per
// query). The corpus is given as rows (as a retriever's encoder returns
// them) or as a prepared Corpus. It reports queries/s and the peak resident
// memory of the process while mining (the high-water mark is reset first,
// on Linux), which holds the 307 MB corpus rows and a 307 MB prepared
// Corpus, and how much of it mining added (mining-MB: the peak less the
// resident memory before). Skipped with -short; run
// once with -benchtime=1x to check it works.
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
			{"gpl-top50", []MineOption{WithNegatives(50), WithRange(0, 50)}},
			{"relative-margin", []MineOption{WithNegatives(5), WithRelativeMargin(0.05)}},
		} {
			b.Run(fmt.Sprintf("%s/%s", src, recipe.name), func(b *testing.B) {
				testutil.ResetPeakRSS()
				before, _ := testutil.RSS()
				for b.Loop() {
					mined, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, recipe.opts...)
					if err != nil || len(mined) != nq {
						b.Fatalf("mined %d pairs, %v", len(mined), err)
					}
				}
				b.ReportMetric(float64(b.N*nq)/b.Elapsed().Seconds(), "queries/s")
				if peak, ok := testutil.PeakRSS(); ok {
					b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
					b.ReportMetric((float64(peak)-float64(before))/(1<<20), "mining-MB")
				}
			})
		}
	}
}
