package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestStackInPlace: parts that are views of whole, in order, stack to
// whole's own value (no copy); parts elsewhere are copied, exactly.
func TestStackInPlace(t *testing.T) {
	all := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, inPlace := range []bool{true, false} {
		g := G.NewGraph()
		whole := tensor.New(tensor.WithShape(5, 2), tensor.WithBacking(all))
		a, b := all[:4:4], all[4:]
		if !inPlace {
			a, b = append([]float32(nil), a...), append([]float32(nil), b...)
		}
		nodes := []*G.Node{
			G.NewMatrix(g, tensor.Float32, G.WithName("whole"), G.WithValue(whole)),
			G.NewMatrix(g, tensor.Float32, G.WithName("a"), G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(a)))),
			G.NewMatrix(g, tensor.Float32, G.WithName("b"), G.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking(b)))),
		}
		s, err := Stack(nodes[0], nodes[1], nodes[2])
		require.NoError(t, err)
		vm := G.NewTapeMachine(g)
		require.NoError(t, vm.RunAll())
		vm.Close()
		got := s.Value().Data().([]float32)
		assert.Equal(t, all, got)
		assert.Equal(t, inPlace, &got[0] == &all[0], "in place: %v", inPlace)
	}
}
