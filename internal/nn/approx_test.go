package nn

import (
	"math"
	"testing"
)

// TestExp bounds the fast exp against math.Exp: relative error <= 1e-9 on
// [-708, 709], and exactly 0 below -708 (softmax's masked scores).
func TestExp(t *testing.T) {
	var worst float64
	for x := -708.0; x <= 709; x += 0.0137 {
		worst = math.Max(worst, math.Abs(exp(x)/math.Exp(x)-1))
	}
	if worst > 1e-9 {
		t.Errorf("max relative error %.3g > 1e-9", worst)
	}
	if got := exp(-math.MaxFloat32); got != 0 {
		t.Errorf("exp(-MaxFloat32) = %v, want 0", got)
	}
	if got := exp(math.NaN()); !math.IsNaN(got) {
		t.Errorf("exp(NaN) = %v, want NaN", got)
	}
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
	if worstCDF > 7.5e-8 || worstPDF > 1e-9 {
		t.Errorf("max |ΔΦ| %.3g (bound 7.5e-8), max relative Δφ %.3g (bound 1e-9)", worstCDF, worstPDF)
	}
	t.Logf("max |ΔΦ| %.3g, max relative Δφ %.3g", worstCDF, worstPDF)
}
