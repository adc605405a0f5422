package encoder_test

import (
	"testing"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// goldenRows returns a golden [B, T] integer tensor as B rows.
func goldenRows(t *testing.T, g *testutil.Golden, name string) [][]int {
	t.Helper()
	x := g.T(t, name)
	flat := testutil.Ints(x)
	rows := make([][]int, x.Shape[0])
	for i := range rows {
		rows[i] = flat[i*x.Shape[1] : (i+1)*x.Shape[1]]
	}
	return rows
}

// handMNRL is MultipleNegativesRankingLoss written by a user with plain
// gorgonia ops: scores = scale · cos_sim(a, p), then the mean cross-entropy
// of each row against its diagonal entry.
func handMNRL(t *testing.T, a, p *G.Node, scale float64) *G.Node {
	t.Helper()
	unit := func(x *G.Node) *G.Node {
		n := G.Must(G.Sqrt(G.Must(G.Sum(G.Must(G.Square(x)), 1))))
		n = G.Must(G.Reshape(n, tensor.Shape{x.Shape()[0], 1}))
		return G.Must(G.BroadcastHadamardDiv(x, n, nil, []byte{1}))
	}
	b := a.Shape()[0]
	sim := G.Must(G.Mul(unit(a), G.Must(G.Transpose(unit(p)))))
	scores := G.Must(G.Mul(sim, G.NewConstant(float32(scale))))
	logp := G.Must(G.LogSoftMax(scores))
	eye := tensor.New(tensor.WithShape(b, b), tensor.Of(tensor.Float32))
	for i := range b {
		require.NoError(t, eye.SetAt(float32(1), i, i))
	}
	diag := G.Must(G.HadamardProd(logp, G.NewConstant(eye, G.WithName("eye"))))
	return G.Must(G.Neg(G.Must(G.Div(G.Must(G.Sum(diag)), G.NewConstant(float32(b))))))
}

// TestGraphCustomLoss builds the encoder into a user's graph, puts a
// hand-written MNRL on the two towers' sentence embeddings, differentiates
// with gorgonia.Grad, runs a TapeMachine and compares the loss and the
// gradient of every parameter with the reference MNRL's:
// |Δ| <= 1e-5 + 1e-4·|want|, as TestGradients.
func TestGraphCustomLoss(t *testing.T) {
	for _, name := range []string{"distilbert-tiny", "bert-tiny"} {
		t.Run(name, func(t *testing.T) {
			gold := testutil.LoadGolden(t, name)
			m, err := encoder.Load(t.Context(), testutil.Fixture(name), encoder.LoadOptions{})
			require.NoError(t, err)

			g := G.NewGraph()
			enc, err := m.Graph(g)
			require.NoError(t, err)
			var towers [2]*encoder.Tower
			for i, col := range []string{"query", "passage"} {
				ids, mask := goldenRows(t, gold, col+".input_ids"), goldenRows(t, gold, col+".attention_mask")
				var types [][]int
				if _, ok := gold.Tensors[col+".token_type_ids"]; ok {
					types = goldenRows(t, gold, col+".token_type_ids")
				}
				towers[i], err = enc.Forward(len(ids), len(ids[0]))
				require.NoError(t, err)
				require.NoError(t, towers[i].Bind(ids, mask, types))
			}
			cost := handMNRL(t, towers[0].Embedding, towers[1].Embedding, 20)

			params := enc.Params()
			nodes := make(G.Nodes, len(params))
			names := make([]string, len(params))
			for i, p := range params {
				nodes[i], names[i] = p.Node, p.Name
			}
			grads, err := G.Grad(cost, nodes...)
			require.NoError(t, err)
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			require.NoError(t, vm.RunAll())

			var all, noGrad []string
			gold.Decode(t, "parameter_names", &all)
			gold.Decode(t, "fit_step", &struct {
				P *[]string `json:"params_without_grad"`
			}{&noGrad})
			var want []string
			for _, n := range all {
				if !contains(noGrad, n) {
					want = append(want, n)
				}
			}
			assert.Equal(t, want, names, "Params: named_parameters order, without the unused pooler")

			encoder.AllClose(t, "mnrl.loss", []float32{cost.Value().Data().(float32)}, gold.T(t, "mnrl.loss").F32, 1e-5, 1e-4)
			for i, n := range names {
				encoder.AllClose(t, "grad."+n, grads[i].Value().Data().([]float32), gold.T(t, "grad."+n).F32, 1e-5, 1e-4)
			}
		})
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// runTower builds one eval-mode forward pass of m over texts in a fresh
// graph and returns its sentence embeddings.
func runTower(t *testing.T, m *encoder.Model, texts []string) []float32 {
	t.Helper()
	g := G.NewGraph()
	enc, err := m.Graph(g)
	require.NoError(t, err)
	tw, err := enc.Forward(len(texts), m.MaxSeqLength())
	require.NoError(t, err)
	require.NoError(t, tw.BindTexts(texts))
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	return append([]float32(nil), tw.Embedding.Value().Data().([]float32)...)
}

var graphTexts = []string{"What is Python?", "Python is a programming language.", "Go has goroutines."}

// TestGraphEncode: a Graph's forward pass bound with BindTexts gives what
// Encode gives (|Δ| <= 1e-6: the same kernels, another padding length).
func TestGraphEncode(t *testing.T) {
	for _, name := range []string{"distilbert-tiny", "bert-tiny"} {
		t.Run(name, func(t *testing.T) {
			m, err := encoder.Load(t.Context(), testutil.Fixture(name), encoder.LoadOptions{})
			require.NoError(t, err)
			emb, err := m.Encode(t.Context(), graphTexts)
			require.NoError(t, err)
			got := runTower(t, m, graphTexts)
			for i, e := range emb {
				encoder.AllClose(t, graphTexts[i], got[i*m.Dim():(i+1)*m.Dim()], e, 1e-6, 0)
			}
		})
	}
}

// TestGraphCommit takes one plain gradient step on a Graph's weights, half
// of them updated in place and half given new tensors with gorgonia.Let,
// and checks that after Commit Encode sees the new weights (|Δ| <= 1e-6
// to a fresh Graph's forward pass) and that they moved.
func TestGraphCommit(t *testing.T) {
	m, err := encoder.Load(t.Context(), testutil.Fixture("distilbert-tiny"), encoder.LoadOptions{})
	require.NoError(t, err)
	before, err := m.Encode(t.Context(), graphTexts)
	require.NoError(t, err)

	g := G.NewGraph()
	enc, err := m.Graph(g)
	require.NoError(t, err)
	q, err := enc.Forward(len(graphTexts), 16)
	require.NoError(t, err)
	p, err := enc.Forward(len(graphTexts), 16)
	require.NoError(t, err)
	require.NoError(t, q.BindTexts(graphTexts))
	require.NoError(t, p.BindTexts([]string{"A language.", "Snakes.", "Concurrency."}))
	cost := handMNRL(t, q.Embedding, p.Embedding, 20)
	params := enc.Params()
	nodes := make(G.Nodes, len(params))
	for i, pr := range params {
		nodes[i] = pr.Node
	}
	grads, err := G.Grad(cost, nodes...)
	require.NoError(t, err)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	for i, n := range nodes {
		w := n.Value().Data().([]float32)
		gr := grads[i].Value().Data().([]float32)
		if i%2 == 0 {
			for j := range w {
				w[j] -= gr[j]
			}
			continue
		}
		nw := make([]float32, len(w))
		for j := range w {
			nw[j] = w[j] - gr[j]
		}
		require.NoError(t, G.Let(n, tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(nw))))
	}
	require.NoError(t, enc.Commit())

	after, err := m.Encode(t.Context(), graphTexts)
	require.NoError(t, err)
	fresh := runTower(t, m, graphTexts)
	for i := range after {
		encoder.AllClose(t, graphTexts[i], after[i], fresh[i*m.Dim():(i+1)*m.Dim()], 1e-6, 0)
		assert.NotEqual(t, before[i], after[i], "the embedding of %q did not change", graphTexts[i])
	}
}

// TestGraphErrors: clear errors for a second Graph of the same names in one
// ExprGraph (gorgonia would merge the nodes), which WithNodePrefix resolves,
// and for inputs that do not fit the forward pass.
func TestGraphErrors(t *testing.T) {
	m, err := encoder.Load(t.Context(), testutil.Fixture("bert-tiny"), encoder.LoadOptions{})
	require.NoError(t, err)
	g := G.NewGraph()
	enc, err := m.Graph(g)
	require.NoError(t, err)
	_, err = m.Graph(g)
	require.ErrorContains(t, err, "WithNodePrefix")
	_, err = m.Graph(g, encoder.WithNodePrefix("teacher."))
	require.NoError(t, err)
	tw, err := enc.Forward(2, 4)
	require.NoError(t, err)
	require.ErrorContains(t, tw.Bind([][]int{{1, 2, 3, 4, 5}, {1}}, [][]int{{1, 1, 1, 1, 1}, {1}}, nil), "row 0 of ids has 5 tokens")
	require.ErrorContains(t, tw.Bind([][]int{{1}}, [][]int{{1}}, nil), "1 rows of ids")
	require.ErrorContains(t, tw.BindTexts([]string{"a rather long text that will not fit", "b"}), "tokens")
	_, err = enc.Forward(1, 10000)
	require.ErrorContains(t, err, "max_position_embeddings")
}
