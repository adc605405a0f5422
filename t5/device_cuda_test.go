//go:build cuda

package t5

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeviceGenerationMatchesCPU: the decoder step on the GPU gives the CPU
// step's token ids exactly — greedy, beam search (several sequences) and
// top-p sampling with a seed, on both fixtures, with a cache that starts at
// 3 slots so that it grows twice — and its log-probabilities and scores
// within 1e-5 + 1e-4·|want|, the golden tests' tolerance.
func TestDeviceGenerationMatchesCPU(t *testing.T) {
	defer func(n int) { initialSlots = n }(initialSlots)
	initialSlots = 3
	sampled := DefaultGenerateOptions()
	sampled.MaxLength, sampled.NumReturnSequences, sampled.Seed, sampled.BatchSize = 12, 3, 11, 2
	beam := GenerateOptions{MaxLength: 12, NumReturnSequences: 2, NumBeams: 4, LengthPenalty: 1, BatchSize: 3}
	cases := []struct {
		name string
		opts GenerateOptions
	}{
		{"greedy", greedyOptions(12)},
		{"beam", beam},
		{"top-p", sampled},
	}
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			gpu := loadFixture(t, name)
			cpu, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
			require.NoError(t, err)
			cpu.mod.dev = &device{onCPU: true}
			ids := unpadded(t, testutil.LoadGolden(t, name))
			for _, c := range cases {
				want, err := cpu.GenerateIDs(context.Background(), ids, c.opts)
				require.NoError(t, err, "%s on the CPU", c.name)
				got, err := gpu.GenerateIDs(context.Background(), ids, c.opts)
				require.NoError(t, err, "%s on the GPU", c.name)
				require.NotNil(t, gpu.mod.dev, "the GPU model has no device")
				require.NotNil(t, gpu.mod.dev.ctx, "%s did not run on the GPU", c.name)
				require.Len(t, got, len(want), c.name)
				var lpGot, lpWant, scGot, scWant []float32
				for i := range want {
					assert.Equal(t, want[i].IDs, got[i].IDs, "%s: sequence %d", c.name, i)
					if len(want[i].LogProbs) == len(got[i].LogProbs) {
						lpGot, lpWant = append(lpGot, got[i].LogProbs...), append(lpWant, want[i].LogProbs...)
					}
					scGot, scWant = append(scGot, float32(got[i].Score)), append(scWant, float32(want[i].Score))
				}
				testutil.AllClose(t, c.name+" log-probs, GPU vs CPU", lpGot, lpWant, 1e-5, 1e-4)
				testutil.AllClose(t, c.name+" scores, GPU vs CPU", scGot, scWant, 1e-5, 1e-4)
			}
		})
	}
}

// TestDeviceWeightsChanged: after Fit changes the weights (weightsChanged),
// the GPU step uses the new ones, as the CPU step repacks its own: zeroing
// lm_head of the untied model makes every token equally likely.
func TestDeviceWeightsChanged(t *testing.T) {
	m, err := Load(t.Context(), testutil.Fixture("t5-tiny-gated"), LoadOptions{})
	require.NoError(t, err)
	require.False(t, m.mod.tied, "the gated fixture has its own lm_head")
	ids := unpadded(t, testutil.LoadGolden(t, "t5-tiny-gated"))
	opts := greedyOptions(4)
	before, err := m.GenerateIDs(context.Background(), ids, opts)
	require.NoError(t, err)
	clear(m.mod.lmHead.Data)
	m.mod.weightsChanged()
	after, err := m.GenerateIDs(context.Background(), ids, opts)
	require.NoError(t, err)
	require.Len(t, after, len(before))
	for i := range after {
		// Zero logits: every token is equally likely, argmax is token 0.
		assert.Equal(t, 0, after[i].IDs[1], "sequence %d: first token with a zero lm_head", i)
		assert.InDelta(t, -math.Log(float64(m.cfg.VocabSize)), after[i].LogProbs[0], 1e-5, "sequence %d: log(1/vocab)", i)
	}
}

// TestDeviceFreedWithModel: a Model's GPU context, and with it the
// uploaded weights and the step's buffers, is freed once the Model is
// garbage collected (there is no Close).
func TestDeviceFreedWithModel(t *testing.T) {
	m, err := Load(t.Context(), testutil.Fixture("t5-tiny"), LoadOptions{})
	require.NoError(t, err)
	_, err = m.GenerateIDs(context.Background(), unpadded(t, testutil.LoadGolden(t, "t5-tiny")), greedyOptions(4))
	require.NoError(t, err)
	d := m.mod.dev
	require.NotNil(t, d.ctx, "the step did not run on the GPU")
	m = nil
	assert.Eventually(t, func() bool {
		runtime.GC()
		return d.freed.Load()
	}, 20*time.Second, 10*time.Millisecond, "the device of a collected Model is not freed")
}
