package checkpoint

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// halfOracle decodes binary16 from its definition: (-1)^s · 2^(e-15) · 1.f for
// normal numbers, (-1)^s · 2^-14 · 0.f for subnormals.
func halfOracle(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	f := float64(h & 0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(f, -24)
	case 0x1f:
		if f == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+f/1024, e-15)
}

// TestFloat16ToFloat32Exhaustive checks all 65536 half values exactly (no
// tolerance: the conversion is exact), including the sign of zero and that NaN
// payloads survive.
func TestFloat16ToFloat32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := Float16ToFloat32(h)
		want := halfOracle(h)
		if math.IsNaN(want) {
			bits := math.Float32bits(got)
			require.True(t, math.IsNaN(float64(got)), "Float16ToFloat32(%#04x) = %g, want NaN", h, got)
			require.Equal(t, uint32(h&0x3ff)<<13, bits&0x7fffff, "Float16ToFloat32(%#04x): NaN payload", h)
			require.Equal(t, uint32(h>>15), bits>>31, "Float16ToFloat32(%#04x): sign", h)
			continue
		}
		require.Equal(t, want, float64(got), "Float16ToFloat32(%#04x)", h)
		require.Equal(t, math.Signbit(want), math.Signbit(float64(got)), "Float16ToFloat32(%#04x): sign", h)
	}
}

func TestBFloat16ToFloat32(t *testing.T) {
	tests := []struct {
		bits uint16
		want float32
	}{
		{0x3f80, 1},
		{0xc000, -2},
		{0x0000, 0},
		{0x8000, float32(math.Copysign(0, -1))},
		{0x0001, math.Float32frombits(0x00010000)}, // smallest subnormal, 2^-133
		{0x7f80, float32(math.Inf(1))},
		{0xff80, float32(math.Inf(-1))},
		{0x3eab, 0.333984375},
	}
	for _, tc := range tests {
		got := BFloat16ToFloat32(tc.bits)
		assert.Equal(t, math.Float32bits(tc.want), math.Float32bits(got), "BFloat16ToFloat32(%#04x) = %g, want %g (bits)", tc.bits, got, tc.want)
	}
	got := BFloat16ToFloat32(0x7fc1)
	assert.True(t, math.IsNaN(float64(got)), "BFloat16ToFloat32(0x7fc1) is not NaN")
	assert.Equal(t, uint32(0x7fc10000), math.Float32bits(got), "BFloat16ToFloat32(0x7fc1) bits")
}
