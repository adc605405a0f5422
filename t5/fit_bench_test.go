package t5

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkFitStep times one step of Fit (forward, backward, gradient-norm
// clipping and AdamW) on 8 pairs of 128 passage and 32 query tokens: "base"
// at t5-base (v1.0) shapes, beside .ci/bench/torch_proxy_t5fit.py doing the
// same step in PyTorch on the same machine; "small-check" at a small shape,
// to check that the benchmark runs. Skipped under -short.
func BenchmarkFitStep(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark: skipped under -short")
	}
	small := DefaultConfig()
	small.DModel, small.DKV, small.DFF, small.NumLayers, small.NumDecoderLayers, small.NumHeads = 64, 16, 128, 2, 2, 4
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"small-check", small}, {"base", t5BaseConfig()}} {
		b.Run(tc.name, func(b *testing.B) {
			m := randomModel(b, tc.cfg, 3)
			ids := randomIDs(8, 128, tc.cfg.VocabSize, 4)
			labels := randomIDs(8, 32, tc.cfg.VocabSize, 5)
			opts := DefaultFitOptions()
			opts.WeightDecay = 0.01
			m.mu.Lock()
			defer m.mu.Unlock()
			tr, err := m.newFitTrainer(opts, 0.1)
			require.NoError(b, err)
			_, _, err = tr.step(b.Context(), 0, ids, labels, opts.LearningRate) // builds the graph
			require.NoError(b, err)
			w := watchMemory()
			b.ResetTimer()
			for i := range b.N {
				if _, _, err := tr.step(b.Context(), i+1, ids, labels, opts.LearningRate); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(8*b.N)/b.Elapsed().Seconds(), "pairs/s")
			w.report(b)
		})
	}
}
