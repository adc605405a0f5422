package t5

import "math"

// expf returns e^x rounded to float32, as float32(math.Exp(float64(x))) but
// several times faster: the softmax of every attention row spends most of
// its time in exp. With x = n·ln2 + r, |r| ≤ ln2/2, e^r comes from its
// Taylor polynomial of degree 7 in float64 (truncation error below
// r⁸/8! < 2⁻²⁷ relative), scaled by 2ⁿ through the exponent bits, and is
// rounded once to float32; results differ from the float64 exp rounded to
// float32 by at most one unit in the last place. Arguments outside the range
// where 2ⁿ is a normal float32, and NaN, take math.Exp. The polynomial is
// evaluated in Estrin's scheme, whose short dependency chains let the CPU
// overlap consecutive calls.
func expf(x float32) float32 {
	if !(x >= -87 && x <= 88) {
		return float32(math.Exp(float64(x)))
	}
	const (
		log2e = 1.4426950408889634
		ln2   = 0.6931471805599453
	)
	f := float64(x)
	// n = round(x·log2e); for x ≥ -87 the sum is positive, so truncation floors.
	n := float64(int64(f*log2e+128.5)) - 128
	r := f - n*ln2 // exact enough: |r| ≤ 0.35 and n·ln2 carries ≤ 1e-16 relative error
	r2 := r * r
	p := (1 + r) + r2*(1.0/2+r*(1.0/6)) + r2*r2*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040)))
	return float32(p * math.Float64frombits(uint64(int64(n)+1023)<<52))
}
