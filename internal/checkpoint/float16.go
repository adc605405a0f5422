package checkpoint

import "math"

// Float16ToFloat32 converts an IEEE 754 binary16 (half-precision) value, given
// by its bits, to float32. The conversion is exact: every half value,
// subnormals, infinities and NaN payloads included, is representable in float32.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0: // ±0
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac·2⁻²⁴, renormalised for float32
		shifts := uint32(0)
		for frac&0x400 == 0 {
			frac <<= 1
			shifts++
		}
		frac &= 0x3ff
		return math.Float32frombits(sign | (127-14-shifts)<<23 | frac<<13)
	case exp == 0x1f: // ±Inf or NaN (payload kept)
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// BFloat16ToFloat32 converts a bfloat16 value, given by its bits, to float32.
// bfloat16 is the upper half of a float32, so the conversion is exact.
func BFloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}
