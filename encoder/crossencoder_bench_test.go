package encoder

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/internal/testutil"
)

// benchSize reads a positive integer from the environment variable name, or
// returns def.
func benchSize(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// BenchmarkCrossEncoderPredict is the cross-encoder workload of
// BENCHMARKS.md: scoring 256 (query, passage) pairs of 128 tokens each
// (long passages, truncated longest-first) in batches of 32 on
// cross-encoder/ms-marco-MiniLM-L-6-v2's architecture (the all-MiniLM-L6
// BERT: 6 layers, hidden 384, 12 heads, intermediate 1536, plus the pooler
// and a one-label classifier) with random weights. Sub-benchmark predict
// times Predict, tokenization included; forward, the pre-tokenized batches.
// The torch twin is .ci/bench/torch_proxy_ce.py (same shapes and batches, no
// tokenization: compare it with forward):
//
//	go test ./encoder/ -run '^$' -bench CrossEncoderPredict -benchtime 3x -count 6
//	python3 .ci/bench/torch_proxy_ce.py 256 128
//
// GENQ_BENCH_CE_PAIRS and GENQ_BENCH_CE_LEN change the pair count and the
// length (a quick check: 8 and 32).
func BenchmarkCrossEncoderPredict(b *testing.B) {
	if testing.Short() {
		b.Skip("full-size cross-encoder scoring; skipped with -short")
	}
	n, maxLen := benchSize(b, "GENQ_BENCH_CE_PAIRS", 256), benchSize(b, "GENQ_BENCH_CE_LEN", 128)
	cfg := miniLML6()
	m := randomModel(b, cfg, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	head := initVars(func(name string, shape []int) []float32 {
		size := 1
		for _, s := range shape {
			size *= s
		}
		data := make([]float32, size)
		if len(shape) == 2 {
			for i := range data {
				data[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
		return data
	})
	c, err := newCrossEncoder(m.body.(*bert), head, m.tok.(*wordpiece.Tokenizer), maxLen, ActivationIdentity)
	if err != nil {
		b.Fatal(err)
	}
	passages := paragraphs(n, 3)
	pairs := make([][2]string, n)
	for i, p := range paragraphs(n, 41) {
		pairs[i] = [2]string{strings.Join(strings.Fields(p)[:12], " "), passages[i]}
	}
	ctx := context.Background()
	// predict: Predict as a user calls it, tokenization included
	b.Run("predict", func(b *testing.B) {
		run := func() {
			scores, err := c.Predict(ctx, pairs, WithBatchSize(32))
			if err != nil {
				b.Fatal(err)
			}
			if len(scores) != n {
				b.Fatalf("%d scores for %d pairs", len(scores), n)
			}
		}
		run()
		for key := range c.graphs {
			if key[1] != maxLen {
				b.Fatalf("a batch of %d tokens, want every pair at %d", key[1], maxLen)
			}
		}
		graphs := len(c.graphs)
		timeRuns(b, forwardFLOPs(cfg, n, maxLen), run)
		if len(c.graphs) != graphs {
			b.Errorf("Predict built %d more graphs after the first run", len(c.graphs)-graphs)
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pairs/s")
		testutil.ReportPeakRSS(b)
	})
	// forward: the same batches pre-tokenized, as the torch proxy runs them
	b.Run("forward", func(b *testing.B) {
		var batches []tokenized
		for i := 0; i < n; i += 32 {
			var enc tokenized
			qs, ps := make([]string, 0, 32), make([]string, 0, 32)
			for _, p := range pairs[i:min(i+32, n)] {
				qs, ps = append(qs, p[0]), append(ps, p[1])
			}
			enc.ids, enc.types, enc.mask, _ = c.tok.EncodePairBatch(qs, ps, maxLen)
			batches = append(batches, enc)
		}
		run := func() {
			c.m.mu.Lock()
			defer c.m.mu.Unlock()
			for _, enc := range batches {
				if _, err := c.logits(enc); err != nil {
					b.Fatal(err)
				}
			}
		}
		run()
		timeRuns(b, forwardFLOPs(cfg, n, maxLen), run)
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pairs/s")
		testutil.ReportPeakRSS(b)
	})
}
