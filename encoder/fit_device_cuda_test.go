//go:build cuda

package encoder

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
	"github.com/stretchr/testify/require"
)

// deviceFitAtol and deviceFitRtol bound how far Fit with the device
// optimizer (clipping and AdamW on the GPU, gradients taken on the device)
// may stray from Fit with the host optimizer (encoder/optim on the
// gradients read back) over a few steps: |Δ| <= 1e-5 + 1e-4·|want| for
// every loss and weight. The two differ where the device sums squares for
// the norm in double rather than in torch's float32 lanes (a last-bit
// difference of the clipping factor), and where its scatter of the word
// embeddings' rows adds repeated ids in another order.
//
// One exception, as in TestFitStep: the attention's key bias has a zero
// gradient in exact arithmetic (softmax ignores a shift shared by a row),
// so its float32 gradient is rounding noise, which AdamW's m/√v turns into
// steps of about lr whose sign follows the noise; its entries are held to
// 2·lr per step.
const deviceFitAtol, deviceFitRtol = 1e-5, 1e-4

// deviceRun is a short training run on distilbert-tiny's 6 golden pairs:
// dropout 0.1, shuffled batches of 2, 2 epochs of 3 steps, lr 1e-3.
func deviceRun(t *testing.T) (load func() *Model, pairs []Example, opts FitOptions) {
	plain, pairs, opts := resumeRun(t)
	return func() *Model {
		m := plain()
		m.cfg.HiddenDropout, m.cfg.AttentionDropout = 0.1, 0.1
		return m
	}, pairs, opts
}

// assertCloseWeights compares every weight of got with want's within the
// device tolerance, after steps steps at learning rate at most lr.
func assertCloseWeights(t *testing.T, got, want *Model, steps int, lr float64) {
	t.Helper()
	gp, wp := append(got.body.params(), got.body.extras()...), append(want.body.params(), want.body.extras()...)
	require.Len(t, gp, len(wp))
	for i := range wp {
		atol, rtol := deviceFitAtol, deviceFitRtol
		if n := wp[i].name; strings.HasSuffix(n, "k_lin.bias") || strings.HasSuffix(n, "attention.self.key.bias") {
			atol, rtol = 2*lr*float64(steps), 0
		}
		testutil.AllClose(t, wp[i].name, gp[i].data(), wp[i].data(), atol, rtol)
	}
}

// fitOnce runs Fit on a fresh model from load and returns the model.
func fitOnce(t *testing.T, load func() *Model, pairs []Example, l loss.Loss, opts FitOptions) (FitResult, *Model, error) {
	m := load()
	res, err := m.Fit(context.Background(), pairs, l, opts)
	return res, m, err
}

// TestFitDeviceOptimizer runs Fit with clipping and AdamW on the device and
// on the host, from the same weights over the same batches and dropout
// masks, and compares the loss of every step and every weight after the
// run: with MNRL, with CachedMNRL in mini-batches of 1 (each step's
// gradients summed on the device) and with MNRL over a hard negative.
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

			dev, md, err := fitOnce(t, load, pairs, tc.loss, opts)
			require.NoError(t, err)
			hostOpts := opts
			hostOpts.hostOptimizer = true
			want, mh, err := fitOnce(t, load, pairs, tc.loss, hostOpts)
			require.NoError(t, err)
			require.Len(t, dev.Losses, 6)
			testutil.AllClose(t, "losses", dev.Losses, want.Losses, deviceFitAtol, deviceFitRtol)
			assertCloseWeights(t, md, mh, 6, opts.LearningRate)
			assertDifferentWeights(t, load(), md)
		})
	}
}

// TestFitDeviceResume interrupts a run with the device optimizer after 3
// steps, resumes it from its step-2 checkpoint (the device's moments were
// downloaded into it, and are uploaded again) and checks that it continues
// as the uninterrupted run did: the same losses and weights, bit for bit on
// the emulator, within the device tolerance on a GPU (where the word
// embeddings' scatter adds repeated ids in the order its atomics take):
// with MNRL and with CachedMNRL in mini-batches of 1.
func TestFitDeviceResume(t *testing.T) {
	for _, l := range []loss.Loss{nil, loss.NewCachedMNRL(1)} {
		t.Run(fmt.Sprintf("%T", l), func(t *testing.T) {
			load, pairs, opts := deviceRun(t)
			want, whole, err := fitOnce(t, load, pairs, l, opts)
			require.NoError(t, err)

			opts.CheckpointDir, opts.CheckpointEvery = t.TempDir(), 2
			cut := opts
			cut.stopAfter = 3
			_, _, err = fitOnce(t, load, pairs, l, cut)
			require.ErrorIs(t, err, errInterrupted)

			opts.Resume = true
			got, resumed, err := fitOnce(t, load, pairs, l, opts)
			require.NoError(t, err)
			require.Equal(t, 4, got.Steps, "steps taken after resuming at the step-2 checkpoint")
			testutil.AllClose(t, "losses", got.Losses, want.Losses, deviceFitAtol, deviceFitRtol)
			assertCloseWeights(t, resumed, whole, 6, opts.LearningRate)
			assertDifferentWeights(t, load(), whole)
		})
	}
}
