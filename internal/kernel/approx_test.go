package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestExp bounds the fast exp against math.Exp: relative error <= 1e-9 on
// [-708, 709], and exactly 0 below -708 (softmax's masked scores).
func TestExp(t *testing.T) {
	var worst float64
	for x := -708.0; x <= 709; x += 0.0137 {
		worst = math.Max(worst, math.Abs(exp(x)/math.Exp(x)-1))
	}
	assert.LessOrEqual(t, worst, 1e-9, "max relative error")
	assert.Zero(t, exp(-math.MaxFloat32), "exp(-MaxFloat32)")
	assert.True(t, math.IsNaN(exp(math.NaN())), "exp(NaN)")
	assert.Equal(t, math.Inf(1), Exp(710), "Exp above 709")
	t.Logf("max relative error %.3g", worst)
}

// TestNormal bounds the standard normal CDF and density that GELU uses:
// |Φ - (1+erf(x/√2))/2| <= 7.5e-8 (Abramowitz & Stegun 7.1.26's bound on
// erf, halved) and density relative error <= 1e-9 (above 1e-300), over [-40, 40].
func TestNormal(t *testing.T) {
	var worstCDF, worstPDF float64
	for x := -40.0; x <= 40; x += 0.001 {
		cdf, pdf := normal(x)
		worstCDF = math.Max(worstCDF, math.Abs(cdf-0.5*math.Erfc(-x/math.Sqrt2)))
		if want := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi); want > 1e-300 { // exp flushes e^-708 and below to 0
			worstPDF = math.Max(worstPDF, math.Abs(pdf/want-1))
		}
	}
	assert.LessOrEqual(t, worstCDF, 7.5e-8, "max |ΔΦ|")
	assert.LessOrEqual(t, worstPDF, 1e-9, "max relative Δφ")
	t.Logf("max |ΔΦ| %.3g, max relative Δφ %.3g", worstCDF, worstPDF)
}

// TestVectorKernels checks the AVX2 GELU, GELU gradient and softmax
// exponential against the scalar normal and exp they vectorize: each float32
// result within one float32 rounding (relative 2⁻²³, or 1e-38 absolute) of
// the scalar one, the exponential sum within relative 1e-12, on lengths that
// exercise the four-lane body and the scalar tail.
func TestVectorKernels(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2+FMA on this CPU")
	}
	close := func(got, want float32) bool {
		return math.Abs(float64(got)-float64(want)) <= math.Max(0x1p-23*math.Abs(float64(want)), 1e-38)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 3, 4, 7, 64, 1001} {
		x, g := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 4)
			g[i] = float32(rng.NormFloat64())
		}
		x[0] = [...]float32{-40, 0, -0.0, 40, 1e-30, -6}[n%6]
		y, dx := make([]float32, n), make([]float32, n)
		geluAVX2(x, y)
		geluGradAVX2(x, g, dx)
		for i := range n &^ 3 {
			cdf, pdf := normal(float64(x[i]))
			f := float64(x[i])
			want, wantD := float32(f*cdf), float32(float64(g[i])*(cdf+f*pdf))
			assert.Truef(t, close(y[i], want), "n=%d: gelu(%g) = %g, scalar %g", n, x[i], y[i], want)
			assert.Truef(t, close(dx[i], wantD), "n=%d: gelu'(%g)·%g = %g, scalar %g", n, x[i], g[i], dx[i], wantD)
		}
		row := append([]float32{}, x...)
		row[n-1] = MaskedValue
		want := append([]float32{}, row...)
		var wantSum float64
		for i, v := range want {
			e := exp(float64(v) - 3)
			want[i] = float32(e)
			wantSum += e
		}
		assert.InDeltaf(t, wantSum, expShift(row, 3), 1e-12*wantSum, "n=%d: sum of exponentials", n)
		for i := range row {
			assert.Truef(t, close(row[i], want[i]), "n=%d: e^(%g-3) = %g, scalar %g", n, x[i], row[i], want[i])
		}
	}
}

// TestSoftmaxRow checks the float32 (AVX2) softmax of a masked score row
// against the scalar computation it replaces (mask added in float32, the
// maximum subtracted and the exponentials summed in float64): each
// probability within one float32 rounding (relative 2⁻²³, or 1e-38
// absolute), on lengths that exercise the eight-lane body and the tail,
// with masked (MaskedValue) positions giving exactly 0.
func TestSoftmaxRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 5, 8, 13, 128} {
		row, mask := make([]float32, n), make([]float32, n)
		for i := range row {
			row[i] = float32(rng.NormFloat64() * 3)
			if i%3 == 2 {
				mask[i] = MaskedValue
			}
		}
		want := append([]float32{}, row...)
		hi := float32(math.Inf(-1))
		for j := range want {
			want[j] += mask[j]
			hi = max(hi, want[j])
		}
		var sum float64
		for j, v := range want {
			e := math.Exp(float64(v) - float64(hi))
			want[j] = float32(e)
			sum += e
		}
		for j, v := range want {
			want[j] = float32(float64(v) / sum)
		}
		SoftmaxRow(row, mask)
		for j := range row {
			assert.InDeltaf(t, want[j], row[j], math.Max(0x1p-23*float64(want[j]), 1e-38), "n=%d: p[%d]", n, j)
			if mask[j] != 0 {
				assert.Zerof(t, row[j], "n=%d: masked p[%d]", n, j)
			}
		}
	}
}
