package encoder

import (
	"os"
	"testing"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
)

// The benchmarks of this file are issue 13's: gradient caching's memory and
// speed against MNRL, and a MarginMSE step beside PyTorch doing the same work
// (.ci/bench/torch_proxy_marginmse.py). Random weights of distilbert-base's
// size, train mode (dropout 0.1), as BenchmarkP2TrainStep:
//
//	go test ./encoder/ -run '^$' -bench 'GradCache/MNRL' -benchtime 3x -count 6
//	go test ./encoder/ -run '^$' -bench 'GradCache/CachedMNRL' -benchtime 3x -count 6
//	go test ./encoder/ -run '^$' -bench MarginMSEStep -benchtime 3x -count 6
//
// Run the GradCache cases in separate processes, as above: peak-RSS-MiB is
// the process's. GENQ_BENCH_SMALL=1 swaps in a 2-layer model of width 64, a
// check that the benchmarks run, not a figure.

// benchModel returns the model of the loss benchmarks: distilbert-base, or
// the small one under GENQ_BENCH_SMALL=1.
func benchModel(b *testing.B) *Model {
	cfg := distilBERTBase()
	if os.Getenv("GENQ_BENCH_SMALL") == "1" {
		cfg.Hidden, cfg.Layers, cfg.Heads, cfg.Intermediate = 64, 2, 4, 256
	}
	return randomModel(b, cfg, 0)
}

// benchColumn tokenizes n texts of at least maxLen tokens to exactly maxLen,
// queries (short) or passages (rotated bench paragraphs).
func benchColumn(b *testing.B, m *Model, n, maxLen, rot int) tokenized {
	texts := paragraphs(n, rot)
	var c tokenized
	var err error
	c.ids, c.types, c.mask, err = m.tok.EncodeBatch(texts, maxLen)
	if err != nil {
		b.Fatal(err)
	}
	if len(c.ids[0]) != maxLen {
		b.Fatalf("texts tokenize to %d tokens, want %d", len(c.ids[0]), maxLen)
	}
	return c
}

// benchSteps times training steps of l on cols (one tokenized batch per
// text column, with labels for a loss that takes them) through the code Fit
// runs for a step, and reports examples/s and peak RSS; flops is the
// matrix-product work of one step.
func benchSteps(b *testing.B, m *Model, l loss.Loss, cols []tokenized, labels [][]float64, flops float64, unit string) {
	opts := DefaultFitOptions()
	opts.BatchSize = len(cols[0].ids)
	tr, err := m.newTrainer(opts, l)
	if err != nil {
		b.Fatal(err)
	}
	step := 0
	run := func() {
		lr := opts.LearningRate * optim.WarmupLinear(step, 100, 10000)
		if _, err := tr.step(step, cols, lr, labels...); err != nil {
			b.Fatal(err)
		}
		step++
	}
	for range 2 { // warm-up: the first step builds the graphs
		run()
	}
	timeRuns(b, flops, run)
	n := float64(len(cols[0].ids) * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(b.Elapsed().Seconds()/n*1e3, "ms/"+unit)
	testutil.ReportPeakRSS(b)
}

// BenchmarkGradCache is deliverable 2's memory and speed check of
// CachedMNRL: one training step on 256 pairs in mini-batches of 32 against
// an MNRL step on 32 pairs, queries of 16 tokens and passages of 128.
// Targets: CachedMNRL's peak-RSS-MiB ≤ 1.3× MNRL's, its ms/pair ≤ 1.5×.
func BenchmarkGradCache(b *testing.B) {
	if testing.Short() {
		b.Skip("full-size training steps; skipped with -short")
	}
	for _, tc := range []struct {
		name  string
		l     loss.Loss
		batch int
	}{
		{"MNRL/batch=32", loss.NewMNRL(), 32},
		{"CachedMNRL/batch=256/mini=32", loss.NewCachedMNRL(32), 256},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := benchModel(b)
			cols := []tokenized{benchColumn(b, m, tc.batch, 16, 3), benchColumn(b, m, tc.batch, 128, 11)}
			flops := 3 * (forwardFLOPs(m.cfg, tc.batch, 16) + forwardFLOPs(m.cfg, tc.batch, 128))
			if _, ok := tc.l.(loss.GradCached); ok {
				flops += forwardFLOPs(m.cfg, tc.batch, 16) + forwardFLOPs(m.cfg, tc.batch, 128) // the forward-only pass
			}
			benchSteps(b, m, tc.l, cols, nil, flops, "pair")
		})
	}
}

// BenchmarkMarginMSEStep is a GPL training step: MarginMSE on dot-product
// scores over 32 (query, positive, negative) triples (GPL's batch), queries
// of 16 tokens, passages of 128, labels the teacher margins. PyTorch doing
// the same work: .ci/bench/torch_proxy_marginmse.py.
func BenchmarkMarginMSEStep(b *testing.B) {
	if testing.Short() {
		b.Skip("a full-size training step; skipped with -short")
	}
	const batch = 32
	m := benchModel(b)
	cols := []tokenized{benchColumn(b, m, batch, 16, 3), benchColumn(b, m, batch, 128, 11), benchColumn(b, m, batch, 128, 29)}
	labels := make([][]float64, batch)
	for i := range labels {
		labels[i] = []float64{float64(i%7) - 2}
	}
	flops := 3 * (forwardFLOPs(m.cfg, batch, 16) + 2*forwardFLOPs(m.cfg, batch, 128))
	benchSteps(b, m, loss.NewMarginMSE(), cols, labels, flops, "triple")
}
