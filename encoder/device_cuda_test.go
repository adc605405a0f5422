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
	G "gorgonia.org/gorgonia"
)

// TestTrainGraphOnDevice builds the bi-encoder's MNRL training graph (with
// dropout, as Fit trains) and checks that every op between the inputs and
// the loss, and between them and every gradient, is one gorgonia's CUDA
// machine runs on the device (a CUDADoer calling the device): nothing of
// the forward or backward pass comes back to the CPU on the way.
func TestTrainGraphOnDevice(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		q, p := goldenBatch(t, g, "query"), goldenBatch(t, g, "passage")
		hidden, attn := nn.NewDropout(0.1, 1), nn.NewDropout(0.1, 2)
		tg, err := m.buildTrain(len(q.ids), []int{len(q.ids[0]), len(p.ids[0])}, loss.NewMNRL(), hidden, attn)
		require.NoError(t, err)
		defer tg.vm.Close()
		roots := append([]*G.Node{tg.lossNode}, tg.readNodes()[1:]...)
		graph := tg.lossNode.Graph()
		seen := map[*G.Node]bool{}
		var onDevice int
		var walk func(n *G.Node)
		walk = func(n *G.Node) {
			if n == nil || seen[n] {
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
		require.NoError(t, tg.step(q, p))
		assert.False(t, math.IsNaN(tg.lossValue()), "the loss is NaN")
	})
}
