//go:build cuda

package encoder

import (
	"context"
	"testing"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
	"github.com/stretchr/testify/require"
)

// deviceFitTol is how far Fit with the device optimizer (clipping and
// AdamW on the GPU, gradients taken on the device) may stray from Fit with
// the host optimizer (encoder/optim on the gradients read back) over a few
// steps: |Δ| <= 1e-5 + 1e-4·|want| for every loss and weight. The two
// differ where the device sums squares for the norm in double rather than
// in torch's float32 lanes, and where its scatter of the word embeddings'
// rows adds repeated ids in another order.
const deviceFitAtol, deviceFitRtol = 1e-5, 1e-4

// deviceRun is a short training run on distilbert-tiny's 6 golden pairs:
// dropout 0.1, shuffled batches of 2, 2 epochs of 3 steps.
func deviceRun(t *testing.T) (load func() *Model, pairs []Example, opts FitOptions) {
	plain, pairs, opts := resumeRun(t)
	return func() *Model {
		m := plain()
		m.cfg.HiddenDropout, m.cfg.AttentionDropout = 0.1, 0.1
		return m
	}, pairs, opts
}

// assertCloseWeights compares every weight of got with want's within the
// device tolerance.
func assertCloseWeights(t *testing.T, got, want *Model) {
	t.Helper()
	gp, wp := append(got.body.params(), got.body.extras()...), append(want.body.params(), want.body.extras()...)
	require.Len(t, gp, len(wp))
	for i := range wp {
		testutil.AllClose(t, wp[i].name, gp[i].data(), wp[i].data(), deviceFitAtol, deviceFitRtol)
	}
}

// TestFitDeviceOptimizer runs Fit with clipping and AdamW on the device and
// on the host, from the same weights over the same batches, and compares
// the loss of every step and every weight after the run: with MNRL, with
// CachedMNRL in mini-batches of 1 (gradients accumulated on the device) and
// with MNRL over a hard negative.
func TestFitDeviceOptimizer(t *testing.T) {
	require.True(t, cuda.Enabled(), "this test checks the device optimizer: %v", cuda.Err())
	for _, tc := range []struct {
		name     string
		loss     loss.Loss
		negative bool
	}{{"MNRL", nil, false}, {"CachedMNRL", loss.NewCachedMNRL(1), false}, {"MNRL hard negative", nil, true}} {
		t.Run(tc.name, func(t *testing.T) {
			load, pairs, opts := deviceRun(t)
			if tc.negative {
				for i := range pairs {
					pairs[i].Texts = append(pairs[i].Texts, pairs[(i+1)%len(pairs)].Texts[1])
				}
			}
			m := load()
			m.mu.Lock()
			tr, err := m.newTrainer(opts, tc.loss)
			m.mu.Unlock()
			require.NoError(t, err)
			require.NotNil(t, tr.dev, "Fit uses the device optimizer")
			require.NoError(t, tr.dev.Close())

			dev, err := m.Fit(context.Background(), pairs, tc.loss, opts)
			require.NoError(t, err)
			hostOpts := opts
			hostOpts.hostOptimizer = true
			host := load()
			want, err := host.Fit(context.Background(), pairs, tc.loss, hostOpts)
			require.NoError(t, err)
			require.Len(t, dev.Losses, 6)
			testutil.AllClose(t, "losses", dev.Losses, want.Losses, deviceFitAtol, deviceFitRtol)
			assertCloseWeights(t, m, host)
			assertDifferentWeights(t, load(), m)
		})
	}
}
