package loss

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/testutil"
)

// TestMNRLGolden feeds the golden sentence embeddings of the tiny bi-encoders
// to the loss and compares with sentence-transformers'
// MultipleNegativesRankingLoss(scale=20, cos_sim) on the same batch.
// "sentence_embedding_forward" is exactly what fit's loss saw (one forward of
// the padded batch); "sentence_embedding" comes from encode and differs from
// it in float32 rounding only. Tolerance: scores (|s| ≤ 20) atol 2e-5, loss
// atol 1e-5 — float32 rounding of 16-dim dot products and a 6-way softmax.
func TestMNRLGolden(t *testing.T) {
	for _, model := range []string{"distilbert-tiny", "bert-tiny"} {
		g := testutil.LoadGolden(t, model)
		wantScores := g.T(t, "mnrl.scores").F32
		wantLoss := g.T(t, "mnrl.loss").F32
		for _, emb := range []string{"sentence_embedding_forward", "sentence_embedding"} {
			t.Run(model+"/"+emb, func(t *testing.T) {
				q := g.T(t, "query."+emb)
				p := g.T(t, "passage."+emb)
				d := q.Shape[1]
				r := runMNRL(t, NewMNRL(), tensor.Float32, rowsOf(q.F32, d), rowsOf(p.F32, d))
				testutil.AllClose(t, "mnrl.scores", to32(r.scores), wantScores, 2e-5, 0)
				testutil.AllClose(t, "mnrl.loss", []float32{float32(r.loss)}, wantLoss, 1e-5, 0)
			})
		}
	}
}

// TestMNRLGradient checks d loss / d embeddings three ways: gorgonia's
// symbolic gradient in Float64 against central finite differences of the
// loss (h = 1e-5, tolerance 1e-8 + 1e-6·|g|) and against the hand-derived
// formula of mnrlOracle (1e-12 + 1e-9·|g|), and the Float32 gradient against
// the formula (atol 1e-6, the gradients are O(0.1)).
func TestMNRLGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(b, d int, std float64) [][]float64 {
		m := make([][]float64, b)
		for i := range m {
			m[i] = make([]float64, d)
			for j := range m[i] {
				m[i][j] = std * rng.NormFloat64()
			}
		}
		return m
	}
	type tc struct {
		name string
		l    MNRL
		mats [][][]float64
	}
	var cases []tc
	for _, model := range []string{"distilbert-tiny", "bert-tiny"} {
		g := testutil.LoadGolden(t, model)
		q, p := g.T(t, "query.sentence_embedding_forward"), g.T(t, "passage.sentence_embedding_forward")
		d := q.Shape[1]
		cases = append(cases, tc{model, NewMNRL(), [][][]float64{rowsOf(q.F32, d), rowsOf(p.F32, d)}})
	}
	cases = append(cases,
		tc{"cosine+2 hard negatives", MNRL{Scale: 20, Similarity: Cosine}, [][][]float64{random(4, 5, 1), random(4, 5, 1), random(4, 5, 1), random(4, 5, 1)}},
		tc{"dot+hard negative", MNRL{Scale: 1, Similarity: Dot}, [][][]float64{random(3, 4, 0.7), random(3, 4, 0.7), random(3, 4, 0.7)}},
		tc{"batch of one", MNRL{Scale: 5, Similarity: Cosine}, [][][]float64{random(1, 3, 1), random(1, 3, 1), random(1, 3, 1)}},
		tc{"dim one", MNRL{Scale: 3, Similarity: Dot}, [][][]float64{random(3, 1, 1), random(3, 1, 1)}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runMNRL(t, c.l, tensor.Float64, c.mats...)
			want := mnrlOracle(c.l.Scale, c.l.Similarity, c.mats[0], c.mats[1:]...)
			assert.InDelta(t, want.loss, got.loss, 1e-12+1e-9*want.loss, "loss vs oracle")
			oracleGrads := [][]float64{flatten(want.dA)}
			for _, dc := range want.dC {
				oracleGrads = append(oracleGrads, flatten(dc))
			}
			fd := finiteDifferences(t, c.l, c.mats, 1e-5)
			for i := range c.mats {
				testutil.AllClose(t, "Float64 gradient vs finite differences, input "+string(rune('a'+i)), got.grads[i], fd[i], 1e-8, 1e-6)
				testutil.AllClose(t, "Float64 gradient vs formula, input "+string(rune('a'+i)), got.grads[i], oracleGrads[i], 1e-12, 1e-9)
			}
			got32 := runMNRL(t, c.l, tensor.Float32, c.mats...)
			for i := range c.mats {
				testutil.AllClose(t, "Float32 gradient vs formula, input "+string(rune('a'+i)), got32.grads[i], oracleGrads[i], 1e-6, 1e-5)
			}
		})
	}
}

// TestMNRLOracle compares scores and loss with the plain-Go oracle, including
// hard negatives, the dot product and inputs where gorgonia's last-axis
// log-softmax breaks (see the package comment): dot scores of 1000 in row 0
// and about 10 in row 1 give +Inf there. Tolerances: Float64 1e-9 relative;
// Float32 1e-5 relative plus 1e-4 absolute for scores up to 1000.
func TestMNRLOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(b, d int) [][]float64 {
		m := make([][]float64, b)
		for i := range m {
			m[i] = make([]float64, d)
			for j := range m[i] {
				m[i][j] = rng.NormFloat64()
			}
		}
		return m
	}
	cases := []struct {
		name string
		l    MNRL
		mats [][][]float64
	}{
		{"dot, 1 hard negative", MNRL{Scale: 1, Similarity: Dot}, [][][]float64{random(5, 8), random(5, 8), random(5, 8)}},
		{"dot scaled, 3 hard negatives", MNRL{Scale: 0.5, Similarity: Dot}, [][][]float64{random(3, 6), random(3, 6), random(3, 6), random(3, 6), random(3, 6)}},
		{"cosine, 1 hard negative", NewMNRL(), [][][]float64{random(4, 7), random(4, 7), random(4, 7)}},
		{"dot, far-apart rows", MNRL{Scale: 1, Similarity: Dot}, [][][]float64{
			{{100, 0}, {1, 0}},
			{{10, 0}, {-1, 0}},
		}},
		{"cosine, zero anchor", NewMNRL(), [][][]float64{
			{{0, 0, 0}, {1, 2, 3}},
			{{1, 0, 1}, {0, 1, 1}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := mnrlOracle(c.l.Scale, c.l.Similarity, c.mats[0], c.mats[1:]...)
			grads := [][]float64{flatten(want.dA)}
			for _, dc := range want.dC {
				grads = append(grads, flatten(dc))
			}
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				atol, rtol := 1e-12, 1e-9
				if dt == tensor.Float32 {
					atol, rtol = 1e-4, 1e-5
				}
				got := runMNRL(t, c.l, dt, c.mats...)
				testutil.AllClose(t, dt.String()+" scores", got.scores, flatten(want.scores), atol, rtol)
				testutil.AllClose(t, dt.String()+" loss", []float64{got.loss}, []float64{want.loss}, atol, rtol)
				for i := range grads {
					testutil.AllClose(t, dt.String()+" gradient of input "+string(rune('a'+i)), got.grads[i], grads[i], atol, rtol)
				}
			}
		})
	}
}

func TestMNRLErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	n := 0
	m := func(dt tensor.Dtype, shape ...int) *gorgonia.Node {
		n++ // named: unnamed inputs of one shape would be merged into one node
		return gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(fmt.Sprintf("in%d", n)))
	}
	other := gorgonia.NewMatrix(gorgonia.NewGraph(), tensor.Float32, gorgonia.WithShape(2, 3))
	a, p := m(tensor.Float32, 2, 3), m(tensor.Float32, 2, 3)
	cases := []struct {
		name  string
		l     MNRL
		a     *gorgonia.Node
		cands []*gorgonia.Node
		want  string
	}{
		{"no candidates", NewMNRL(), a, nil, "at least one candidates node"},
		{"nil anchors", NewMNRL(), nil, []*gorgonia.Node{p}, "anchors node, got nil"},
		{"nil positives", NewMNRL(), a, []*gorgonia.Node{nil}, "candidates[0] (positives) is nil"},
		{"row mismatch", NewMNRL(), a, []*gorgonia.Node{m(tensor.Float32, 3, 3)}, "candidates[0] (positives) have shape (3, 3); want the anchors' shape (2, 3)"},
		{"dim mismatch in hard negatives", NewMNRL(), a, []*gorgonia.Node{p, m(tensor.Float32, 2, 4)}, "candidates[1] (hard negatives 1) have shape (2, 4)"},
		{"dtype mismatch", NewMNRL(), a, []*gorgonia.Node{m(tensor.Float64, 2, 3)}, "dtype float64 but the anchors float32"},
		{"vector anchors", NewMNRL(), m(tensor.Float32, 3), []*gorgonia.Node{m(tensor.Float32, 3)}, "want [batch, dim]"},
		{"other graph", NewMNRL(), a, []*gorgonia.Node{other}, "another graph"},
		{"zero scale", MNRL{}, a, []*gorgonia.Node{p}, "Scale is 0"},
		{"unknown similarity", MNRL{Scale: 20, Similarity: 7}, a, []*gorgonia.Node{p}, "Similarity is Similarity(7)"},
		{"integer dtype", NewMNRL(), m(tensor.Int, 2, 3), []*gorgonia.Node{m(tensor.Int, 2, 3)}, "supports Float32 and Float64"},
		// Deliverable 6 of issue 11: these used to return a loss of (about) 0.
		{"batch of one", NewMNRL(), m(tensor.Float32, 1, 3), []*gorgonia.Node{m(tensor.Float32, 1, 3)}, "loss is exactly 0"},
		{"anchors as positives", NewMNRL(), a, []*gorgonia.Node{a}, "candidates[0] (positives) is the anchors node itself"},
		{"anchors as hard negatives", NewMNRL(), a, []*gorgonia.Node{p, a}, "candidates[1] (hard negatives 1) is the anchors node itself"},
		{"positives as hard negatives", NewMNRL(), a, []*gorgonia.Node{p, p}, "candidates[1] (hard negatives 1) is the same node as candidates[0] (positives)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.l.Loss(c.a, c.cands...)
			require.ErrorContains(t, err, c.want)
			_, err = c.l.Scores(c.a, c.cands...)
			assert.Error(t, err, "Scores accepted what Loss refused")
			want := c.want
			if len(c.cands) == 0 {
				want = "at least 2 embedding columns"
			}
			_, err = c.l.Compute(append([]*gorgonia.Node{c.a}, c.cands...), nil)
			assert.ErrorContains(t, err, want, "Compute")
		})
	}
}

// TestMNRLMergedInputs reproduces the trap of issue 11: gorgonia merges two
// unnamed input nodes of one type and shape into one, so a loss built on
// "anchors" and "positives" made that way used to score every anchor against
// itself and return about 0. MNRL must refuse the merged node and accept the
// same inputs once named.
func TestMNRLMergedInputs(t *testing.T) {
	g := gorgonia.NewGraph()
	anchors := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 4))
	positives := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 4))
	_, err := NewMNRL().Loss(anchors, positives)
	require.ErrorContains(t, err, "gorgonia.WithName")

	anchors = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 4), gorgonia.WithName("anchors"))
	positives = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 4), gorgonia.WithName("positives"))
	require.NotSame(t, anchors, positives)
	_, err = NewMNRL().Loss(anchors, positives)
	require.NoError(t, err)
}

// TestMNRLCompute checks the Loss interface: Compute over the columns
// (anchors, positives, hard negatives) is Loss(anchors, candidates...) — the
// candidates are every positive of the batch, then every hard negative, as in
// sentence-transformers — and fewer than two columns is an error.
// Tolerance: the same graph, so 1e-12.
func TestMNRLCompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	mats := make([][][]float64, 3)
	for i := range mats {
		mats[i] = make([][]float64, 2)
		for r := range mats[i] {
			mats[i][r] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		}
	}
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(mats))
	for i, m := range mats {
		nodes[i] = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3),
			gorgonia.WithName(fmt.Sprintf("column%d", i)), gorgonia.WithValue(denseOf(tensor.Float64, m)))
	}
	var l Loss = NewMNRL()
	got, err := l.Compute(nodes, nil)
	require.NoError(t, err)
	machine := gorgonia.NewTapeMachine(g)
	defer machine.Close()
	require.NoError(t, machine.RunAll())
	want := mnrlOracle(20, Cosine, mats[0], mats[1:]...)
	assert.InDelta(t, want.loss, got.Value().Data().(float64), 1e-12)

	_, err = l.Compute(nodes[:1], nil)
	assert.ErrorContains(t, err, "at least 2 embedding columns")
}

// finiteDifferences returns (L(x+h) − L(x−h)) / 2h for every input element,
// evaluated with one Float64 forward graph rebound with gorgonia.Let.
func finiteDifferences(t *testing.T, l MNRL, mats [][][]float64, h float64) [][]float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(mats))
	vals := make([]*tensor.Dense, len(mats))
	for i, m := range mats {
		vals[i] = denseOf(tensor.Float64, m)
		// Distinct names: gorgonia merges unnamed input nodes of equal shape.
		nodes[i] = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(vals[i].Shape()...),
			gorgonia.WithName(string(rune('a'+i))), gorgonia.WithValue(vals[i]))
	}
	lossNode, err := l.Loss(nodes[0], nodes[1:]...)
	require.NoError(t, err)
	machine := gorgonia.NewTapeMachine(g)
	defer machine.Close()
	eval := func() float64 {
		for i := range nodes {
			require.NoError(t, gorgonia.Let(nodes[i], vals[i].Clone()))
		}
		require.NoError(t, machine.RunAll())
		defer machine.Reset()
		return lossNode.Value().Data().(float64)
	}
	out := make([][]float64, len(mats))
	for i := range vals {
		x := vals[i].Data().([]float64)
		out[i] = make([]float64, len(x))
		for j := range x {
			orig := x[j]
			x[j] = orig + h
			up := eval()
			x[j] = orig - h
			down := eval()
			x[j] = orig
			out[i][j] = (up - down) / (2 * h)
		}
	}
	return out
}
