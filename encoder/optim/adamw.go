package optim

import (
	"fmt"
	"math"
)

// Param is one parameter tensor as the optimizer sees it.
type Param struct {
	// Name identifies the parameter in the optimizer state (use the
	// checkpoint name, e.g. "encoder.layer.0.output.dense.weight"); names
	// must be unique within an optimizer.
	Name string
	// Data holds the values; Step updates them in place.
	Data []float32
	// Grad is the gradient for the next Step, of the same length as Data.
	// A nil Grad means "no gradient": Step skips the parameter entirely (no
	// weight decay, no moment update, no step count), as torch does for a
	// parameter whose .grad is None (BERT's pooler under mean pooling).
	Grad []float32
}

// Group is a set of parameters that share a weight decay, like one of
// torch's param_groups.
type Group struct {
	// WeightDecay is the decoupled weight decay λ: Step multiplies the
	// parameter by 1 − lr·λ before the Adam update.
	WeightDecay float64
	// Params are the group's parameters.
	Params []*Param
}

// Config holds AdamW's hyper-parameters. The learning rate is not one of
// them: it is an argument of every Step, so that a schedule hands it over
// step by step (as LambdaLR rewrites param_group["lr"] before each step).
type Config struct {
	Beta1 float64 // decay of the first moment
	Beta2 float64 // decay of the second moment
	Eps   float64 // added to the denominator
}

// DefaultConfig returns torch.optim.AdamW's defaults: betas (0.9, 0.999),
// eps 1e-8. (torch's default learning rate is 1e-3; sentence-transformers'
// fit passes 2e-5.)
func DefaultConfig() Config { return Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// AdamW is torch.optim.AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization"), without amsgrad and maximize. Per parameter with a
// gradient g, at its own step count t:
//
//	p ← p·(1 − lr·λ)
//	m ← β₁·m + (1 − β₁)·g
//	v ← β₂·v + (1 − β₂)·g²
//	p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)
type AdamW struct {
	beta1, beta2, eps float64
	groups            []Group
	state             map[string]*moments
}

// moments is the per-parameter state: torch's state[p] = {step, exp_avg,
// exp_avg_sq}, created at the parameter's first step with a gradient.
type moments struct {
	step     int64
	expAvg   []float32
	expAvgSq []float32
}

// NewAdamW returns an optimizer over the groups with the given settings. It
// checks the hyper-parameters as torch does (eps ≥ 0; betas in [0, 1);
// weight decay ≥ 0) and that every parameter has a unique name and, where it
// has a gradient, one of its own length.
func NewAdamW(cfg Config, groups ...Group) (*AdamW, error) {
	switch {
	case !(cfg.Eps >= 0):
		return nil, fmt.Errorf("optim: AdamW eps %v; want ≥ 0 (torch's default is 1e-8)", cfg.Eps)
	case !(cfg.Beta1 >= 0 && cfg.Beta1 < 1):
		return nil, fmt.Errorf("optim: AdamW beta1 %v; want 0 ≤ beta1 < 1 (torch's default is 0.9)", cfg.Beta1)
	case !(cfg.Beta2 >= 0 && cfg.Beta2 < 1):
		return nil, fmt.Errorf("optim: AdamW beta2 %v; want 0 ≤ beta2 < 1 (torch's default is 0.999)", cfg.Beta2)
	}
	seen := map[string]bool{}
	for gi, g := range groups {
		if !(g.WeightDecay >= 0) {
			return nil, fmt.Errorf("optim: group %d has weight decay %v; want ≥ 0", gi, g.WeightDecay)
		}
		for _, p := range g.Params {
			if p == nil {
				return nil, fmt.Errorf("optim: group %d holds a nil *Param", gi)
			}
			if seen[p.Name] {
				return nil, fmt.Errorf("optim: parameter name %q appears twice; names key the optimizer state and must be unique", p.Name)
			}
			seen[p.Name] = true
			if err := checkGrad(p); err != nil {
				return nil, err
			}
		}
	}
	return &AdamW{
		beta1: cfg.Beta1, beta2: cfg.Beta2, eps: cfg.Eps,
		groups: groups,
		state:  map[string]*moments{},
	}, nil
}

// Groups returns the optimizer's parameter groups (not a copy: setting a
// parameter's Grad through them is how a training loop feeds Step).
func (o *AdamW) Groups() []Group { return o.groups }

// Step applies one AdamW update at learning rate lr to every parameter with a
// non-nil Grad (a schedule computes lr for each step, e.g.
// baseLR·WarmupLinear(step, warmup, total)). It leaves Grad as it is (zeroing
// it is the caller's job, as optimizer.zero_grad() is in torch). It fails,
// changing nothing, when lr is negative or not finite or a gradient's length
// differs from its parameter's. The update runs on
// GOMAXPROCS goroutines, each taking chunks of the parameters; since it is
// elementwise, the result is the serial one bit for bit.
func (o *AdamW) Step(lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 1) {
		return fmt.Errorf("optim: AdamW learning rate %v; want a finite lr ≥ 0", lr)
	}
	for _, g := range o.groups {
		for _, p := range g.Params {
			if err := checkGrad(p); err != nil {
				return err
			}
		}
	}
	var jobs []adamwJob
	for _, g := range o.groups {
		for _, p := range g.Params {
			if p.Grad != nil {
				jobs = append(jobs, o.prepare(p, lr, g.WeightDecay))
			}
		}
	}
	lens := make([]int, len(jobs))
	for i, j := range jobs {
		lens[i] = len(j.p.Data)
	}
	// The update is elementwise, so splitting the parameters into chunks
	// across goroutines gives exactly the serial result.
	forChunks(lens, func(i, lo, hi int) { jobs[i].apply(lo, hi) })
	return nil
}

// adamwJob is one parameter's update in a Step: the parameter, its moments
// and the step's float32 scalars.
type adamwJob struct {
	p                                *Param
	m, v                             []float32
	decay                            float32
	beta1, oneMinusBeta1             float32
	beta2, oneMinusBeta2             float32
	biasCorrection2Sqrt, negStepSize float32
	eps                              float32
}

// prepare advances p's step count (creating its state at the first step) and
// computes the scalars of its update at learning rate lr. The scalars are Python floats
// (float64) in torch, rounded to float32 where the kernel takes them.
func (o *AdamW) prepare(p *Param, lr, weightDecay float64) adamwJob {
	s := o.state[p.Name]
	if s == nil {
		s = &moments{expAvg: make([]float32, len(p.Data)), expAvgSq: make([]float32, len(p.Data))}
		o.state[p.Name] = s
	}
	s.step++
	t := float64(s.step)
	biasCorrection1 := 1 - math.Pow(o.beta1, t)
	return adamwJob{
		p: p, m: s.expAvg, v: s.expAvgSq,
		decay: float32(1 - lr*weightDecay),
		beta1: float32(o.beta1), oneMinusBeta1: float32(1 - o.beta1),
		beta2: float32(o.beta2), oneMinusBeta2: float32(1 - o.beta2),
		biasCorrection2Sqrt: float32(math.Sqrt(1 - math.Pow(o.beta2, t))),
		negStepSize:         float32(-(lr / biasCorrection1)),
		eps:                 float32(o.eps),
	}
}

// apply updates elements [lo, hi) of the parameter as torch 1.13's
// _single_tensor_adamw does; each line is one float32 kernel of torch's.
func (j *adamwJob) apply(lo, hi int) {
	data, grad := j.p.Data[lo:hi], j.p.Grad[lo:hi]
	m, v := j.m[lo:hi], j.v[lo:hi]
	data, m, v = data[:len(grad)], m[:len(grad)], v[:len(grad)]
	decay, eps, negStepSize := j.decay, j.eps, j.negStepSize
	beta1, oneMinusBeta1 := j.beta1, j.oneMinusBeta1
	beta2, oneMinusBeta2 := j.beta2, j.oneMinusBeta2
	biasCorrection2Sqrt := j.biasCorrection2Sqrt
	// The explicit float32(...) conversions keep Go from fusing a multiply
	// and an add into one FMA where torch rounds twice (the Go spec allows
	// fusion otherwise, and arm64 does it).
	for i, g := range grad {
		data[i] = float32(data[i] * decay)                               // param.mul_(1 - lr*wd)
		m[i] = fma32(g, oneMinusBeta1, float32(m[i]*beta1))              // exp_avg.mul_(b1).add_(grad, alpha=1-b1)
		v[i] = float32(v[i]*beta2) + float32(float32(oneMinusBeta2*g)*g) // exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1-b2)
		denom := float32(sqrt32(v[i])/biasCorrection2Sqrt) + eps         // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
		data[i] = data[i] + float32(float32(negStepSize*m[i])/denom)     // param.addcdiv_(exp_avg, denom, value=-step_size)
	}
}

func checkGrad(p *Param) error {
	if p.Grad != nil && len(p.Grad) != len(p.Data) {
		return fmt.Errorf("optim: parameter %q has %d values but its gradient %d", p.Name, len(p.Data), len(p.Grad))
	}
	return nil
}

// fma32 is x·y + z rounded once, as the vectorized float32 add-with-alpha
// kernel (an FMA) computes it. The float32 product is exact in float64.
func fma32(x, y, z float32) float32 {
	return float32(math.FMA(float64(x), float64(y), float64(z)))
}

// sqrt32 is the correctly rounded float32 square root.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
