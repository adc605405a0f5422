package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWarmupLinear(t *testing.T) {
	cases := []struct {
		step, warmup, total int
		want                float64
	}{
		{0, 0, 1, 1}, // the golden fit step: no warm-up, one step
		{1, 0, 1, 0},
		{0, 10, 100, 0},
		{5, 10, 100, 0.5},
		{10, 10, 100, 1},
		{55, 10, 100, 0.5},
		{100, 10, 100, 0},
		{150, 10, 100, 0}, // clamped at 0 past the end
		{3, 4, 4, 0.75},   // warm-up over the whole run
		{4, 4, 4, 0},
		{0, 0, 0, 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, WarmupLinear(c.step, c.warmup, c.total), "WarmupLinear(%d, %d, %d)", c.step, c.warmup, c.total)
	}
}

func TestNoDecay(t *testing.T) {
	cases := map[string]bool{
		"embeddings.LayerNorm.weight":                     true,
		"embeddings.LayerNorm.bias":                       true,
		"encoder.layer.0.attention.output.LayerNorm.bias": true,
		"encoder.layer.0.attention.self.query.bias":       true,
		"pooler.dense.bias":                               true,
		"encoder.layer.0.attention.self.query.weight":     false,
		"transformer.layer.0.sa_layer_norm.weight":        false, // DistilBERT: no "LayerNorm" in the name
		"transformer.layer.0.sa_layer_norm.bias":          true,
		"embeddings.word_embeddings.weight":               false,
		"layernorm.weight":                                false, // case-sensitive, as in Python
	}
	for name, want := range cases {
		assert.Equal(t, want, NoDecay(name), "NoDecay(%q)", name)
	}
}

// adamw64 is a float64 AdamW written from the formula in AdamW's doc comment.
type adamw64 struct {
	b1, b2, eps float64
	t           map[string]int
	m, v, p     map[string][]float64
}

func (o *adamw64) step(name string, g []float32, lr, wd float64) {
	o.t[name]++
	t := float64(o.t[name])
	p, m, v := o.p[name], o.m[name], o.v[name]
	for i := range p {
		gi := float64(g[i])
		p[i] *= 1 - lr*wd
		m[i] = o.b1*m[i] + (1-o.b1)*gi
		v[i] = o.b2*v[i] + (1-o.b2)*gi*gi
		p[i] -= lr / (1 - math.Pow(o.b1, t)) * m[i] / (math.Sqrt(v[i])/math.Sqrt(1-math.Pow(o.b2, t)) + o.eps)
	}
}

// trainer runs AdamW on random gradients with a warm-up schedule; the
// parameter "b.bias" gets no gradient on every third step.
type trainer struct {
	params []*Param
	opt    *AdamW
}

const baseLR = 1e-2

func newTrainer(t *testing.T, seed uint64) *trainer {
	rng := rand.New(rand.NewPCG(seed, 7))
	var ps []*Param
	for _, n := range []struct {
		name string
		size int
	}{{"a.weight", 37}, {"b.bias", 5}, {"c.LayerNorm.weight", 9}} {
		p := &Param{Name: n.name, Data: make([]float32, n.size)}
		for i := range p.Data {
			p.Data[i] = float32(rng.NormFloat64())
		}
		ps = append(ps, p)
	}
	opt, err := NewAdamW(Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, SplitDecay(ps, 0.01)...)
	require.NoError(t, err)
	return &trainer{params: ps, opt: opt}
}

// gradients draws the gradients of step k (a function of k only).
func gradients(k int, ps []*Param) {
	rng := rand.New(rand.NewPCG(uint64(k), 3))
	for _, p := range ps {
		if p.Name == "b.bias" && k%3 == 2 {
			p.Grad = nil
			continue
		}
		p.Grad = make([]float32, len(p.Data))
		for i := range p.Grad {
			p.Grad[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
}

func (tr *trainer) run(t *testing.T, from, to, total int) {
	for k := from; k < to; k++ {
		gradients(k, tr.params)
		require.NoError(t, tr.opt.Step(baseLR*WarmupLinear(k, 5, total)))
	}
}

// TestAdamWMultiStep runs 60 steps with warm-up, decay and a parameter that
// sometimes has no gradient, against the float64 formula. Tolerance: 2e-6
// absolute on O(1) weights (float32 rounding over 60 steps of size ≤ 1e-2).
// It also checks the per-parameter step counters.
func TestAdamWMultiStep(t *testing.T) {
	const steps = 60
	tr := newTrainer(t, 1)
	ref := &adamw64{b1: 0.9, b2: 0.999, eps: 1e-8, t: map[string]int{}, m: map[string][]float64{}, v: map[string][]float64{}, p: map[string][]float64{}}
	for _, p := range tr.params {
		ref.p[p.Name] = make([]float64, len(p.Data))
		for i, x := range p.Data {
			ref.p[p.Name][i] = float64(x)
		}
		ref.m[p.Name] = make([]float64, len(p.Data))
		ref.v[p.Name] = make([]float64, len(p.Data))
	}
	for k := 0; k < steps; k++ {
		gradients(k, tr.params)
		lr := baseLR * WarmupLinear(k, 5, steps)
		require.NoError(t, tr.opt.Step(lr))
		for _, p := range tr.params {
			if p.Grad != nil {
				wd := 0.01
				if NoDecay(p.Name) {
					wd = 0
				}
				ref.step(p.Name, p.Grad, lr, wd)
			}
		}
	}
	for _, p := range tr.params {
		worst := 0.0
		for i, x := range p.Data {
			worst = max(worst, math.Abs(float64(x)-ref.p[p.Name][i]))
		}
		assert.LessOrEqual(t, worst, 2e-6, "%s: max |Δ| vs the float64 oracle", p.Name)
		t.Logf("%s: max |Δ| vs float64 oracle %.3g", p.Name, worst)
		assert.Equal(t, int64(ref.t[p.Name]), tr.opt.State().Params[p.Name].Step, "%s: step counter", p.Name)
	}
	assert.Equal(t, int64(steps-steps/3), tr.opt.State().Params["b.bias"].Step, "b.bias is skipped on steps without a gradient")
}

// TestAdamWStateRoundTrip stops after k steps, restores a fresh optimizer over
// copies of the parameters from State, and requires both runs to end
// bit-identical.
func TestAdamWStateRoundTrip(t *testing.T) {
	const k, steps = 7, 20
	full := newTrainer(t, 2)
	full.run(t, 0, steps, steps)

	first := newTrainer(t, 2)
	first.run(t, 0, k, steps)
	saved := first.opt.State()
	resumed := newTrainer(t, 2)
	for i, p := range resumed.params {
		copy(p.Data, first.params[i].Data)
	}
	for _, s := range first.opt.State().Params { // the saved state must not alias the live optimizer
		s.ExpAvg[0] = 1e9
	}
	require.NoError(t, resumed.opt.LoadState(saved))
	saved.Params["a.weight"].ExpAvg[0] = 1e9 // nor the loaded one
	resumed.run(t, k, steps, steps)
	for i, p := range resumed.params {
		require.Equal(t, full.params[i].Data, p.Data, "%s: resumed vs uninterrupted", p.Name)
	}
}

func TestAdamWErrors(t *testing.T) {
	p := func(name string, n, g int) *Param {
		q := &Param{Name: name, Data: make([]float32, n)}
		if g >= 0 {
			q.Grad = make([]float32, g)
		}
		return q
	}
	cfg := DefaultConfig()
	cases := []struct {
		name   string
		cfg    Config
		groups []Group
		want   string
	}{
		{"beta1 = 1", Config{Beta1: 1, Beta2: 0.999}, nil, "beta1 1"},
		{"NaN beta2", Config{Beta1: 0.9, Beta2: math.NaN()}, nil, "beta2 NaN"},
		{"negative eps", Config{Beta1: 0.9, Beta2: 0.9, Eps: -1}, nil, "eps -1"},
		{"negative decay", cfg, []Group{{WeightDecay: -0.1}}, "weight decay -0.1"},
		{"duplicate name", cfg, []Group{{Params: []*Param{p("w", 2, -1)}}, {Params: []*Param{p("w", 3, -1)}}}, `"w" appears twice`},
		{"grad length", cfg, []Group{{Params: []*Param{p("w", 2, 3)}}}, `"w" has 2 values but its gradient 3`},
		{"nil param", cfg, []Group{{Params: []*Param{nil}}}, "nil *Param"},
	}
	for _, c := range cases {
		_, err := NewAdamW(c.cfg, c.groups...)
		assert.ErrorContains(t, err, c.want, c.name)
	}

	// Step refuses a bad learning rate or gradient before touching anything.
	a, b := p("a", 2, 2), p("b", 2, 2)
	a.Grad[0] = 1
	opt, err := NewAdamW(cfg, Group{Params: []*Param{a, b}})
	require.NoError(t, err)
	for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
		assert.ErrorContains(t, opt.Step(lr), "learning rate", "Step(%v)", lr)
	}
	b.Grad = make([]float32, 5)
	assert.ErrorContains(t, opt.Step(1e-3), `"b" has 2 values but its gradient 5`)
	assert.Zero(t, a.Data[0], "a failed Step changed a parameter")
	assert.Empty(t, opt.State().Params, "a failed Step changed the optimizer state")

	// LoadState validation.
	bad := []struct {
		s    State
		want string
	}{
		{State{Params: map[string]ParamState{"zz": {Step: 1, ExpAvg: make([]float32, 2), ExpAvgSq: make([]float32, 2)}}}, `parameter "zz"`},
		{State{Params: map[string]ParamState{"a": {Step: 1, ExpAvg: make([]float32, 3), ExpAvgSq: make([]float32, 2)}}}, "length 3 and 2"},
		{State{Params: map[string]ParamState{"a": {Step: 0, ExpAvg: make([]float32, 2), ExpAvgSq: make([]float32, 2)}}}, "step 0"},
	}
	for _, c := range bad {
		assert.ErrorContains(t, opt.LoadState(c.s), c.want)
	}
}

// TestClipGradNorm covers what the fixtures do not: no scaling below the
// limit, nil gradients, and the returned norm.
func TestClipGradNorm(t *testing.T) {
	g := [][]float32{{3, 0}, nil, {0, 4}}
	assert.Equal(t, 5.0, ClipGradNorm(g, 10))
	assert.Equal(t, [][]float32{{3, 0}, nil, {0, 4}}, g, "gradients under the limit must not be scaled")
	assert.Equal(t, 5.0, ClipGradNorm(g, 1))
	// coef = 1/(5+1e-6) in float32.
	want := float32(3) * (1 / float32(5+1e-6))
	assert.Equal(t, want, g[0][0])
	assert.InDelta(t, 0.8, g[2][1], 1e-6)
	// Already at norm ≈ 1, clipping to 1 again still scales by 1/(1+1e-6),
	// as torch does; a larger limit leaves the gradients alone.
	assert.InDelta(t, 1, ClipGradNorm(g, 2), 1e-6)
	assert.Equal(t, want, g[0][0], "coef ≥ 1 must leave the gradients alone")
	ClipGradNorm(g, 1)
	assert.Less(t, g[0][0], want, "clipping a norm-1 gradient to 1 scales it by 1/(1+1e-6), as torch does")
}
