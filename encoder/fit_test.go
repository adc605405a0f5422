package encoder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/internal/train"
	"github.com/genq-go/genq/loss"
)

// fixturePairs returns the golden (query, passage) pairs as two-text examples.
func fixturePairs(t *testing.T, g *testutil.Golden) []Example {
	queries, passages := goldenPairs(t, g)
	out := make([]Example, len(queries))
	for i := range queries {
		out[i] = Example{Texts: []string{queries[i], passages[i]}}
	}
	return out
}

// loadFixture loads a tiny fixture model.
func loadFixture(t *testing.T, name string) *Model {
	t.Helper()
	m, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
	require.NoError(t, err)
	return m
}

// TestFitStep takes exactly the reference's one fit() step (golden.json
// "fit_step": the 6 pairs as one batch in order, AdamW lr 1e-3, no warm-up,
// weight decay 0.01, clip at 1) and compares every parameter with
// after_step.<param>: |Δ| <= 5e-6 + 1e-5·|want|.
//
// One exception: AdamW's first step moves a weight by lr·g/(|g|+eps), about
// lr·sign(g), however small g is. Where the reference gradient is rounding
// noise (|g| < 1e-6, e.g. the attention key biases, whose true gradient is
// exactly 0 because softmax ignores a per-row constant), the sign is
// arbitrary, so there the test only bounds |Δ| by 2·lr.
func TestFitStep(t *testing.T) {
	const lr = 1e-3
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			g := testutil.LoadGolden(t, name)
			m := loadFixture(t, name)
			opts := DefaultFitOptions()
			opts.Epochs, opts.BatchSize, opts.LearningRate, opts.WarmupRatio = 1, 6, lr, 0
			opts.inOrder = true
			res, err := m.Fit(context.Background(), fixturePairs(t, g), loss.NewMNRL(), opts)
			require.NoError(t, err)
			require.Len(t, res.Losses, 1)
			assert.Equal(t, 1, res.Steps)
			assert.InDelta(t, g.T(t, "mnrl.loss").F32[0], res.Losses[0], 1e-5+1e-4*res.Losses[0], "the step's loss")
			assertAfterStep(t, m, g, "after_step.", "grad.", lr)
		})
	}
}

// resumeRun is the run TestFitResume and TestFitCheckpoint interrupt and
// resume: distilbert-tiny on the 6 golden pairs, 2 epochs of 3 steps of 2.
func resumeRun(t *testing.T) (load func() *Model, pairs []Example, opts FitOptions) {
	g := testutil.LoadGolden(t, "distilbert-tiny")
	opts = DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate, opts.Seed = 2, 2, 1e-3, 7
	return func() *Model { return loadFixture(t, "distilbert-tiny") }, fixturePairs(t, g), opts
}

// TestFitResume interrupts a 2-epoch run (dropout 0.1, shuffled
// NoDuplicates batches, checkpoints every 2 steps) after 3 steps, resumes it
// in a fresh model from the step-2 checkpoint, and checks that the result,
// weights and loss history, is bit-identical to an uninterrupted run: with
// MNRL, and with CachedMNRL in mini-batches of 1 (gradient caching draws
// its dropout masks from seeds of the step and mini-batch too).
func TestFitResume(t *testing.T) {
	for _, l := range []loss.Loss{nil, loss.NewCachedMNRL(1)} {
		t.Run(fmt.Sprintf("%T", l), func(t *testing.T) {
			loadPlain, pairs, opts := resumeRun(t)
			load := func() *Model {
				m := loadPlain()
				m.cfg.HiddenDropout, m.cfg.AttentionDropout = 0.1, 0.1
				return m
			}
			ctx := context.Background()

			whole := load()
			want, err := whole.Fit(ctx, pairs, l, opts)
			require.NoError(t, err)
			require.Len(t, want.Losses, 6)

			opts.CheckpointDir, opts.CheckpointEvery = t.TempDir(), 2
			cut := opts
			cut.stopAfter = 3
			part, err := load().Fit(ctx, pairs, l, cut)
			require.ErrorIs(t, err, errInterrupted)
			assert.Equal(t, want.Losses[:3], part.Losses, "the losses before the interruption")

			resumed := load()
			opts.Resume = true
			got, err := resumed.Fit(ctx, pairs, l, opts)
			require.NoError(t, err)
			assert.Equal(t, 4, got.Steps, "steps taken after resuming at the step-2 checkpoint")
			assert.Equal(t, want.Losses, got.Losses, "the loss history of a resumed run is the uninterrupted run's")
			assertSameWeights(t, resumed, whole)
			assertDifferentWeights(t, load(), whole)
		})
	}
}

// assertDifferentWeights guards TestFitResume against a run that changes nothing.
func assertDifferentWeights(t *testing.T, a, b *Model) {
	t.Helper()
	for i, p := range a.body.params() {
		if !bitsEqual(p.data(), b.body.params()[i].data()) {
			return
		}
	}
	t.Error("training left every weight unchanged")
}

// TestFitNaN checks that a non-finite loss stops Fit with an error.
func TestFitNaN(t *testing.T) {
	g := testutil.LoadGolden(t, "bert-tiny")
	m := loadFixture(t, "bert-tiny")
	m.body.params()[3].data()[0] = float32(math.NaN()) // embeddings.LayerNorm.weight
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize = 1, 3
	res, err := m.Fit(context.Background(), fixturePairs(t, g), nil, opts)
	require.ErrorContains(t, err, "step 0")
	assert.ErrorContains(t, err, "the loss is NaN")
	assert.Empty(t, res.Losses)
}

// TestFitCheckpoint checks what Fit does with the checkpoints in
// CheckpointDir: an interrupted run leaves the one of its last multiple of
// CheckpointEvery; a run with other settings refuses it, naming the
// setting, with or without Resume; the same run refuses it without Resume
// and resumes from it with Resume, taking only the steps left; a finished
// run leaves a checkpoint of its last step, which a second Fit refuses
// without Resume (issue 11: it used to resume silently and take 1 of 4
// steps) and with Resume loads, taking no step.
func TestFitCheckpoint(t *testing.T) {
	load, pairs, opts := resumeRun(t)
	opts.CheckpointDir, opts.CheckpointEvery = t.TempDir(), 4
	ctx := context.Background()

	cut := opts
	cut.stopAfter = 5
	_, err := load().Fit(ctx, pairs, nil, cut)
	require.ErrorIs(t, err, errInterrupted)
	c, err := (&train.Store{Dir: opts.CheckpointDir}).Load()
	require.NoError(t, err)
	assert.Equal(t, 4, c.Step)
	assert.Equal(t, "6", c.Extra["total_steps"])
	assert.Len(t, c.Losses, 4)

	for _, tc := range []struct {
		setting string
		change  func(*FitOptions)
		loss    loss.Loss
	}{
		{"total_steps", func(o *FitOptions) { o.Epochs = 3 }, nil},
		{"seed", func(o *FitOptions) { o.Seed = 8 }, nil},
		{"learning_rate", func(o *FitOptions) { o.LearningRate = 2e-3 }, nil},
		{"batches", func(o *FitOptions) { o.inOrder = true }, nil},
		{"loss", func(*FitOptions) {}, loss.MNRL{Scale: 10, Similarity: loss.Cosine}},
	} {
		for _, resume := range []bool{false, true} {
			other := opts
			other.Resume = resume
			tc.change(&other)
			_, err := load().Fit(ctx, pairs, tc.loss, other)
			assert.ErrorContains(t, err, "another run", "another %s, Resume %v", tc.setting, resume)
			assert.ErrorContains(t, err, tc.setting, "another %s, Resume %v", tc.setting, resume)
		}
	}

	_, err = load().Fit(ctx, pairs, nil, opts)
	require.ErrorContains(t, err, "an unfinished run (step 4 of 6)")
	assert.ErrorContains(t, err, "Resume")

	resume := opts
	resume.Resume = true
	finished := load()
	res, err := finished.Fit(ctx, pairs, nil, resume)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Steps, "a run resumed at step 4 of 6 takes 2 steps")
	assert.Len(t, res.Losses, 6)

	again := load()
	_, err = again.Fit(ctx, pairs, nil, opts)
	require.ErrorContains(t, err, "a finished run (step 6 of 6)")
	assertDifferentWeights(t, again, finished)
	res2, err := again.Fit(ctx, pairs, nil, resume)
	require.NoError(t, err)
	assert.Zero(t, res2.Steps, "resuming a finished run takes no step")
	assert.Equal(t, res.Losses, res2.Losses)
	assertSameWeights(t, again, finished)
}

// TestFitBatchOfOne is deliverable 6 of issue 11: with one pair per batch
// MNRL has a single candidate, its loss is exactly 0 and Fit used to
// "train" on it. It must fail before changing a weight; a hard negative
// gives a second candidate and makes batches of one trainable.
func TestFitBatchOfOne(t *testing.T) {
	g := testutil.LoadGolden(t, "distilbert-tiny")
	m, fresh := loadFixture(t, "distilbert-tiny"), loadFixture(t, "distilbert-tiny")
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate = 1, 1, 1e-3
	pairs := fixturePairs(t, g)
	_, err := m.Fit(context.Background(), pairs, nil, opts)
	require.ErrorContains(t, err, "loss is exactly 0")
	assertSameWeights(t, m, fresh)

	triplets := make([]Example, len(pairs))
	for i, p := range pairs {
		triplets[i] = Example{Texts: append(p.Texts, pairs[(i+1)%len(pairs)].Texts[1]+" (negative)")}
	}
	res, err := m.Fit(context.Background(), triplets, nil, opts)
	require.NoError(t, err)
	require.Len(t, res.Losses, 6)
	for _, l := range res.Losses {
		assert.Greater(t, l, 0.0)
	}
}

// TestFitHardNegatives checks the training graph with a third text column:
// its loss must be MNRL over the three columns' embeddings, which Encode
// computes independently — the candidates are all positives, then all hard
// negatives of the batch, as in sentence-transformers. Tolerance 1e-4
// relative: Encode's embeddings and the training graph's differ in float32
// rounding only.
func TestFitHardNegatives(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			g := testutil.LoadGolden(t, name)
			m := loadFixture(t, name)
			queries, passages := goldenPairs(t, g)
			negatives := append(passages[2:], passages[:2]...)
			cols := [][]string{queries, passages, negatives}

			var err error
			tok := make([]tokenized, len(cols))
			lens := make([]int, len(cols))
			for i, c := range cols {
				tok[i], err = m.tokenize(c)
				require.NoError(t, err)
				lens[i] = len(tok[i].ids[0])
			}
			tg, err := m.buildTrain(len(queries), lens, loss.NewMNRL(), nil, nil)
			require.NoError(t, err)
			require.NoError(t, tg.step(tok...))

			emb := make([]*G.Node, len(cols))
			graph := G.NewGraph()
			for i, c := range cols {
				e, err := m.Encode(context.Background(), c)
				require.NoError(t, err)
				flat := make([]float32, 0, len(e)*len(e[0]))
				for _, r := range e {
					flat = append(flat, r...)
				}
				emb[i] = G.NewMatrix(graph, tensor.Float32, G.WithShape(len(e), len(e[0])), G.WithName(columnTag(i)),
					G.WithValue(tensor.New(tensor.WithShape(len(e), len(e[0])), tensor.WithBacking(flat))))
			}
			want, err := loss.NewMNRL().Compute(emb, nil)
			require.NoError(t, err)
			vm := G.NewTapeMachine(graph)
			defer vm.Close()
			require.NoError(t, vm.RunAll())
			w := float64(want.Value().Data().(float32))
			assert.InDelta(t, w, tg.lossValue(), 1e-4*w, "loss over (anchor, positive, negative)")
			assert.Equal(t, []int{len(queries), 2 * len(queries)}, []int(tg.scoresNode.Shape()), "scores: every anchor against all positives and negatives")
		})
	}
}

// TestFitExamples checks Fit's checks on the examples and its options.
func TestFitExamples(t *testing.T) {
	m := loadFixture(t, "bert-tiny")
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize = 1, 2
	ex := []Example{{Texts: []string{"a", "b"}}, {Texts: []string{"c", "d", "e"}}}
	_, err := m.Fit(context.Background(), ex, nil, opts)
	assert.ErrorContains(t, err, "example 1 has 3 texts and example 0 has 2")
	ex = []Example{{Texts: []string{"a"}}, {Texts: []string{"c"}}}
	_, err = m.Fit(context.Background(), ex, nil, opts)
	assert.ErrorContains(t, err, "at least 2 embedding columns")
	bad := opts
	bad.EvaluateEvery = -1
	_, err = m.Fit(context.Background(), ex, nil, bad)
	assert.ErrorContains(t, err, "EvaluateEvery")
}

// TestFitEvaluate checks the evaluator: it runs after every EvaluateEvery-th
// step and at the end of every epoch, sees the model trained so far through
// Encode (which would deadlock if Fit kept the model locked), and an error it
// returns stops Fit. It also checks the progress writer.
func TestFitEvaluate(t *testing.T) {
	g := testutil.LoadGolden(t, "bert-tiny")
	m := loadFixture(t, "bert-tiny")
	ctx := context.Background()
	before, err := m.Encode(ctx, []string{"what is python"})
	require.NoError(t, err)

	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate, opts.EvaluateEvery = 2, 2, 1e-3, 2
	var progress bytes.Buffer
	opts.Progress = &progress
	var seen []FitStatus
	opts.Evaluate = func(ctx context.Context, s FitStatus) error {
		e, err := m.Encode(ctx, []string{"what is python"})
		require.NoError(t, err)
		assert.NotEqual(t, before, e, "Encode in the evaluator after step %d sees the trained weights", s.Step)
		seen = append(seen, s)
		return nil
	}
	res, err := m.Fit(ctx, fixturePairs(t, g), nil, opts)
	require.NoError(t, err)
	require.Len(t, res.Losses, 6)
	want := []FitStatus{
		{Step: 2, TotalSteps: 6, Epoch: 0, Loss: res.Losses[1]},
		{Step: 3, TotalSteps: 6, Epoch: 0, EpochEnd: true, Loss: res.Losses[2]},
		{Step: 4, TotalSteps: 6, Epoch: 1, Loss: res.Losses[3]},
		{Step: 6, TotalSteps: 6, Epoch: 1, EpochEnd: true, Loss: res.Losses[5]},
	}
	assert.Equal(t, want, seen)
	assert.Contains(t, progress.String(), "6/6")

	stop := errors.New("enough")
	opts.Progress = nil
	opts.Evaluate = func(context.Context, FitStatus) error { return stop }
	res, err = m.Fit(ctx, fixturePairs(t, g), nil, opts)
	require.ErrorIs(t, err, stop)
	assert.ErrorContains(t, err, "after step 2")
	assert.Len(t, res.Losses, 2)
}

// TestFitCheckpointDirUnwritable: a CheckpointDir that cannot be written is
// an error before the first step (it used to surface at the first
// checkpoint, after the steps before it), and the weights are untouched.
func TestFitCheckpointDirUnwritable(t *testing.T) {
	load, pairs, opts := resumeRun(t)
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	opts.CheckpointDir = filepath.Join(file, "checkpoints")
	m, fresh := load(), load()
	res, err := m.Fit(context.Background(), pairs, nil, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CheckpointDir")
	assert.Contains(t, err.Error(), "choose a writable folder")
	assert.Zero(t, res.Steps, "steps taken before the error")
	assertSameWeights(t, m, fresh)
}

// TestFitFallsBackToOlderCheckpoint: Fit keeps the two latest checkpoints;
// when the latest is damaged, resuming takes the older one, says so (in the
// result and on Progress) and still ends bit-identical to an uninterrupted
// run (it used to keep one checkpoint, and restart from step 0).
func TestFitFallsBackToOlderCheckpoint(t *testing.T) {
	load, pairs, opts := resumeRun(t)
	ctx := context.Background()
	whole := load()
	want, err := whole.Fit(ctx, pairs, nil, opts)
	require.NoError(t, err)

	opts.CheckpointDir, opts.CheckpointEvery = t.TempDir(), 2
	cut := opts
	cut.stopAfter = 5
	_, err = load().Fit(ctx, pairs, nil, cut)
	require.ErrorIs(t, err, errInterrupted)
	latest := filepath.Join(opts.CheckpointDir, "step-000000004", "params.safetensors")
	b, err := os.ReadFile(latest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(latest, b[:len(b)/2], 0o644))

	var progress bytes.Buffer
	opts.Resume, opts.Progress = true, &progress
	resumed := load()
	got, err := resumed.Fit(ctx, pairs, nil, opts)
	require.NoError(t, err)
	assert.Equal(t, 4, got.Steps, "steps after falling back to the step-2 checkpoint")
	require.Len(t, got.SkippedCheckpoints, 1)
	assert.Contains(t, got.SkippedCheckpoints[0], "step-000000004")
	assert.Contains(t, progress.String(), "skipping a damaged checkpoint")
	assert.Contains(t, progress.String(), "resuming from the older checkpoint of step 2")
	assert.Equal(t, want.Losses, got.Losses)
	assertSameWeights(t, resumed, whole)
}

// assertAfterStep compares every parameter of m after one fit step at
// learning rate lr with the golden tensors after+name of g, at TestFitStep's
// tolerance (|Δ| <= 5e-6 + 1e-5·|want|, or 2·lr where the golden gradient
// grad+name is rounding noise). The names are the model's parameters.
func assertAfterStep(t *testing.T, m *Model, g *testutil.Golden, after, grad string, lr float64) {
	t.Helper()
	got := map[string][]float32{}
	var names []string
	for _, p := range append(m.body.params(), m.body.extras()...) {
		got[p.name] = p.data()
		if _, ok := g.Tensors[after+p.name]; ok {
			names = append(names, p.name)
		}
	}
	require.NotEmpty(t, names, "no golden %s tensors", after)
	golden := 0
	for k := range g.Tensors {
		if strings.HasPrefix(k, after) {
			golden++
		}
	}
	require.Len(t, names, golden, "golden %s tensors that name no parameter of the model", after)
	var worst float64
	noise := 0
	for _, n := range names {
		want := g.T(t, after+n).F32
		gr, hasGrad := g.Tensors[grad+n]
		require.Len(t, got[n], len(want), n)
		for i, w := range want {
			d := math.Abs(float64(got[n][i] - w))
			tol := 5e-6 + 1e-5*math.Abs(float64(w))
			if hasGrad && math.Abs(float64(gr.F32[i])) < 1e-6 && d > tol {
				tol, noise = 2*lr, noise+1
				t.Logf("%s%s[%d]: reference gradient %.2g is noise; |Δ| = %.3g", after, n, i, gr.F32[i], d)
			} else {
				worst = math.Max(worst, d)
			}
			if !assert.LessOrEqual(t, d, tol, "%s%s[%d] = %v, want %v", after, n, i, got[n][i], w) {
				break
			}
		}
	}
	t.Logf("%s: max |Δ| = %.3g over weights with a real gradient; %d weights with a noise gradient moved differently, within 2·lr", after, worst, noise)
}
