package kernel

import "math"

// Exp returns e^x to about 1e-9 relative error, several times faster than
// math.Exp (see exp); above 709, and for NaN, it is math.Exp.
func Exp(x float64) float64 {
	if !(x <= 709) {
		return math.Exp(x)
	}
	return exp(x)
}

// exp is e^x to about 1e-9 relative error, several times faster than
// math.Exp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r⁸,
// times 2^n. Below -708 it returns 0; x must not exceed 709. approx_amd64.s
// computes the same polynomial four lanes at a time.
func exp(x float64) float64 {
	if x < -708 {
		return 0
	}
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		round = 1 << 52 * 1.5 // adding it rounds to an integer held in the low mantissa bits
	)
	t := x*math.Log2E + round
	n := t - round
	r := x - n*ln2Hi - n*ln2Lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	k := int64(math.Float64bits(t)) - int64(math.Float64bits(round))
	return p * math.Float64frombits(uint64(k+1023)<<52)
}

// normal returns the standard normal CDF Φ(x) = (1 + erf(x/√2))/2 and
// density φ(x) (float32 slices with AVX2: the same algorithm four lanes at a
// time, in approx_amd64.s). erf is Abramowitz & Stegun's 7.1.26 (absolute
// error below 1.5e-7), the formula of PyTorch's vectorized CPU erf, which
// its GELU kernel uses; e^(-x²/2) is shared by both results.
func normal(x float64) (cdf, pdf float64) {
	const (
		invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
		p          = 0.3275911
		a1         = 0.254829592
		a2         = -0.284496736
		a3         = 1.421413741
		a4         = -1.453152027
		a5         = 1.061405429
	)
	e := exp(-0.5 * x * x)
	z := math.Abs(x) * (1 / math.Sqrt2)
	t := 1 / (1 + p*z)
	tail := 0.5 * t * (a1 + t*(a2+t*(a3+t*(a4+t*a5)))) * e // (1 - erf(|x|/√2))/2
	if x < 0 {
		return tail, invSqrt2Pi * e
	}
	return 1 - tail, invSqrt2Pi * e
}
