package encoder

import (
	"math"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fixtures are the two bi-encoder fixture folders.
var fixtures = []string{"distilbert-tiny", "bert-tiny"}

// eachFixture runs test as a subtest per fixture, with the fixture's model
// (loaded afresh, so a test may change it) and golden tensors.
func eachFixture(t *testing.T, test func(t *testing.T, m *Model, g *testutil.Golden)) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) { test(t, loadFixture(t, name), testutil.LoadGolden(t, name)) })
	}
}

// goldenBatch returns the golden tokenized batch of a column ("query" or "passage").
func goldenBatch(t *testing.T, g *testutil.Golden, col string) tokenized {
	t.Helper()
	rows := func(name string) [][]int {
		x := g.T(t, name)
		flat := testutil.Ints(x)
		var out [][]int
		for i := 0; i < x.Shape[0]; i++ {
			out = append(out, flat[i*x.Shape[1]:(i+1)*x.Shape[1]])
		}
		return out
	}
	tk := tokenized{ids: rows(col + ".input_ids"), mask: rows(col + ".attention_mask")}
	if _, ok := g.Tensors[col+".token_type_ids"]; ok {
		tk.types = rows(col + ".token_type_ids")
	}
	return tk
}

// allClose asserts |got - want| <= atol + rtol·|want| element-wise and logs
// the largest difference.
func allClose(t *testing.T, name string, got, want []float32, atol, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	d := testutil.Compare(got, want, atol, rtol)
	if assert.Zerof(t, d.Count, "%s: values outside atol=%g rtol=%g; max |Δ|=%.3g, first at index %d", name, atol, rtol, d.MaxAbs, d.FirstBad) {
		t.Logf("%s: max |Δ| = %.3g", name, d.MaxAbs)
	}
}

// TestForward runs the golden token ids through the model and compares the
// last hidden state (every position, padding included) and the mean-pooled
// embedding with the reference: |Δ| <= 2e-5 + 1e-4·|want|.
func TestForward(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		for _, col := range []string{"query", "passage"} {
			enc := goldenBatch(t, g, col)
			tokens, pooled, err := m.forward(enc)
			require.NoError(t, err)
			want := g.T(t, col+".token_embeddings")
			b, tt, d := want.Shape[0], want.Shape[1], want.Shape[2]
			padded := len(tokens) / (b * d)
			got := make([]float32, 0, b*tt*d)
			for i := 0; i < b; i++ {
				got = append(got, tokens[i*padded*d:(i*padded+tt)*d]...)
			}
			allClose(t, col+".token_embeddings", got, want.F32, 2e-5, 1e-4)
			allClose(t, col+".sentence_embedding_forward", pooled, g.T(t, col+".sentence_embedding_forward").F32, 2e-5, 1e-4)
		}
	})
}

// TestGraphDropout: a train-mode Graph (WithDropout) draws masks from its
// seed: the same seed gives bit-identical embeddings, Reseed replays them,
// and they differ from eval mode's.
func TestGraphDropout(t *testing.T) {
	cfg := &Config{ModelType: "distilbert", VocabSize: 30522, Hidden: 32, Layers: 2, Heads: 4, Intermediate: 64,
		MaxPositions: 64, LayerNormEps: 1e-12, HiddenDropout: 0.1, AttentionDropout: 0.1, Activation: "gelu"}
	m := randomModel(t, cfg, 3)
	texts := []string{"dropout in a user's graph", "two texts"}
	embed := func(opts ...GraphOption) func() []float32 {
		g := G.NewGraph()
		enc, err := m.Graph(g, opts...)
		require.NoError(t, err)
		tw, err := enc.Forward(len(texts), 16)
		require.NoError(t, err)
		require.NoError(t, tw.BindTexts(texts))
		vm := G.NewTapeMachine(g)
		t.Cleanup(func() { vm.Close() })
		return func() []float32 {
			enc.Reseed(42)
			require.NoError(t, run(vm))
			return append([]float32(nil), tw.Embedding.Value().Data().([]float32)...)
		}
	}
	a, b, eval := embed(WithDropout(42)), embed(WithDropout(42)), embed()
	first := a()
	assert.Equal(t, first, b(), "same seed")
	assert.Equal(t, first, a(), "Reseed replays the masks")
	assert.NotEqual(t, first, eval(), "train mode differs from eval mode")
}

// TestAdditiveMask: 0 for tokens and -MaxFloat32 for padding, in both
// float dtypes.
func TestAdditiveMask(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := G.NewGraph()
		vals := []float64{1, 1, 0, 1, 0, 0}
		want := []float64{0, 0, -math.MaxFloat32, 0, -math.MaxFloat32, -math.MaxFloat32}
		back := tensor.New(tensor.WithShape(2, 3), tensor.Of(dt))
		for i, v := range vals {
			require.NoError(t, back.SetAt(convert(dt, v), i/3, i%3))
		}
		mask := G.NewMatrix(g, dt, G.WithShape(2, 3), G.WithName("mask"), G.WithValue(back))
		add, err := AdditiveMask(mask)
		require.NoError(t, err)
		vm := G.NewTapeMachine(g)
		require.NoError(t, vm.RunAll())
		vm.Close()
		for i, w := range want {
			v, err := add.Value().(*tensor.Dense).At(i/3, i%3)
			require.NoError(t, err)
			assert.Equal(t, convert(dt, w), v, "%v element %d", dt, i)
		}
	}
}

func convert(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}
