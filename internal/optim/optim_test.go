package optim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
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
		if got := WarmupLinear(c.step, c.warmup, c.total); got != c.want {
			t.Errorf("WarmupLinear(%d, %d, %d) = %v, want %v", c.step, c.warmup, c.total, got, c.want)
		}
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
		if got := NoDecay(name); got != want {
			t.Errorf("NoDecay(%q) = %v, want %v", name, got, want)
		}
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
	opt, err := NewAdamW(Config{LR: baseLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, SplitDecay(ps, 0.01)...)
	if err != nil {
		t.Fatal(err)
	}
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
		tr.opt.LR = baseLR * WarmupLinear(k, 5, total)
		if err := tr.opt.Step(); err != nil {
			t.Fatal(err)
		}
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
		tr.opt.LR = lr
		if err := tr.opt.Step(); err != nil {
			t.Fatal(err)
		}
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
		if worst > 2e-6 {
			t.Errorf("%s: max |Δ| vs float64 oracle %.3g > 2e-6", p.Name, worst)
		} else {
			t.Logf("%s: max |Δ| vs float64 oracle %.3g", p.Name, worst)
		}
		if got, want := tr.opt.State().Params[p.Name].Step, int64(ref.t[p.Name]); got != want {
			t.Errorf("%s: step counter %d, want %d", p.Name, got, want)
		}
	}
	if got := tr.opt.State().Params["b.bias"].Step; got != steps-steps/3 {
		t.Errorf("b.bias was stepped %d times, want %d (skipped without gradient)", got, steps-steps/3)
	}
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
	first.opt.LR = -1 // the saved state must not alias the live optimizer
	for _, s := range first.opt.State().Params {
		s.ExpAvg[0] = 1e9
	}
	if err := resumed.opt.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	saved.Params["a.weight"].ExpAvg[0] = 1e9 // nor the loaded one
	resumed.run(t, k, steps, steps)
	for i, p := range resumed.params {
		for j, x := range p.Data {
			if x != full.params[i].Data[j] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", p.Name, j, x, full.params[i].Data[j])
			}
		}
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
		{"negative lr", Config{LR: -1, Beta1: 0.9, Beta2: 0.999}, nil, "learning rate -1"},
		{"beta1 = 1", Config{LR: 1, Beta1: 1, Beta2: 0.999}, nil, "beta1 1"},
		{"NaN beta2", Config{LR: 1, Beta1: 0.9, Beta2: math.NaN()}, nil, "beta2 NaN"},
		{"negative eps", Config{LR: 1, Beta1: 0.9, Beta2: 0.9, Eps: -1}, nil, "eps -1"},
		{"negative decay", cfg, []Group{{WeightDecay: -0.1}}, "weight decay -0.1"},
		{"duplicate name", cfg, []Group{{Params: []*Param{p("w", 2, -1)}}, {Params: []*Param{p("w", 3, -1)}}}, `"w" appears twice`},
		{"grad length", cfg, []Group{{Params: []*Param{p("w", 2, 3)}}}, `"w" has 2 values but its gradient 3`},
		{"nil param", cfg, []Group{{Params: []*Param{nil}}}, "nil *Param"},
	}
	for _, c := range cases {
		if _, err := NewAdamW(c.cfg, c.groups...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}

	// Step refuses a bad gradient before touching anything.
	a, b := p("a", 2, 2), p("b", 2, 2)
	a.Grad[0] = 1
	opt, err := NewAdamW(cfg, Group{Params: []*Param{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	b.Grad = make([]float32, 5)
	if err := opt.Step(); err == nil || !strings.Contains(err.Error(), `"b" has 2 values but its gradient 5`) {
		t.Errorf("Step error %v", err)
	}
	if a.Data[0] != 0 || len(opt.State().Params) != 0 {
		t.Errorf("failed Step changed the optimizer")
	}

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
		if err := opt.LoadState(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadState error %v, want one containing %q", err, c.want)
		}
	}
}

// TestClipGradNorm covers what the fixtures do not: no scaling below the
// limit, nil gradients, and the returned norm.
func TestClipGradNorm(t *testing.T) {
	g := [][]float32{{3, 0}, nil, {0, 4}}
	if n := ClipGradNorm(g, 10); n != 5 {
		t.Errorf("norm %v, want 5", n)
	}
	if g[0][0] != 3 || g[2][1] != 4 {
		t.Errorf("gradients under the limit were scaled: %v", g)
	}
	if n := ClipGradNorm(g, 1); n != 5 {
		t.Errorf("norm %v, want 5", n)
	}
	// coef = 1/(5+1e-6) in float32.
	want := float32(3) * (1 / float32(5+1e-6))
	if g[0][0] != want || math.Abs(float64(g[2][1])-0.8) > 1e-6 {
		t.Errorf("clipped to %v, want [%v …] and 0.8", g, want)
	}
	// Already at norm ≈ 1, clipping to 1 again still scales by 1/(1+1e-6),
	// as torch does; a larger limit leaves the gradients alone.
	if n := ClipGradNorm(g, 2); math.Abs(n-1) > 1e-6 || g[0][0] != want {
		t.Errorf("second clip: norm %v (want ≈1), gradients %v must stay (coef ≥ 1)", n, g)
	}
	ClipGradNorm(g, 1)
	if g[0][0] >= want {
		t.Errorf("clipping a norm-1 gradient to 1 left %v, want it scaled by 1/(1+1e-6) as torch does", g[0][0])
	}
}
