package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// randn returns n standard normal values scaled by s.
func randn(rng *rand.Rand, n int, s float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * s
	}
	return x
}

// gradCheck compares an analytic gradient with central finite differences
// of the scalar loss(x) = Σ f(x)·w, w a fixed random weighting: for each
// input of inputs, grad(inputs, w) must return d loss / d input.
// Tolerance: |analytic − numeric| ≤ 1e-6·(1 + |numeric|), step 1e-6.
func gradCheck(t *testing.T, name string, inputs [][]float64, outLen int,
	f func(in [][]float64) []float64, grad func(in [][]float64, w []float64) [][]float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	w := randn(rng, outLen, 1)
	loss := func() float64 {
		var s float64
		for i, y := range f(inputs) {
			s += y * w[i]
		}
		return s
	}
	got := grad(inputs, w)
	for a, x := range inputs {
		if got[a] == nil {
			continue
		}
		for i, num := range testutil.NumericGrad(x, 1e-6, loss) {
			require.InDeltaf(t, num, got[a][i], 1e-6*(1+math.Abs(num)), "%s: d/d input %d [%d]", name, a, i)
		}
	}
}
