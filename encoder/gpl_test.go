package encoder

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
)

// gplTuple is one (query, positive, negative) tuple of testdata/fixtures/gpl.
type gplTuple struct {
	Query    string `json:"query"`
	Positive string `json:"positive"`
	Negative string `json:"negative"`
}

// gplExamples returns the gpl fixture's tuples as MarginMSE examples: texts
// (query, positive, negative), label the cross-encoder margin margin.label.
func gplExamples(t *testing.T, g *testutil.Golden) []Example {
	var tuples []gplTuple
	g.Decode(t, "tuples", &tuples)
	labels := g.T(t, "margin.label").F32
	require.Len(t, labels, len(tuples))
	out := make([]Example, len(tuples))
	for i, tu := range tuples {
		out[i] = Example{Texts: []string{tu.Query, tu.Positive, tu.Negative}, Labels: []float64{float64(labels[i])}}
	}
	return out
}

// tokenizeColumns tokenizes the examples' text columns as Fit does.
func tokenizeColumns(t *testing.T, m *Model, examples []Example) []tokenized {
	cols := make([]tokenized, len(examples[0].Texts))
	for c := range cols {
		texts := make([]string, len(examples))
		for i, e := range examples {
			texts[i] = e.Texts[c]
		}
		var err error
		cols[c], err = m.tokenize(texts)
		require.NoError(t, err)
	}
	return cols
}

// assertGrads compares the gradient of every distilbert-tiny parameter
// (got, by name) with the golden tensors prefix+name of g: |Δ| <= 1e-5 +
// 1e-4·|want|, TestGradients' tolerance.
func assertGrads(t *testing.T, got map[string][]float32, g *testutil.Golden, prefix string) {
	t.Helper()
	var names []string
	testutil.LoadGolden(t, "distilbert-tiny").Decode(t, "parameter_names", &names)
	require.NotEmpty(t, names)
	for _, n := range names {
		if gr, ok := got[n]; assert.True(t, ok, "no gradient for %s", n) {
			allClose(t, prefix+n, gr, g.T(t, prefix+n).F32, 1e-5, 1e-4)
		}
	}
}

// TestMarginMSEGradients runs the training graph with MarginMSE (dot
// product) on the gpl fixture's 6 (query, positive, negative) tuples and
// their cross-encoder margins, dropout 0 as in the fixture, and compares
// the loss and the gradient of every parameter with sentence-transformers'
// MarginMSELoss: |Δ| <= 1e-5 + 1e-4·|want|.
func TestMarginMSEGradients(t *testing.T) {
	g := testutil.LoadGolden(t, "gpl")
	m := loadFixture(t, "distilbert-tiny")
	examples := gplExamples(t, g)
	cols := tokenizeColumns(t, m, examples)
	lens := []int{len(cols[0].ids[0]), len(cols[1].ids[0]), len(cols[2].ids[0])}
	tg, err := m.buildTrainLabeled(len(examples), lens, loss.NewMarginMSE(), 1, nil, nil, nil)
	require.NoError(t, err)
	labels := make([][]float64, len(examples))
	for i, e := range examples {
		labels[i] = e.Labels
	}
	require.NoError(t, tg.setLabels(labels))
	require.NoError(t, tg.step(cols...))
	allClose(t, "marginmse.loss", []float32{float32(tg.lossValue())}, g.T(t, "marginmse.loss").F32, 1e-5, 1e-4)
	got := map[string][]float32{}
	for i, p := range tg.params {
		got[p.name] = tg.gradData()[i]
	}
	assertGrads(t, got, g, "marginmse.grad.")
}

// TestMarginMSEFitStep takes the fixture's one fit() step with MarginMSE
// (the 6 tuples as one batch in order, AdamW lr 1e-3, no warm-up, weight
// decay 0.01, clip at 1) and compares every parameter with
// marginmse.after_step.<param> at TestFitStep's tolerance.
func TestMarginMSEFitStep(t *testing.T) {
	const lr = 1e-3
	g := testutil.LoadGolden(t, "gpl")
	m := loadFixture(t, "distilbert-tiny")
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate, opts.WarmupRatio = 1, 6, lr, 0
	opts.inOrder = true
	res, err := m.Fit(context.Background(), gplExamples(t, g), loss.NewMarginMSE(), opts)
	require.NoError(t, err)
	require.Len(t, res.Losses, 1)
	want := float64(g.T(t, "marginmse.loss").F32[0])
	assert.InDelta(t, want, res.Losses[0], 1e-5+1e-4*want, "the step's loss")
	assertAfterStep(t, m, g, "marginmse.after_step.", "marginmse.grad.", lr)
}

// cachedGrads takes one gradient-cached step of the CachedMNRL loss l at
// learning rate 0 without clipping, so that the weights stay and the
// optimizer's gradients are the loss's, and returns the loss and the
// gradients by parameter name. It steps with the host optimizer, which
// reads the gradients back (on a GPU too, where the graphs run there).
func cachedGrads(t *testing.T, m *Model, l loss.Loss, cols []tokenized) (float64, map[string][]float32) {
	opts := DefaultFitOptions()
	opts.MaxGradNorm = math.MaxFloat32
	opts.hostOptimizer = true
	tr, err := m.newTrainer(opts, l)
	require.NoError(t, err)
	require.NotNil(t, tr.cache)
	lv, err := tr.step(0, cols, 0)
	require.NoError(t, err)
	got := map[string][]float32{}
	for _, p := range m.body.params() {
		got[p.name] = append([]float32(nil), tr.byParam[p].Grad...)
	}
	return lv, got
}

// TestCachedMNRLGradients takes a gradient-cached step of CachedMNRL (scale
// 20, cosine) on the 6 golden pairs of distilbert-tiny and compares the loss
// and every parameter's gradient with sentence-transformers'
// CachedMultipleNegativesRankingLoss (mini_batch_size 2) and with
// MultipleNegativesRankingLoss on the same batch (golden grad.*), for
// mini-batches of 2 (the fixture's), 4 (a ragged last mini-batch of 2), 1
// and 6 (one mini-batch): |Δ| <= 1e-5 + 1e-4·|want|, TestGradients' tolerance.
func TestCachedMNRLGradients(t *testing.T) {
	g := testutil.LoadGolden(t, "gpl")
	ref := testutil.LoadGolden(t, "distilbert-tiny")
	m := loadFixture(t, "distilbert-tiny")
	cols := []tokenized{goldenBatch(t, ref, "query"), goldenBatch(t, ref, "passage")}
	for _, mb := range []int{2, 4, 1, 6} {
		lv, got := cachedGrads(t, m, loss.NewCachedMNRL(mb), cols)
		allClose(t, "cmnrl.loss", []float32{float32(lv)}, g.T(t, "cmnrl.loss").F32, 1e-5, 1e-4)
		allClose(t, "mnrl.loss", []float32{float32(lv)}, ref.T(t, "mnrl.loss").F32, 1e-5, 1e-4)
		assertGrads(t, got, g, "cmnrl.grad.")
		assertGrads(t, got, ref, "grad.")
	}
}

// TestGradCacheDropoutMasks checks the premise of gradient caching under
// dropout: a mini-batch's forward-only run and its training run, reseeded
// alike, draw the same masks, so the training run's embeddings are the
// cached ones (bit for bit: the same kernels on the same inputs); a
// different seed gives other embeddings.
func TestGradCacheDropoutMasks(t *testing.T) {
	ref := testutil.LoadGolden(t, "distilbert-tiny")
	m := loadFixture(t, "distilbert-tiny")
	m.cfg.HiddenDropout, m.cfg.AttentionDropout = 0.1, 0.1
	opts := DefaultFitOptions()
	tr, err := m.newTrainer(opts, loss.NewCachedMNRL(4))
	require.NoError(t, err)
	sub := goldenBatch(t, ref, "passage").rows(0, 4)
	d := m.Dim()
	cached := make([]float32, 4*d)
	tr.reseed(cacheSeed(1, 3, 1, 0))
	require.NoError(t, tr.embedCached(sub, bucket(sub, m.maxSeqLen), cached))

	ct, err := tr.trainCached(4, bucket(sub, m.maxSeqLen))
	require.NoError(t, err)
	rerun := func(seed uint64) []float32 {
		up := tensor.New(tensor.WithShape(4, d), tensor.WithBacking(make([]float32, 4*d)))
		require.NoError(t, G.Let(ct.upstream, up))
		tr.reseed(seed)
		require.NoError(t, ct.tg.step(sub))
		return append([]float32(nil), ct.emb.Value().Data().([]float32)...)
	}
	assert.Equal(t, cached, rerun(cacheSeed(1, 3, 1, 0)), "the training run's embeddings")
	assert.NotEqual(t, cached, rerun(cacheSeed(1, 3, 1, 4)), "embeddings under other masks")
}

// TestFitLabelsAndMiniBatchErrors checks Fit's errors for MarginMSE without
// labels, labels of uneven count and a CachedMNRL mini-batch size of 0.
func TestFitLabelsAndMiniBatchErrors(t *testing.T) {
	g := testutil.LoadGolden(t, "gpl")
	examples := gplExamples(t, g)
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize = 1, 3
	ctx := context.Background()

	unlabeled := make([]Example, len(examples))
	for i, e := range examples {
		unlabeled[i] = Example{Texts: e.Texts}
	}
	_, err := loadFixture(t, "distilbert-tiny").Fit(ctx, unlabeled, loss.NewMarginMSE(), opts)
	assert.ErrorContains(t, err, "MarginMSE needs labels")
	assert.ErrorContains(t, err, "Example.Labels")

	uneven := append([]Example(nil), examples...)
	uneven[2].Labels = nil
	_, err = loadFixture(t, "distilbert-tiny").Fit(ctx, uneven, loss.NewMarginMSE(), opts)
	assert.ErrorContains(t, err, "example 2 has 0 labels and example 0 has 1")

	_, err = loadFixture(t, "distilbert-tiny").Fit(ctx, unlabeled, loss.CachedMNRL{MNRL: loss.NewMNRL()}, opts)
	assert.ErrorContains(t, err, "MiniBatchSize is 0")
}
