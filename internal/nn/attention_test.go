package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSelfAttentionMatchesAttention checks that SelfAttention over [q|k|v]
// side by side computes what Attention computes over q, k and v apart, in
// float32 (the model's path, AVX2 softmax included), forward and backward:
// |Δ| <= 1e-6 on outputs and gradients of magnitude ~1.
func TestSelfAttentionMatchesAttention(t *testing.T) {
	const b, tl, d, heads = 2, 7, 8, 2
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	n := b * tl
	q, k, v := rnd(n*d), rnd(n*d), rnd(n*d)
	fused := make([]float32, 0, 3*n*d)
	for r := range n {
		for _, x := range [][]float32{q, k, v} {
			fused = append(fused, x[r*d:(r+1)*d]...)
		}
	}
	mask := make([]float32, b*tl)
	mask[tl-1], mask[tl-2] = MaskedValue, MaskedValue // padding in the first sequence
	r := rnd(n * d)
	cfg := AttentionConfig{Batch: b, Heads: heads}

	// run builds out = build(inputs), cost = Σ out·r, and returns out and the
	// gradients of the inputs.
	run := func(shapes []tensor.Shape, vals [][]float32, build func(in []*G.Node) (*G.Node, error)) ([]float32, [][]float32) {
		g := G.NewGraph()
		var in []*G.Node
		for i, s := range shapes { // named: gorgonia merges unnamed inputs of one shape
			in = append(in, G.NewTensor(g, tensor.Float32, len(s), G.WithShape(s...), G.WithName(string(rune('a'+i))),
				G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(vals[i])))))
		}
		m := G.NewTensor(g, tensor.Float32, 2, G.WithShape(b, tl), G.WithName("mask"),
			G.WithValue(tensor.New(tensor.WithShape(b, tl), tensor.WithBacking(mask))))
		out, err := build(append(in, m))
		require.NoError(t, err)
		var outVal G.Value
		G.Read(out, &outVal) // a copy: the product below may overwrite out's value
		rn := G.NewTensor(g, tensor.Float32, 2, G.WithShape(n, d), G.WithName("r"),
			G.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(r))))
		grads, err := G.Grad(G.Must(G.Sum(G.Must(G.HadamardProd(out, rn)))), in...)
		require.NoError(t, err)
		vm := G.NewTapeMachine(g)
		defer vm.Close()
		require.NoError(t, vm.RunAll())
		var gs [][]float32
		for _, gr := range grads {
			gs = append(gs, append([]float32{}, gr.Value().Data().([]float32)...))
		}
		return outVal.Data().([]float32), gs
	}
	sep := tensor.Shape{n, d}
	want, wantGrads := run([]tensor.Shape{sep, sep, sep}, [][]float32{q, k, v}, func(in []*G.Node) (*G.Node, error) {
		return Attention(in[0], in[1], in[2], in[3], cfg)
	})
	got, gotGrads := run([]tensor.Shape{{n, 3 * d}}, [][]float32{fused}, func(in []*G.Node) (*G.Node, error) {
		return SelfAttention(in[0], in[1], cfg)
	})
	var worst float64
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	for r := range n {
		for j, gw := range wantGrads {
			for c := range d {
				worst = math.Max(worst, math.Abs(float64(gotGrads[0][r*3*d+j*d+c]-gw[r*d+c])))
			}
		}
	}
	assert.LessOrEqual(t, worst, 1e-6, "SelfAttention differs from Attention")
	t.Logf("max |Δ| %.3g", worst)
}
