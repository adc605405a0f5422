//go:build cuda

package t5

import (
	"testing"

	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
)

// TestTrainGraphOnDevice builds T5's training graph (with dropout, as Fit
// trains) and checks that every op between the inputs and the loss, and
// between them and every gradient, is one gorgonia's CUDA machine runs on
// the device (a CUDADoer calling the device).
func TestTrainGraphOnDevice(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, _ *testutil.Golden) {
		m.mu.Lock()
		c, err := m.seq2seqGraphDrop(2, lengthBucket, lengthBucket, true, nn.NewDropout(0.1, 1))
		m.mu.Unlock()
		require.NoError(t, err)
		roots := []*G.Node{c.outputs["loss"]}
		for _, n := range c.grads {
			roots = append(roots, n)
		}
		require.Len(t, c.grads, len(m.ParameterNames()))
		graph := roots[0].Graph()
		seen := map[*G.Node]bool{}
		var onDevice int
		var walk func(n *G.Node)
		walk = func(n *G.Node) {
			if seen[n] {
				return
			}
			seen[n] = true
			var children []*G.Node
			for it := graph.From(n.ID()); it.Next(); {
				children = append(children, it.Node().(*G.Node))
			}
			if len(children) > 0 { // an op, not an input or a constant
				_, ok := n.Op().(G.CUDADoer)
				if assert.True(t, ok, "%v (%T) runs on the CPU", n.Op(), n.Op()) {
					assert.True(t, n.Op().CallsExtern(), "%v does not call the device", n.Op())
					onDevice++
				}
			}
			for _, c := range children {
				walk(c)
			}
		}
		for _, r := range roots {
			walk(r)
		}
		t.Logf("%d ops on the device between the inputs, the loss and %d gradients", onDevice, len(roots)-1)
	})
}
