package sampling

import (
	"math"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
)

// pcgDXSM is an independent implementation of PCG-DXSM from its published
// description (128-bit LCG with multiplier 0x2360ed051fc65da44385df649fccf645
// and increment 0x5851f42d4c957f2d14057b7ef767814f, state advanced before each
// output, "double xorshift multiply" output on the high half), the algorithm
// math/rand/v2.PCG documents. Seeding (hi, lo) = (seed, 0).
type pcgDXSM struct{ hi, lo uint64 }

func (p *pcgDXSM) next() uint64 {
	const mulHi, mulLo = 0x2360ed051fc65da4, 0x4385df649fccf645
	const incHi, incLo = 0x5851f42d4c957f2d, 0x14057b7ef767814f
	hi, lo := bits.Mul64(p.lo, mulLo)
	hi += p.hi*mulLo + p.lo*mulHi
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	p.hi, p.lo = hi, lo
	hi ^= hi >> 32
	hi *= 0xda942042e4dd58b5
	hi ^= hi >> 48
	return hi * (lo | 1)
}

func TestSamplerStreamIsPCGDXSM(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, math.MaxUint64} {
		s, ref := NewSampler(seed), &pcgDXSM{hi: seed}
		for i := 0; i < 1000; i++ {
			want := float64(ref.next()>>11) * 0x1p-53
			require.Equal(t, want, s.Float64(), "seed %d, draw %d: Float64 against PCG-DXSM", seed, i)
		}
	}
}

func TestSamplerSeedReproducible(t *testing.T) {
	scores := []float32{0.1, 2, -1, 0.5, 1.5, float32(math.Inf(-1)), 0}
	draw := func(seed uint64) []int {
		s := NewSampler(seed)
		out := make([]int, 200)
		for i := range out {
			out[i] = s.Sample(scores)
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	require.Equal(t, a, b, "two samplers with seed 7")
	require.NotEqual(t, a, c, "seeds 7 and 8 drew the same 200 tokens")
	assert.NotContains(t, a, 5, "token 5, whose score is -Inf, was drawn")
}

func TestSampleDegenerate(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name   string
		scores []float32
		want   int
	}{
		{"empty", nil, -1},
		{"all -Inf", []float32{-inf, -inf}, -1},
		{"NaN", []float32{0, nan}, -1},
		{"+Inf", []float32{0, inf}, -1},
		{"one finite", []float32{-inf, -inf, 3, -inf}, 2},
		{"-1000 offset, one left", []float32{-1000, -inf}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSampler(1)
			for i := 0; i < 20; i++ {
				require.Equal(t, tc.want, s.Sample(tc.scores), "Sample(%v), draw %d", tc.scores, i)
			}
		})
	}
}

// TestSamplerChiSquare draws 200,000 tokens from the warped fixture logits
// (case 3 of testdata/fixtures/sampling: a two-way tie at the top and a
// normal tail, top-p 0.95 keeps 14 tokens) and
// tests the counts against softmax(warped) with Pearson's chi-square test at
// significance 0.001. The seed is fixed, so the test is deterministic; it
// would fail for a sampler whose frequencies are off by a few percent.
func TestSamplerChiSquare(t *testing.T) {
	g := testutil.LoadGolden(t, "sampling")
	scores := append([]float32(nil), g.T(t, "case3.logits").F32...)
	Config{TopP: 0.95}.Warp(scores)
	probs := Softmax(nil, scores)

	const draws = 200000
	counts := make([]int, len(scores))
	s := NewSampler(2024)
	for i := 0; i < draws; i++ {
		tok := s.Sample(scores)
		require.GreaterOrEqual(t, tok, 0, "draw %d", i)
		require.False(t, math.IsInf(float64(scores[tok]), -1), "draw %d: token %d was removed by Warp", i, tok)
		counts[tok]++
	}

	// Bins with an expected count under 5 are pooled into one bin.
	var chi2, poolExp, poolObs float64
	bins := 0
	for i, p := range probs {
		exp := float64(p) * draws
		if exp == 0 {
			continue
		}
		if exp < 5 {
			poolExp += exp
			poolObs += float64(counts[i])
			continue
		}
		d := float64(counts[i]) - exp
		chi2 += d * d / exp
		bins++
	}
	if poolExp > 0 {
		d := poolObs - poolExp
		chi2 += d * d / poolExp
		bins++
	}
	df := float64(bins - 1)
	crit := chiSquareQuantile(df, 3.090232) // z of the 0.999 normal quantile
	t.Logf("chi² = %.2f over %d bins (df %v), critical value at α=0.001: %.2f", chi2, bins, df, crit)
	require.GreaterOrEqual(t, bins, 3, "too few bins: the test distribution is too peaked to say anything")
	assert.LessOrEqual(t, chi2, crit, "chi² exceeds the critical value: the sampler's frequencies do not follow softmax(scores)")
}

// chiSquareQuantile is the Wilson–Hilferty approximation of the chi-square
// quantile with df degrees of freedom at the normal quantile z.
func chiSquareQuantile(df, z float64) float64 {
	a := 2 / (9 * df)
	return df * math.Pow(1-a+z*math.Sqrt(a), 3)
}

func TestDrawIndexRounding(t *testing.T) {
	w := []float64{0, 0.5, 0.5, 0}
	for _, tc := range []struct {
		u    float64
		want int
	}{{0, 1}, {0.4999, 1}, {0.5, 2}, {0.99999, 2}, {1, 2}} {
		assert.Equal(t, tc.want, drawIndex(w, 1, tc.u), "drawIndex(u=%v)", tc.u)
	}
}
