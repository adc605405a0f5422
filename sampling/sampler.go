package sampling

import (
	"math"
	"math/rand/v2"
)

// Sampler draws tokens from softmax(scores). It is deterministic: it holds a
// math/rand/v2 PCG generator (PCG-DXSM, 128-bit state, an algorithm the Go
// project has fixed) seeded with (seed, 0), and turns each 64-bit output u
// into a uniform number (u >> 11) · 2^-53 in [0, 1) itself, so the same seed
// gives the same draws on every platform. A Sampler is not safe for
// concurrent use; give each goroutine its own.
type Sampler struct {
	src  *rand.PCG
	prob []float64
}

// NewSampler returns a Sampler seeded with seed.
func NewSampler(seed uint64) *Sampler {
	return &Sampler{src: rand.NewPCG(seed, 0)}
}

// Float64 returns the next uniform number in [0, 1) of the sampler's stream.
func (s *Sampler) Float64() float64 {
	return float64(s.src.Uint64()>>11) * 0x1p-53
}

// Sample draws one index i with probability softmax(scores)[i], by inverse-CDF
// sampling in float64: weights w = exp(s - max), one uniform u, and the first
// index whose running sum of w exceeds u·Σw. Tokens at -Inf (removed by Warp)
// are never drawn. Sample returns -1 when no score is finite or one is NaN or
// +Inf (torch.multinomial raises an error there); it consumes one uniform
// number per call otherwise.
func (s *Sampler) Sample(scores []float32) int {
	m := math.Inf(-1)
	for _, x := range scores {
		v := float64(x)
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return -1
		}
		m = max(m, v)
	}
	if math.IsInf(m, -1) {
		return -1
	}
	if cap(s.prob) < len(scores) {
		s.prob = make([]float64, len(scores))
	}
	w := s.prob[:len(scores)]
	var total float64
	for i, x := range scores {
		w[i] = math.Exp(float64(x) - m)
		total += w[i]
	}
	return drawIndex(w, total, s.Float64())
}

// drawIndex returns the first i with w[0] + ... + w[i] > u·total. Rounding can
// leave the running sum a hair below u·total at the end; the last index of
// positive weight is returned then.
func drawIndex(w []float64, total, u float64) int {
	target := u * total
	var cum float64
	last := -1
	for i, x := range w {
		if x <= 0 {
			continue
		}
		cum += x
		last = i
		if cum > target {
			return i
		}
	}
	return last
}
