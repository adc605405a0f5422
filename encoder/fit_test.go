package encoder

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/internal/train"
)

func fixturePairs(t *testing.T, g *testutil.Golden) []Pair {
	queries, passages := goldenPairs(t, g)
	out := make([]Pair, len(queries))
	for i := range queries {
		out[i] = Pair{queries[i], passages[i]}
	}
	return out
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
			m, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			opts := DefaultFitOptions()
			opts.Epochs, opts.BatchSize, opts.LearningRate, opts.WarmupRatio = 1, 6, lr, 0
			opts.inOrder = true
			if err := m.Fit(context.Background(), fixturePairs(t, g), opts); err != nil {
				t.Fatal(err)
			}
			var names []string
			g.Decode(t, "parameter_names", &names)
			got := map[string][]float32{}
			for _, p := range append(m.body.params(), m.body.extras()...) {
				got[p.name] = p.data()
			}
			var worst float64
			noise := 0
			for _, n := range names {
				want := g.T(t, "after_step."+n).F32
				grad, hasGrad := g.Tensors["grad."+n]
				if len(got[n]) != len(want) {
					t.Fatalf("%s: %d values, want %d", n, len(got[n]), len(want))
				}
				for i, w := range want {
					d := math.Abs(float64(got[n][i] - w))
					tol := 5e-6 + 1e-5*math.Abs(float64(w))
					if hasGrad && math.Abs(float64(grad.F32[i])) < 1e-6 && d > tol {
						tol, noise = 2*lr, noise+1
						t.Logf("after_step.%s[%d]: reference gradient %.2g is noise; |Δ| = %.3g", n, i, grad.F32[i], d)
					} else {
						worst = math.Max(worst, d)
					}
					if d > tol {
						t.Errorf("after_step.%s[%d] = %v, want %v (|Δ| %.3g > %.3g)", n, i, got[n][i], w, d, tol)
						break
					}
				}
			}
			t.Logf("after_step: max |Δ| = %.3g over weights with a real gradient; %d weights with a noise gradient moved differently, within 2·lr", worst, noise)
		})
	}
}

// TestFitResume interrupts a 2-epoch run (dropout 0.1, shuffled
// NoDuplicates batches, checkpoints every 2 steps) after 3 steps, resumes it
// in a fresh model from the step-2 checkpoint, and checks that the result is
// bit-identical to an uninterrupted run.
func TestFitResume(t *testing.T) {
	g := testutil.LoadGolden(t, "distilbert-tiny")
	pairs := fixturePairs(t, g)
	load := func() *Model {
		m, err := Load(t.Context(), testutil.Fixture("distilbert-tiny"), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m.cfg.HiddenDropout, m.cfg.AttentionDropout = 0.1, 0.1
		return m
	}
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate, opts.Seed = 2, 2, 1e-3, 7
	ctx := context.Background()

	whole := load()
	if err := whole.Fit(ctx, pairs, opts); err != nil {
		t.Fatal(err)
	}
	opts.CheckpointDir, opts.CheckpointEvery = t.TempDir(), 2
	cut := opts
	cut.stopAfter = 3
	if err := load().Fit(ctx, pairs, cut); !errors.Is(err, errInterrupted) {
		t.Fatalf("interrupted Fit returned %v", err)
	}
	resumed := load()
	if err := resumed.Fit(ctx, pairs, opts); err != nil {
		t.Fatal(err)
	}
	assertSameWeights(t, resumed, whole)
	same := load()
	assertDifferentWeights(t, same, whole)
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
	m, err := Load(t.Context(), testutil.Fixture("bert-tiny"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nan := float32(0)
	nan /= nan
	m.body.params()[3].data()[0] = nan // embeddings.LayerNorm.weight
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize = 1, 3
	err = m.Fit(context.Background(), fixturePairs(t, g), opts)
	if err == nil {
		t.Fatal("Fit with a NaN weight succeeded")
	}
	t.Log(err)
}

// TestFitCheckpoint checks what Fit does with the checkpoints in
// CheckpointDir: an interrupted run leaves the one of its last multiple of
// CheckpointEvery, a run with other settings refuses it, naming the
// setting, and the same run resumes from it, taking only the steps left.
func TestFitCheckpoint(t *testing.T) {
	g := testutil.LoadGolden(t, "distilbert-tiny")
	pairs := fixturePairs(t, g) // 6 pairs: 3 steps of 2 per epoch
	load := func() *Model {
		m, err := Load(t.Context(), testutil.Fixture("distilbert-tiny"), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	opts := DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate, opts.Seed = 2, 2, 1e-3, 7
	opts.CheckpointDir, opts.CheckpointEvery = t.TempDir(), 2
	ctx := context.Background()

	cut := opts
	cut.stopAfter = 3
	if err := load().Fit(ctx, pairs, cut); !errors.Is(err, errInterrupted) {
		t.Fatalf("interrupted Fit returned %v", err)
	}
	c, err := (&train.Store{Dir: opts.CheckpointDir}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != 2 || c.Extra["total_steps"] != "6" {
		t.Fatalf("checkpoint at step %d of a run of %s steps, want step 2 of 6", c.Step, c.Extra["total_steps"])
	}

	for _, tc := range []struct {
		setting string
		change  func(*FitOptions)
	}{
		{"total_steps", func(o *FitOptions) { o.Epochs = 3 }},
		{"seed", func(o *FitOptions) { o.Seed = 8 }},
		{"learning_rate", func(o *FitOptions) { o.LearningRate = 2e-3 }},
		{"batches", func(o *FitOptions) { o.inOrder = true }},
	} {
		other := opts
		tc.change(&other)
		err := load().Fit(ctx, pairs, other)
		if err == nil || !strings.Contains(err.Error(), tc.setting) {
			t.Errorf("Fit with another %s over the checkpoint returned %v, want an error naming %s", tc.setting, err, tc.setting)
		}
	}

	rest := opts
	rest.stopAfter = 4 // the run has 4 steps left: reaching the end first proves it resumed at step 2
	if err := load().Fit(ctx, pairs, rest); err != nil {
		t.Fatalf("resumed Fit returned %v, want it to finish the 4 steps left", err)
	}
}
