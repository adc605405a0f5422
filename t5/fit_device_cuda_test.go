//go:build cuda

package t5

import (
	"testing"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fit with the device optimizer (clipping and AdamW on the GPU, gradients
// taken on the device) against Fit with the host optimizer (encoder/optim
// on the gradients read back), over the same batches and dropout masks:
// losses, gradient norms and every parameter within |Δ| <= 1e-5 +
// 1e-4·|want|. The device sums squares for the norm in double rather than
// in torch's float32 lanes, which the host optimizer reproduces.
const deviceFitAtol, deviceFitRtol = 1e-5, 1e-4

// TestFitDeviceOptimizer trains t5-tiny for 4 steps (dropout 0.1, batches
// of 2, warm-up, clipping at 1) both ways and compares the runs.
func TestFitDeviceOptimizer(t *testing.T) {
	require.True(t, cuda.Enabled(), "this test checks the device optimizer: %v", cuda.Err())
	f := loadFinetune(t)
	o := f.opts
	o.MaxSteps, o.BatchSize, o.WarmupSteps, o.stopAfter = 4, 2, 1, 0
	run := func(host bool) (FitResult, *Model) {
		m := freshTiny(t)
		withDropout(t, m, 0.1)
		oo := o
		oo.hostOptimizer = host
		if !host {
			m.mu.Lock()
			tr, err := m.newFitTrainer(oo, 0.1)
			m.mu.Unlock()
			require.NoError(t, err)
			require.NotNil(t, tr.dev, "Fit uses the device optimizer")
			require.NoError(t, tr.dev.Close())
		}
		res, err := m.Fit(t.Context(), f.pairs, oo)
		require.NoError(t, err)
		require.Equal(t, 4, res.Steps)
		return res, m
	}
	dev, md := run(false)
	host, mh := run(true)
	testutil.AllClose(t, "losses", dev.Losses, host.Losses, deviceFitAtol, deviceFitRtol)
	testutil.AllClose(t, "gradient norms", dev.GradNorms, host.GradNorms, deviceFitAtol, deviceFitRtol)
	for _, name := range mh.ParameterNames() {
		testutil.AllClose(t, name, md.Parameter(name).Data, mh.Parameter(name).Data, deviceFitAtol, deviceFitRtol)
	}
	assert.NotEqual(t, freshTiny(t).Parameter("shared.weight").Data, md.Parameter("shared.weight").Data, "the run changed the weights")
}
