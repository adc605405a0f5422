package t5

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpf compares expf with float32(math.Exp) over the float32 range that
// softmax sees (x ≤ 0, down to the underflow) and beyond: at most one unit
// in the last place apart, exact at 0, and identical outside the
// polynomial's range (±Inf, NaN, underflow to 0).
func TestExpf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ulps := func(a, b float32) int64 {
		d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
		return max(d, -d)
	}
	worst := int64(0)
	check := func(x float32) {
		got, want := expf(x), float32(math.Exp(float64(x)))
		if got != want && !(got != got && want != want) {
			if u := ulps(got, want); u > 1 || math.IsInf(float64(want), 0) || want == 0 {
				t.Fatalf("expf(%g) = %g, want %g (%d ulps)", x, got, want, u)
			}
			worst = max(worst, ulps(got, want))
		}
	}
	for i := 0; i < 1_000_000; i++ {
		check(-100 * rng.Float32())
		check(90 * (2*rng.Float32() - 1))
		check(1e-3 * (2*rng.Float32() - 1))
	}
	for _, x := range []float32{0, -0.5, 0.5, -87, 88, -87.5, 88.5, -104, 89, -math.MaxFloat32, math.MaxFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		check(x)
	}
	if expf(0) != 1 {
		t.Errorf("expf(0) = %g, want 1", expf(0))
	}
	t.Logf("max difference: %d ulp", worst)
}

var expSink float32

func BenchmarkExpf(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = -20 * float32(i) / float32(len(x))
	}
	for _, f := range []struct {
		name string
		exp  func(float32) float32
	}{
		{"expf", expf},
		{"math.Exp", func(v float32) float32 { return float32(math.Exp(float64(v))) }},
	} {
		b.Run(f.name, func(b *testing.B) {
			var sum float32
			for b.Loop() {
				for _, v := range x {
					sum += f.exp(v)
				}
			}
			expSink = sum
		})
	}
}
