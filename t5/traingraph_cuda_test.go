//go:build cuda

package t5

import (
	"testing"

	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
)

// TestTrainGraphOnDevice builds T5's training graph (with dropout, as Fit
// trains) and checks that every op between the inputs and the loss, and
// between them and every gradient, is one gorgonia's CUDA machine runs on
// the device.
func TestTrainGraphOnDevice(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, _ *testutil.Golden) {
		m.mu.Lock()
		c, err := m.seq2seqGraphDrop(2, lengthBucket, lengthBucket, true, nn.NewDropout(0.1, 1))
		m.mu.Unlock()
		require.NoError(t, err)
		require.Len(t, c.grads, len(m.ParameterNames()))
		roots := []*G.Node{c.outputs["loss"]}
		for _, n := range c.grads {
			roots = append(roots, n)
		}
		ops := testutil.AssertOnDevice(t, roots...)
		t.Logf("%d ops on the device between the inputs, the loss and %d gradients", ops, len(roots)-1)
	})
}
