package optim

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// fitStep is golden.json["fit_step"] of the bi-encoder fixtures.
type fitStep struct {
	Optimizer struct {
		LR          float64   `json:"lr"`
		Betas       []float64 `json:"betas"`
		Eps         float64   `json:"eps"`
		ParamGroups []struct {
			WeightDecay float64  `json:"weight_decay"`
			Params      []string `json:"params"`
		} `json:"param_groups"`
	} `json:"optimizer"`
	GradClip struct {
		MaxNorm         float64 `json:"max_norm"`
		ClipCoefApplied float64 `json:"clip_coef_applied"`
	} `json:"grad_clip"`
	ParamsWithoutGrad []string `json:"params_without_grad"`
}

// fixture is one bi-encoder's initial weights, gradients and fit step.
type fixture struct {
	golden *testutil.Golden
	step   fitStep
	names  []string                      // parameter_names, in named_parameters() order
	init   map[string]*checkpoint.Tensor // model.safetensors
}

var models = []string{"distilbert-tiny", "bert-tiny"}

func loadFixture(t *testing.T, model string) fixture {
	t.Helper()
	f := fixture{golden: testutil.LoadGolden(t, model)}
	f.golden.Decode(t, "fit_step", &f.step)
	f.golden.Decode(t, "parameter_names", &f.names)
	var err error
	f.init, err = checkpoint.ReadSafetensors(filepath.Join(testutil.Fixture(model), "model.safetensors"))
	require.NoError(t, err)
	return f
}

// params returns fresh copies of the initial weights with the golden
// gradients (nil where the fixture has none).
func (f fixture) params(t *testing.T) []*Param {
	t.Helper()
	var ps []*Param
	for _, name := range f.names {
		w, ok := f.init[name]
		require.True(t, ok, "model.safetensors has no %q", name)
		p := &Param{Name: name, Data: append([]float32(nil), w.F32...)}
		if g, ok := f.golden.Tensors["grad."+name]; ok {
			p.Grad = append([]float32(nil), g.F32...)
		}
		ps = append(ps, p)
	}
	return ps
}

func grads(ps []*Param) [][]float32 {
	var out [][]float32
	for _, p := range ps {
		out = append(out, p.Grad)
	}
	return out
}

// TestFitStepGolden replays sentence-transformers' one fit step: clip the
// golden gradients to norm 1, WarmupLinear(0, 0, 1) = 1, one AdamW step over
// SplitDecay's groups, and compares every parameter with after_step.*.
// Tolerance 1e-6 absolute (weights are O(1); the step is 1e-3); measured
// max |Δ| is logged per tensor. Parameters without a gradient must be
// bit-identical to the initial weights.
func TestFitStepGolden(t *testing.T) {
	for _, model := range models {
		t.Run(model, func(t *testing.T) {
			f := loadFixture(t, model)
			ps := f.params(t)
			ClipGradNorm(grads(ps), f.step.GradClip.MaxNorm)
			o := f.step.Optimizer
			groups := SplitDecay(ps, o.ParamGroups[0].WeightDecay)
			opt, err := NewAdamW(Config{Beta1: o.Betas[0], Beta2: o.Betas[1], Eps: o.Eps}, groups...)
			require.NoError(t, err)
			require.NoError(t, opt.Step(o.LR*WarmupLinear(0, 0, 1)))
			noGrad := map[string]bool{}
			for _, n := range f.step.ParamsWithoutGrad {
				noGrad[n] = true
			}
			worst := 0.0
			for _, p := range ps {
				want := f.golden.T(t, "after_step."+p.Name).F32
				if noGrad[p.Name] {
					assert.Nil(t, p.Grad, "%s: the fixture lists it without gradient but grad.%s exists", p.Name, p.Name)
					assert.Equal(t, f.init[p.Name].F32, p.Data, "%s has no gradient but changed", p.Name)
				}
				d := testutil.AllClose(t, "after_step."+p.Name, p.Data, want, 1e-6, 0)
				worst = max(worst, d.MaxAbs)
			}
			t.Logf("%s: max |Δ| over all %d parameters after one step: %.3g", model, len(ps), worst)
		})
	}
}

// TestClipGradNormGolden checks the total norm against grad_total_norm
// (bit for bit: the summation order is torch's, see norm32) and the applied factor against fit_step's
// clip_coef_applied (relative 1e-6; the fixture computes it in float64).
func TestClipGradNormGolden(t *testing.T) {
	for _, model := range models {
		t.Run(model, func(t *testing.T) {
			f := loadFixture(t, model)
			ps := f.params(t)
			before := f.params(t)
			total := ClipGradNorm(grads(ps), f.step.GradClip.MaxNorm)
			assert.Equal(t, float64(f.golden.T(t, "grad_total_norm").F32[0]), total, "total norm, bit for bit")
			coef := f.step.GradClip.ClipCoefApplied
			for i, p := range ps {
				if p.Grad == nil {
					continue
				}
				for j, g := range p.Grad {
					w := float64(before[i].Grad[j]) * coef
					require.InDelta(t, w, g, 1e-6*math.Abs(w)+1e-12, "%s[%d]: clipped %v·%v", p.Name, j, before[i].Grad[j], coef)
				}
			}
		})
	}
}

// TestSplitDecayGolden checks NoDecay/SplitDecay against the two parameter
// groups sentence-transformers built (golden fit_step.optimizer.param_groups).
func TestSplitDecayGolden(t *testing.T) {
	for _, model := range models {
		t.Run(model, func(t *testing.T) {
			f := loadFixture(t, model)
			groups := SplitDecay(f.params(t), 0.01)
			want := f.step.Optimizer.ParamGroups
			require.Len(t, groups, len(want))
			for i, g := range groups {
				assert.Equal(t, want[i].WeightDecay, g.WeightDecay, "group %d weight decay", i)
				var names []string
				for _, p := range g.Params {
					names = append(names, p.Name)
				}
				assert.Equal(t, want[i].Params, names, "group %d", i)
			}
		})
	}
}
