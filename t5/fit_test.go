package t5

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// finetuneGolden is testdata/fixtures/t5-finetune: two steps of t5-tiny
// with the Trainer's optimizer recipe (see its golden.json).
type finetuneGolden struct {
	g     *testutil.Golden
	pairs []Pair
	opts  FitOptions
}

func loadFinetune(t *testing.T) finetuneGolden {
	g := testutil.LoadGolden(t, "t5-finetune")
	var in struct {
		Texts  []string `json:"texts"`
		Labels []string `json:"labels"`
	}
	g.Decode(t, "inputs", &in)
	require.Len(t, in.Labels, len(in.Texts))
	pairs := make([]Pair, len(in.Texts))
	for i := range pairs {
		pairs[i] = Pair{Passage: in.Texts[i], Query: in.Labels[i]}
	}
	// The fixture's recipe: one batch of all pairs, AdamW(lr 1e-3, betas
	// (0.9, 0.999), eps 1e-8, weight decay 0.01), clip 1, linear decay over
	// 10 steps without warm-up, of which it takes 2; inputs truncated at 64
	// tokens, labels at 16.
	opts := FitOptions{MaxSteps: 10, BatchSize: len(pairs), LearningRate: 1e-3, WeightDecay: 0.01,
		AdamBeta1: 0.9, AdamBeta2: 0.999, AdamEpsilon: 1e-8, MaxGradNorm: 1,
		MaxSourceLength: 64, MaxTargetLength: 16, stopAfter: 2}
	return finetuneGolden{g, pairs, opts}
}

// freshTiny loads its own t5-tiny, which Fit may change.
func freshTiny(t *testing.T) *Model {
	m, err := Load(t.Context(), testutil.Fixture("t5-tiny"), LoadOptions{})
	require.NoError(t, err)
	return m
}

// Tolerances against t5-finetune: losses |Δ| <= 1e-5 + 1e-5·|want|,
// gradient norms <= 1e-5 + 1e-5·|want|, every parameter after two steps
// |Δ| <= 1e-5.
func (f finetuneGolden) check(t *testing.T, m *Model, res FitResult) {
	t.Helper()
	require.Len(t, res.Losses, 2)
	require.Len(t, res.GradNorms, 2)
	for step := range 2 {
		pre := "step" + string(rune('0'+step))
		testutil.AllClose(t, pre+".loss", []float64{res.Losses[step]}, []float64{float64(f.g.T(t, pre+".loss").F32[0])}, 1e-5, 1e-5)
		testutil.AllClose(t, pre+".grad_norm", []float64{res.GradNorms[step]}, []float64{float64(f.g.T(t, pre+".grad_norm").F32[0])}, 1e-5, 1e-5)
	}
	names := m.ParameterNames()
	for _, name := range names {
		want := f.g.T(t, "after2."+name)
		got := m.Parameter(name)
		require.Equal(t, want.Shape, got.Shape, name)
		testutil.AllClose(t, "after2."+name, got.Data, want.F32, 1e-5, 0)
	}
	var after []string
	for k := range f.g.Tensors {
		if name, ok := strings.CutPrefix(k, "after2."); ok {
			after = append(after, name)
		}
	}
	assert.ElementsMatch(t, after, names, "every parameter of the fixture is checked")
}

func TestFitMatchesTrainer(t *testing.T) {
	f := loadFinetune(t)
	m := freshTiny(t)
	res, err := m.Fit(t.Context(), f.pairs, f.opts)
	require.ErrorIs(t, err, errInterrupted)
	assert.Equal(t, 2, res.Steps)
	f.check(t, m, res)
}

func TestFitDecayGroups(t *testing.T) {
	f := loadFinetune(t)
	m := freshTiny(t)
	m.mu.Lock()
	tr, err := m.newFitTrainer(f.opts, 0)
	m.mu.Unlock()
	require.NoError(t, err)
	var want []string
	f.g.Decode(t, "recipe", &struct {
		DecayNames *[]string `json:"decay_names"`
	}{&want})
	// get_parameter_names lists the tied embedding under each of its names;
	// the optimizer holds it once, as shared.weight.
	want = slices.DeleteFunc(want, func(n string) bool { return m.mod.byName(n) == nil })
	assert.Equal(t, want, tr.decayNames())
	assert.NotContains(t, tr.decayNames(), "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", "\"bias\" in the name spares it, as in Trainer")
}

func TestFitResume(t *testing.T) {
	f := loadFinetune(t)
	dir := t.TempDir()
	opts := f.opts
	opts.CheckpointDir, opts.CheckpointEvery, opts.stopAfter = dir, 1, 1

	res, err := freshTiny(t).Fit(t.Context(), f.pairs, opts)
	require.ErrorIs(t, err, errInterrupted)
	require.Equal(t, 1, res.Steps)

	for _, tc := range []struct {
		name   string
		change func(o *FitOptions)
		want   string
	}{
		{"without Resume", func(o *FitOptions) { o.Resume = false }, "set FitOptions.Resume"},
		{"another learning rate", func(o *FitOptions) { o.LearningRate = 2e-3 }, "another run (learning_rate"},
		{"another seed", func(o *FitOptions) { o.Seed = 7 }, "another run (seed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			o.Resume = true
			tc.change(&o)
			m := freshTiny(t)
			before := m.Parameter("shared.weight")
			_, err := m.Fit(t.Context(), f.pairs, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, before, m.Parameter("shared.weight"), "a refused resume leaves the weights alone")
		})
	}

	opts.Resume = true
	m := freshTiny(t)
	res, err = m.Fit(t.Context(), f.pairs, opts)
	require.ErrorIs(t, err, errInterrupted)
	assert.Equal(t, 1, res.Steps, "the resumed call takes step 1 only")
	f.check(t, m, res)
}

func TestFitErrors(t *testing.T) {
	pairs := []Pair{{"a passage", "a query"}}
	for _, tc := range []struct {
		name   string
		pairs  []Pair
		change func(o *FitOptions)
		want   string
	}{
		{"no pairs", nil, func(*FitOptions) {}, "no pairs"},
		{"batch size 0", pairs, func(o *FitOptions) { o.BatchSize = 0 }, "BatchSize must be positive"},
		{"no epochs", pairs, func(o *FitOptions) { o.Epochs = 0 }, "Epochs must be positive"},
		{"negative learning rate", pairs, func(o *FitOptions) { o.LearningRate = -1 }, "LearningRate"},
		{"warm-up ratio above 1", pairs, func(o *FitOptions) { o.WarmupRatio = 2 }, "WarmupRatio"},
		{"negative clip", pairs, func(o *FitOptions) { o.MaxGradNorm = -1 }, "MaxGradNorm"},
		{"negative max length", pairs, func(o *FitOptions) { o.MaxTargetLength = -1 }, "MaxTargetLength"},
		{"resume without a folder", pairs, func(o *FitOptions) { o.Resume = true }, "Resume needs the CheckpointDir"},
		{"beta2 of 1", pairs, func(o *FitOptions) { o.AdamBeta2 = 1 }, "beta2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultFitOptions()
			tc.change(&o)
			_, err := freshTiny(t).Fit(t.Context(), tc.pairs, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("no tokenizer", func(t *testing.T) {
		m := freshTiny(t)
		m.SetTokenizer(nil)
		_, err := m.Fit(t.Context(), pairs, DefaultFitOptions())
		assert.ErrorIs(t, err, errNoTokenizer)
	})
	t.Run("dropout rate of 1", func(t *testing.T) {
		m := freshTiny(t)
		m.files["config.json"] = []byte(`{"dropout_rate": 1}`)
		_, err := m.Fit(t.Context(), pairs, DefaultFitOptions())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "dropout_rate")
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		res, err := freshTiny(t).Fit(ctx, pairs, DefaultFitOptions())
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, res.Steps)
	})
}

// TestFitEpochs runs whole epochs with a short last batch, warm-up and the
// progress bar, and checks the bookkeeping.
func TestFitEpochs(t *testing.T) {
	pairs := []Pair{{"one passage", "q1"}, {"another passage here", "q2"}, {"a third", "q3"}}
	o := DefaultFitOptions()
	o.Epochs, o.BatchSize, o.WarmupRatio = 2, 2, 0.5
	var progress strings.Builder
	o.Progress = &progress
	m := freshTiny(t)
	res, err := m.Fit(t.Context(), pairs, o)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Steps, "2 epochs of ⌈3/2⌉ steps")
	assert.Len(t, res.Losses, 4)
	assert.Contains(t, progress.String(), "4/4")
	_, err = m.Generate(t.Context(), []string{"one passage"}, greedy(4))
	assert.NoError(t, err, "the model generates after Fit")
}

func TestSaveRoundTrip(t *testing.T) {
	f := loadFinetune(t)
	m := freshTiny(t)
	passages := []string{f.pairs[0].Passage, f.pairs[1].Passage}
	// Generating before Fit builds the decoder step's packed weights, which
	// Fit must drop.
	_, err := m.Generate(t.Context(), passages, greedy(8))
	require.NoError(t, err)
	_, err = m.Fit(t.Context(), f.pairs, f.opts)
	require.ErrorIs(t, err, errInterrupted)
	dir := filepath.Join(t.TempDir(), "fine-tuned")
	require.NoError(t, m.Save(dir))

	// The folder holds what save_pretrained writes: the original fixture
	// was written by transformers, so its file names, tensor names, shapes
	// and metadata are the reference.
	src := testutil.Fixture("t5-tiny")
	for _, name := range append(slices.Clone(modelFiles), "spiece.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json") {
		want, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, "Save writes %s", name)
		assert.Equal(t, want, got, "%s as loaded", name)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	got, meta, err := checkpoint.ParseSafetensors(b)
	require.NoError(t, err)
	b, err = os.ReadFile(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	ref, refMeta, err := checkpoint.ParseSafetensors(b)
	require.NoError(t, err)
	assert.Equal(t, refMeta, meta, "metadata")
	require.Len(t, got, len(ref), "the tensors save_pretrained writes (tied embeddings once, as shared.weight)")
	for name, r := range ref {
		g := got[name]
		if assert.NotNil(t, g, name) {
			assert.Equal(t, r.Shape, g.Shape, name)
			assert.Equal(t, r.DType, g.DType, name)
			assert.Equal(t, m.Parameter(name).Data, g.F32, "%s holds the trained weights", name)
		}
	}

	back, err := Load(t.Context(), dir, LoadOptions{})
	require.NoError(t, err)
	for _, name := range m.ParameterNames() {
		assert.Equal(t, m.Parameter(name), back.Parameter(name), name)
	}
	var ids [][]int
	for _, p := range passages {
		x, err := m.Tokenizer().Encode(p, 64)
		require.NoError(t, err)
		ids = append(ids, x)
	}
	want, err := m.GenerateIDs(t.Context(), ids, greedy(8))
	require.NoError(t, err)
	again, err := back.GenerateIDs(t.Context(), ids, greedy(8))
	require.NoError(t, err)
	assert.Equal(t, want, again, "the saved model generates what the trained one does, log-probabilities included")
}

func TestSaveUntiedAndNew(t *testing.T) {
	m := loadFixture(t, "t5-tiny-gated")
	dir := t.TempDir()
	require.NoError(t, m.Save(dir))
	ts, err := checkpoint.ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	assert.Contains(t, ts, "lm_head.weight", "an untied head is saved")

	// A model made with New saves its Config and weights, and no tokenizer.
	ws := map[string]*Tensor{}
	for name, t := range ts {
		ws[name] = &Tensor{Shape: t.Shape, Data: t.F32}
	}
	fresh, err := New(m.Config(), ws)
	require.NoError(t, err)
	dir2 := t.TempDir()
	require.NoError(t, fresh.Save(dir2))
	cfg, err := LoadConfig(dir2)
	require.NoError(t, err)
	want := m.Config()
	want.Architectures, want.ModelType = []string{"T5ForConditionalGeneration"}, "t5"
	assert.Equal(t, want, cfg)
	_, err = os.Stat(filepath.Join(dir2, "spiece.model"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "no tokenizer files without a loaded tokenizer")
}

// greedy is greedy decoding up to maxLength tokens.
func greedy(maxLength int) GenerateOptions {
	o := DefaultGenerateOptions()
	o.DoSample, o.NumReturnSequences, o.MaxLength = false, 1, maxLength
	return o
}

// withDropout sets the dropout_rate of m's config.json.
func withDropout(t *testing.T, m *Model, rate float64) {
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(m.files["config.json"], &cfg))
	cfg["dropout_rate"] = rate
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	m.files["config.json"] = b
}

// TestFitDropout: Fit applies the config's dropout_rate (the fixture's is
// 0), with masks that depend on the seed and the step only.
func TestFitDropout(t *testing.T) {
	f := loadFinetune(t)
	run := func(rate float64, change func(o *FitOptions)) (FitResult, *Model) {
		m := freshTiny(t)
		withDropout(t, m, rate)
		o := f.opts
		change(&o)
		res, err := m.Fit(t.Context(), f.pairs, o)
		require.ErrorIs(t, err, errInterrupted)
		return res, m
	}
	same := func(*FitOptions) {}
	a, ma := run(0.1, same)
	b, mb := run(0.1, same)
	assert.Equal(t, a.Losses, b.Losses, "the same seed gives the same masks")
	assert.Equal(t, ma.Parameter("shared.weight"), mb.Parameter("shared.weight"))
	c, _ := run(0.1, func(o *FitOptions) { o.Seed = 1 })
	assert.NotEqual(t, a.Losses, c.Losses, "another seed, other masks")
	d, md := run(0.1, func(o *FitOptions) { o.NoDropout = true })
	assert.NotEqual(t, a.Losses, d.Losses, "dropout changes the loss")
	f.check(t, md, d)
}

// TestDropoutGradients holds the gradients of the training graph with
// dropout to central differences of its loss under the same masks
// (reseeding the source before every pass), for entries of every kind of
// weight. float32 losses with h = 1e-2: |Δ| <= 2e-3 + 2e-2·|grad|.
func TestDropoutGradients(t *testing.T) {
	f := loadFinetune(t)
	m := freshTiny(t)
	tok := m.Tokenizer()
	var ids, labels [][]int
	for _, p := range f.pairs[:3] {
		x, err := tok.Encode(p.Passage, 24)
		require.NoError(t, err)
		y, err := tok.Encode(p.Query, 8)
		require.NoError(t, err)
		ids, labels = append(ids, x), append(labels, y)
	}
	drop := nn.NewDropout(0.3, 1)
	lossAt := func(withGrad bool) (float64, map[string]*Tensor) {
		drop.Reseed(7)
		m.mu.Lock()
		defer m.mu.Unlock()
		l, g, err := m.lossAndGradLocked(t.Context(), ids, nil, labels, withGrad, drop)
		require.NoError(t, err)
		return l, g
	}
	plain, _, err := m.LossAndGrad(t.Context(), ids, nil, labels)
	require.NoError(t, err)
	loss, grads := lossAt(true)
	assert.NotEqual(t, plain, loss, "dropout is applied")
	again, _ := lossAt(true)
	require.Equal(t, loss, again, "reseeding repeats the masks")

	const h = 1e-2
	for _, name := range []string{
		"encoder.block.0.layer.0.SelfAttention.q.weight",
		"encoder.block.1.layer.1.DenseReluDense.wi.weight",
		"decoder.block.0.layer.1.EncDecAttention.v.weight",
		"decoder.block.1.layer.2.DenseReluDense.wo.weight",
		"decoder.final_layer_norm.weight",
	} {
		p := m.mod.byName(name)
		g := grads[name]
		for _, i := range []int{0, len(p.Data) / 2, len(p.Data) - 1} {
			orig := p.Data[i]
			p.Data[i] = orig + h
			up, _ := lossAt(true)
			p.Data[i] = orig - h
			down, _ := lossAt(true)
			p.Data[i] = orig
			num := (up - down) / (2 * h)
			assert.InDelta(t, num, float64(g.Data[i]), 2e-3+2e-2*math.Abs(num), "%s[%d]", name, i)
		}
	}
}

// TestFitResumeMidEpoch: a run interrupted inside an epoch and resumed takes
// the same shuffled batches, dropout masks and steps as one that was not.
func TestFitResumeMidEpoch(t *testing.T) {
	pairs := []Pair{{"one passage", "q1"}, {"another passage here", "q2"}, {"a third", "q3"}}
	o := DefaultFitOptions()
	o.Epochs, o.BatchSize, o.LearningRate, o.WarmupSteps = 2, 1, 1e-3, 2
	m := freshTiny(t)
	withDropout(t, m, 0.1)
	whole, err := m.Fit(t.Context(), pairs, o)
	require.NoError(t, err)

	o.CheckpointDir, o.CheckpointEvery = t.TempDir(), 1
	r := freshTiny(t)
	withDropout(t, r, 0.1)
	o.stopAfter = 2
	_, err = r.Fit(t.Context(), pairs, o)
	require.ErrorIs(t, err, errInterrupted)
	r = freshTiny(t)
	withDropout(t, r, 0.1)
	o.stopAfter, o.Resume = 0, true
	resumed, err := r.Fit(t.Context(), pairs, o)
	require.NoError(t, err)
	assert.Equal(t, 4, resumed.Steps)
	assert.Equal(t, whole.Losses, resumed.Losses)
	assert.Equal(t, whole.GradNorms, resumed.GradNorms)
	for _, name := range m.ParameterNames() {
		assert.Equal(t, m.Parameter(name), r.Parameter(name), name)
	}

	again, err := r.Fit(t.Context(), pairs, o)
	require.NoError(t, err)
	assert.Zero(t, again.Steps, "a finished run takes no step")
	assert.Equal(t, whole.Losses, again.Losses)
}
