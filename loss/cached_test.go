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

// TestCachedMNRLIsMNRL checks that CachedMNRL's loss and gradients as a plain
// Loss, and EmbeddingGradients (GradCache's step 2) of both losses, equal
// MNRL's graph. Tolerance: the same float64 arithmetic, 1e-12.
func TestCachedMNRLIsMNRL(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	mats := [][][]float64{randomMatrix(rng, 5, 4, 1), randomMatrix(rng, 5, 4, 1), randomMatrix(rng, 5, 4, 1)}
	want := runMNRL(t, NewMNRL(), tensor.Float64, mats...)

	loss, grads := runLoss(t, NewCachedMNRL(2), tensor.Float64, nil, mats...)
	assert.InDelta(t, want.loss, loss, 1e-12)
	for c := range mats {
		testutil.AllClose(t, fmt.Sprintf("grad[%d]", c), grads[c], want.grads[c], 1e-12, 0)
	}

	embs := make([]*tensor.Dense, len(mats))
	for i, m := range mats {
		embs[i] = denseOf(tensor.Float64, m)
	}
	for _, l := range []Loss{NewMNRL(), NewCachedMNRL(3)} {
		loss, gs, err := EmbeddingGradients(l, embs, nil)
		require.NoError(t, err)
		assert.InDelta(t, want.loss, loss, 1e-12, "%T", l)
		require.Len(t, gs, len(mats))
		for c, g := range gs {
			assert.Equal(t, embs[c].Shape(), g.Shape())
			testutil.AllClose(t, fmt.Sprintf("%T EmbeddingGradients[%d]", l, c), g.Data().([]float64), want.grads[c], 1e-12, 0)
		}
	}
	assert.Equal(t, flatten(mats[0]), embs[0].Data(), "EmbeddingGradients modified its input")
}

// TestEmbeddingGradientsMarginMSE checks EmbeddingGradients with labels, in
// float32, against the MarginMSE oracle (1e-5 + 1e-5·|want|).
func TestEmbeddingGradientsMarginMSE(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	mats := [][][]float64{randomMatrix(rng, 3, 4, 1), randomMatrix(rng, 3, 4, 1), randomMatrix(rng, 3, 4, 1)}
	labels := randomMatrix(rng, 3, 1, 1)
	wantLoss, wantGrads := marginOracle(mats, labels)
	embs := make([]*tensor.Dense, len(mats))
	for i, m := range mats {
		embs[i] = denseOf(tensor.Float32, m)
	}
	lab := tensor.New(tensor.WithShape(3), tensor.WithBacking(to32(flatten(labels))))
	loss, gs, err := EmbeddingGradients(NewMarginMSE(), embs, lab)
	require.NoError(t, err)
	assert.InDelta(t, wantLoss, loss, 1e-5+1e-5*wantLoss)
	for c, g := range gs {
		testutil.AllClose(t, fmt.Sprintf("grad[%d]", c), floats(g), flatten(wantGrads[c]), 1e-5, 1e-5)
	}
}

// TestLossErrors checks that the new losses refuse bad input with errors
// that say what was wrong.
func TestLossErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	col := func(name string, b, d int) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(b, d), gorgonia.WithName(name))
	}
	q, p, n, n2 := col("q", 3, 4), col("p", 3, 4), col("n", 3, 4), col("n2", 3, 4)
	short := col("short", 2, 4)
	labels := func(name string, dt tensor.Dtype, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name))
	}
	for _, tc := range []struct {
		name   string
		l      Loss
		emb    []*gorgonia.Node
		labels *gorgonia.Node
		want   string
	}{
		{"MarginMSE without labels", NewMarginMSE(), []*gorgonia.Node{q, p, n}, nil, "MarginMSE needs labels"},
		{"MarginMSE without negatives", NewMarginMSE(), []*gorgonia.Node{q, p}, labels("l1", tensor.Float32, 3), "3 or more embedding columns"},
		{"MarginMSE labels of another length", NewMarginMSE(), []*gorgonia.Node{q, p, n}, labels("l2", tensor.Float32, 4), "want [3, 1]"},
		{"MarginMSE one label for two negatives", NewMarginMSE(), []*gorgonia.Node{q, p, n, n2}, labels("l3", tensor.Float32, 3), "want [3, 2]"},
		{"MarginMSE labels of another dtype", NewMarginMSE(), []*gorgonia.Node{q, p, n}, labels("l4", tensor.Float64, 3), "dtype"},
		{"MarginMSE ragged columns", NewMarginMSE(), []*gorgonia.Node{q, p, short}, labels("l5", tensor.Float32, 3), "want the anchors' shape"},
		{"MarginMSE same node twice", NewMarginMSE(), []*gorgonia.Node{q, p, p}, labels("l6", tensor.Float32, 3), "same node"},
		{"MarginMSE bad similarity", MarginMSE{Similarity: 9}, []*gorgonia.Node{q, p, n}, labels("l7", tensor.Float32, 3), "Similarity(9)"},
		{"CachedMNRL mini-batch 0", CachedMNRL{MNRL: NewMNRL()}, []*gorgonia.Node{q, p}, nil, "MiniBatchSize is 0"},
		{"CachedMNRL negative mini-batch", NewCachedMNRL(-1), []*gorgonia.Node{q, p}, nil, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.l.Compute(tc.emb, tc.labels)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := NewCachedMNRL(0).MiniBatch()
	assert.ErrorContains(t, err, "NewCachedMNRL(32)")
	_, _, err = EmbeddingGradients(nil, nil, nil)
	assert.ErrorContains(t, err, "needs a loss")
	_, _, err = EmbeddingGradients(NewMarginMSE(), []*tensor.Dense{tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float32))}, nil)
	assert.ErrorContains(t, err, "3 or more")
}
