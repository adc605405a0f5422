//go:build cuda

package testutil

import (
	"testing"

	"github.com/stretchr/testify/assert"
	G "gorgonia.org/gorgonia"
)

// AssertOnDevice asserts that every op between the graph's inputs (and
// constants) and roots is one gorgonia's CUDA machine runs on the device: a
// CUDADoer that calls the device. It returns how many ops it checked.
func AssertOnDevice(t testing.TB, roots ...*G.Node) int {
	t.Helper()
	if len(roots) == 0 {
		return 0
	}
	graph := roots[0].Graph()
	seen := map[*G.Node]bool{}
	ops := 0
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
				ops++
			}
		}
		for _, c := range children {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return ops
}
