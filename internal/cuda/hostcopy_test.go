package cuda

import (
	"testing"

	"github.com/stretchr/testify/require"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestReader checks that a Reader's host copies hold the values their nodes
// had when computed (a matrix and a scalar) and are refreshed by every run,
// on the machine NewMachine makes (the GPU in a `cuda` build); and, on the
// CPU, that they are copies rather than the nodes' own memory and that a nil
// Reader reads the nodes themselves.
func TestReader(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x"))
	y := G.Must(G.HadamardProd(x, G.NewConstant(float32(2))))
	z := G.Must(G.Sum(y))
	nodes := []*G.Node{y, nil, z}
	r, err := newReader(nodes)
	require.NoError(t, err)
	vm, err := NewMachine(g)
	require.NoError(t, err)
	defer vm.Close()
	for run, base := range []float32{1, 10} {
		in := []float32{base, base + 1, base + 2, base + 3, base + 4, base + 5}
		require.NoError(t, G.Let(x, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(in))))
		require.NoError(t, vm.RunAll())
		got := r.Value(nodes, 0).Data().([]float32)
		var sum float32
		want := make([]float32, len(in))
		for i, v := range in {
			want[i] = 2 * v
			sum += 2 * v
		}
		require.Equal(t, want, got, "run %d: copy of y", run)
		require.Equal(t, sum, r.Value(nodes, 2).Data().(float32), "run %d: copy of z", run)
		if Enabled() { // y's own value is in device memory
			vm.Reset()
			continue
		}
		own := y.Value().Data().([]float32)
		require.NotSame(t, &own[0], &got[0], "run %d: the copy of y shares y's memory", run)
		own[0] = -1
		require.NotEqual(t, float32(-1), got[0], "run %d: writing y's value changed its copy", run)
		require.Same(t, y.Value(), (*Reader)(nil).Value(nodes, 0), "a nil Reader returns y's own value")
		vm.Reset()
	}
}
