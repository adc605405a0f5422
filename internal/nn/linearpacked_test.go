package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLinearPacked checks that LinearPacked computes bit for bit what
// Linear computes, in float32 (packed weights) and float64 (unpacked), and
// that after the weight is overwritten and Weights.Changed is called the
// next run uses the new values.
func TestLinearPacked(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			const n, in, out = 37, 70, 45 // edges in every blocking dimension
			vals := func(k int) *tensor.Dense {
				v := tensor.New(tensor.Of(dt), tensor.WithShape(k))
				for i := range k {
					_ = v.SetAt(float64ToDtype(dt, rng.NormFloat64()), i)
				}
				return v
			}
			x, w, b := vals(n*in), vals(out*in), vals(out)
			x.Reshape(n, in)
			w.Reshape(out, in)
			var ws Weights
			g := G.NewGraph()
			xn := G.NewTensor(g, dt, 2, G.WithShape(n, in), G.WithValue(x), G.WithName("x"))
			wn := G.NewTensor(g, dt, 2, G.WithShape(out, in), G.WithValue(w), G.WithName("w"))
			bn := G.NewTensor(g, dt, 1, G.WithShape(out), G.WithValue(b), G.WithName("b"))
			want, err := Linear(xn, wn, bn)
			require.NoError(t, err)
			got, err := LinearPacked(xn, wn, bn, &ws)
			require.NoError(t, err)
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			check := func(when string) {
				vm.Reset()
				require.NoError(t, vm.RunAll())
				require.Equal(t, want.Value().Data(), got.Value().Data(), "%s: LinearPacked differs from Linear", when)
			}
			check("first run")
			for i := range w.Shape().TotalSize() {
				v, _ := w.At(i/in, i%in)
				_ = w.SetAt(negate(v), i/in, i%in)
			}
			ws.Changed()
			check("after Changed")
		})
	}
}

func float64ToDtype(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

func negate(v any) any {
	switch v := v.(type) {
	case float32:
		return -v
	case float64:
		return -v
	}
	return v
}
