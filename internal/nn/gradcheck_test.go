package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// input is one input of a gradient-check case.
type input struct {
	shape tensor.Shape
	diff  bool      // checked against finite differences
	ints  []int     // int input (ids) instead of random floats
	vals  []float64 // fixed float values instead of random ones
}

// gradCase builds an op's output from its input nodes.
type gradCase struct {
	name   string
	inputs []input
	build  func(in []*G.Node) (*G.Node, error)
}

func gradCases() []gradCase {
	mask := []float64{1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0}
	add := make([]float64, len(mask))
	for i, m := range mask {
		if m == 0 {
			add[i] = MaskedValue
		}
	}
	return []gradCase{
		{"GELU", []input{{shape: tensor.Shape{3, 5}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return GELU(in[0]) }},
		{"LayerNorm", []input{{shape: tensor.Shape{2, 3, 6}, diff: true}, {shape: tensor.Shape{6}, diff: true}, {shape: tensor.Shape{6}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return LayerNorm(in[0], in[1], in[2], 1e-12) }},
		{"AddLayerNorm", []input{{shape: tensor.Shape{2, 3, 6}, diff: true}, {shape: tensor.Shape{2, 3, 6}, diff: true},
			{shape: tensor.Shape{6}, diff: true}, {shape: tensor.Shape{6}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return AddLayerNorm(in[0], in[1], in[2], in[3], 1e-12) }},
		{"Linear", []input{{shape: tensor.Shape{2, 3, 4}, diff: true}, {shape: tensor.Shape{5, 4}, diff: true}, {shape: tensor.Shape{5}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Linear(in[0], in[1], in[2]) }},
		{"LinearNoBias", []input{{shape: tensor.Shape{3, 4}, diff: true}, {shape: tensor.Shape{2, 4}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Linear(in[0], in[1], nil) }},
		{"Embedding", []input{{shape: tensor.Shape{7, 3}, diff: true}, {shape: tensor.Shape{5}, ints: []int{2, 0, 6, 2, 3}}},
			func(in []*G.Node) (*G.Node, error) { return Embedding(in[0], in[1]) }},
		{"Attention", []input{{shape: tensor.Shape{12, 4}, diff: true}, {shape: tensor.Shape{12, 4}, diff: true},
			{shape: tensor.Shape{12, 4}, diff: true}, {shape: tensor.Shape{2, 6}, vals: add}},
			func(in []*G.Node) (*G.Node, error) {
				return Attention(in[0], in[1], in[2], in[3], AttentionConfig{Batch: 2, Heads: 2})
			}},
		{"SelfAttention", []input{{shape: tensor.Shape{12, 12}, diff: true}, {shape: tensor.Shape{2, 6}, vals: add}},
			func(in []*G.Node) (*G.Node, error) {
				return SelfAttention(in[0], in[1], AttentionConfig{Batch: 2, Heads: 2})
			}},
		{"PoolMean", []input{{shape: tensor.Shape{2, 6, 3}, diff: true}, {shape: tensor.Shape{2, 6}, vals: mask}},
			func(in []*G.Node) (*G.Node, error) { return Pool(in[0], in[1], PoolMean) }},
		{"PoolMeanSqrtLen", []input{{shape: tensor.Shape{12, 3}, diff: true}, {shape: tensor.Shape{2, 6}, vals: mask}},
			func(in []*G.Node) (*G.Node, error) { return Pool(in[0], in[1], PoolMeanSqrtLen) }},
		{"PoolCLS", []input{{shape: tensor.Shape{12, 3}, diff: true}, {shape: tensor.Shape{2, 6}, vals: mask}},
			func(in []*G.Node) (*G.Node, error) { return Pool(in[0], in[1], PoolCLS) }},
		{"PoolMax", []input{{shape: tensor.Shape{12, 3}, diff: true}, {shape: tensor.Shape{2, 6}, vals: mask}},
			func(in []*G.Node) (*G.Node, error) { return Pool(in[0], in[1], PoolMax) }},
		{"Normalize", []input{{shape: tensor.Shape{3, 4}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Normalize(in[0]) }},
		{"Stack", []input{{shape: tensor.Shape{5, 3}}, {shape: tensor.Shape{2, 3}, diff: true}, {shape: tensor.Shape{3, 3}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Stack(in[0], in[1], in[2]) }},
		{"Concat", []input{{shape: tensor.Shape{2, 3}, diff: true}, {shape: tensor.Shape{3, 3}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Concat(in[0], in[1]) }},
		{"Reshape", []input{{shape: tensor.Shape{3, 4}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Reshape(in[0], tensor.Shape{2, 6}) }},
		{"ReshapeScalar", []input{{shape: tensor.Shape{1, 1}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Reshape(in[0], tensor.ScalarShape()) }},
		{"GELUNew", []input{{shape: tensor.Shape{3, 5}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return GELUNew(in[0]) }},
		{"ReLU", []input{{shape: tensor.Shape{3, 5}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return ReLU(in[0]) }},
		{"Softmax", []input{{shape: tensor.Shape{2, 3, 5}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return Softmax(in[0]) }},
		{"LogSoftmax", []input{{shape: tensor.Shape{4, 5}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return LogSoftmax(in[0]) }},
		{"RMSNorm", []input{{shape: tensor.Shape{4, 6}, diff: true}, {shape: tensor.Shape{6}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return RMSNorm(in[0], in[1], 1e-6) }},
		{"CrossEntropy", []input{{shape: tensor.Shape{4, 5}, diff: true}, {shape: tensor.Shape{4}, ints: []int{3, -100, 0, 3}}},
			func(in []*G.Node) (*G.Node, error) { return CrossEntropy(in[0], in[1]) }},
		{"PositionBias", []input{{shape: tensor.Shape{4, 2}, diff: true}, {shape: tensor.Shape{6}, ints: []int{0, 3, 1, 1, 2, 0}},
			{shape: tensor.Shape{2, 2, 3}}},
			func(in []*G.Node) (*G.Node, error) { return PositionBias(in[0], in[1], in[2]) }},
		{"MatMul", []input{{shape: tensor.Shape{3, 4}, diff: true}, {shape: tensor.Shape{4, 2}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return MatMul(in[0], in[1], false, false) }},
		{"MatMulTrans", []input{{shape: tensor.Shape{4, 3}, diff: true}, {shape: tensor.Shape{2, 4}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return MatMul(in[0], in[1], true, true) }},
		{"BatchedMatMul", []input{{shape: tensor.Shape{2, 3, 4}, diff: true}, {shape: tensor.Shape{2, 5, 4}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { return MatMul(in[0], in[1], false, true) }},
		{"Attend", []input{{shape: tensor.Shape{6, 4}, diff: true}, {shape: tensor.Shape{8, 8}, diff: true},
			{shape: tensor.Shape{4, 3, 4}, diff: true}},
			func(in []*G.Node) (*G.Node, error) { // T5 cross-attention: q [2·3, 4], k|v [2·4, 8], bias [2·2, 3, 4]
				a := &kernel.Attention{Batch: 2, Heads: 2, Queries: 3, Keys: 4, HeadDim: 2, Scale: 1,
					Q: kernel.Rows(3, 4, 0, 2), K: kernel.Rows(4, 8, 0, 2), V: kernel.Rows(4, 8, 4, 2),
					Out: kernel.Rows(3, 4, 0, 2), Bias: kernel.Blocks(2, 3, 4)}
				return Attend(in[0], in[1], in[1], in[2], a, tensor.Shape{6, 4}, nil)
			}},
	}
}

// TestGradients checks every op's symbolic gradient against central finite
// differences of sum(out · r) for a random r, in float64: |Δ| <= 1e-6 + 1e-5·|numeric|.
func TestGradients(t *testing.T) {
	for _, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			g := G.NewGraph()
			var nodes, wrt []*G.Node
			var backs [][]float64
			for i, in := range c.inputs {
				var v *tensor.Dense
				if in.ints != nil {
					v = tensor.New(tensor.WithShape(in.shape...), tensor.WithBacking(append([]int{}, in.ints...)))
				} else {
					b := make([]float64, in.shape.TotalSize())
					for j := range b {
						b[j] = rng.NormFloat64()
					}
					if in.vals != nil {
						copy(b, in.vals)
					}
					v = tensor.New(tensor.WithShape(in.shape...), tensor.WithBacking(b))
					if in.diff {
						backs = append(backs, b)
					}
				}
				n := G.NewTensor(g, v.Dtype(), len(in.shape), G.WithShape(in.shape...), G.WithValue(v), G.WithName(string(rune('a'+i))))
				nodes = append(nodes, n)
				if in.diff {
					wrt = append(wrt, n)
				}
			}
			out, err := c.build(nodes)
			require.NoError(t, err)
			r := make([]float64, max(1, out.Shape().TotalSize()))
			for j := range r {
				r[j] = rng.NormFloat64()
			}
			rn := G.NewScalar(g, tensor.Float64, G.WithValue(r[0]), G.WithName("r")) // a scalar output (a loss)
			if !out.IsScalar() {
				rn = G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...),
					G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(r))), G.WithName("r"))
			}
			cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, rn))))
			grads, err := G.Grad(cost, wrt...)
			require.NoError(t, err)
			var costVal G.Value
			G.Read(cost, &costVal)
			gradVals := make([]G.Value, len(grads))
			for i := range grads {
				G.Read(grads[i], &gradVals[i])
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			run := func() float64 {
				m.Reset()
				require.NoError(t, m.RunAll())
				return costVal.Data().(float64)
			}
			run()
			analytic := make([][]float64, len(grads))
			for i, v := range gradVals {
				analytic[i] = append([]float64{}, v.Data().([]float64)...)
			}
			const h = 1e-5
			var worst float64
			for i, b := range backs {
				for j, num := range testutil.NumericGrad(b, h, run) {
					worst = math.Max(worst, math.Abs(num-analytic[i][j]))
					assert.InDeltaf(t, num, analytic[i][j], 1e-6+1e-5*math.Abs(num), "input %d element %d", i, j)
				}
			}
			t.Logf("max |analytic - numeric| = %.3g", worst)
		})
	}
}
