//go:build cuda

package encoder

import (
	"math"
	"testing"

	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainGraphOnDevice builds the bi-encoder's MNRL training graph (with
// dropout, as Fit trains), on pairs and on triplets with a hard negative,
// and checks that every op between the inputs and the loss, and between
// them and every gradient, is one gorgonia's CUDA machine runs on the
// device: nothing of the forward or backward pass comes back to the CPU on
// the way. Then it runs a step. CachedMNRL's training graph of a
// mini-batch, whose loss is the surrogate Σ embeddings ⊙ their cached
// gradient, runs on the device likewise.
func TestTrainGraphOnDevice(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		q, p := goldenBatch(t, g, "query"), goldenBatch(t, g, "passage")
		for _, cols := range [][]tokenized{{q, p}, {q, p, p}} {
			lens := make([]int, len(cols))
			for i, c := range cols {
				lens[i] = len(c.ids[0])
			}
			hidden, attn := nn.NewDropout(0.1, 1), nn.NewDropout(0.1, 2)
			tg, err := m.buildTrain(len(q.ids), lens, loss.NewMNRL(), hidden, attn)
			require.NoError(t, err)
			nodes := tg.readNodes() // the loss, then the gradients
			ops := testutil.AssertOnDevice(t, nodes...)
			t.Logf("%d columns: %d ops on the device between the inputs, the loss and %d gradients", len(cols), ops, len(nodes)-1)
			require.NoError(t, tg.step(cols...))
			assert.False(t, math.IsNaN(tg.lossValue()), "the loss is NaN")
			require.NoError(t, tg.vm.Close())
		}
		tr, err := m.newTrainer(DefaultFitOptions(), loss.NewCachedMNRL(2))
		require.NoError(t, err)
		ct, err := tr.trainCached(2, len(q.ids[0]))
		require.NoError(t, err)
		defer ct.tg.vm.Close()
		nodes := ct.tg.readNodes()
		ops := testutil.AssertOnDevice(t, nodes...)
		t.Logf("CachedMNRL: %d ops on the device between the inputs, the surrogate loss and %d gradients", ops, len(nodes)-1)
	})
}
