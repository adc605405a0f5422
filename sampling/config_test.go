package sampling

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // substring of the error, "" for valid
	}{
		{"zero value", Config{}, ""},
		{"generate defaults", GenerateDefaults(), ""},
		{"genq", Config{TopK: 50, TopP: 0.95}, ""},
		{"top_p 1", Config{TopP: 1}, ""},
		{"top_p 0", Config{TopP: 0, TopK: 50}, ""},
		{"negative temperature", Config{Temperature: -0.5}, "Temperature"},
		{"NaN temperature", Config{Temperature: nan}, "Temperature"},
		{"infinite temperature", Config{Temperature: float32(math.Inf(1))}, "Temperature"},
		{"negative top_k", Config{TopK: -1}, "TopK"},
		{"top_p above 1", Config{TopP: 1.5}, "TopP"},
		{"negative top_p", Config{TopP: -0.1}, "TopP"},
		{"NaN top_p", Config{TopP: nan}, "TopP"},
		{"negative min tokens", Config{MinTokensToKeep: -2}, "MinTokensToKeep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestWarpDisabledIsNoOp(t *testing.T) {
	in := []float32{3, -1, 2, 2, float32(math.Inf(-1)), 0}
	for _, cfg := range []Config{{TopP: 1}, {Temperature: 1, TopP: 1}, {TopP: 1.5}, {TopK: 0, TopP: 1, MinTokensToKeep: 3}} {
		got := append([]float32(nil), in...)
		cfg.Warp(got)
		assert.Equal(t, in, got, "%+v changed the scores", cfg)
	}
}

// countKept returns how many scores are finite.
func countKept(s []float32) int {
	n := 0
	for _, x := range s {
		if !math.IsInf(float64(x), -1) {
			n++
		}
	}
	return n
}

func TestTopKBounds(t *testing.T) {
	in := []float32{1, 5, 3, 5, 2, 4}
	for _, tc := range []struct {
		k, minKeep, want int
	}{
		{1, 1, 2},  // the two 5s tie
		{3, 1, 3},  // 5, 5, 4
		{2, 4, 4},  // min_tokens_to_keep raises k
		{6, 1, 6},  // k = vocab
		{99, 1, 6}, // capped at the vocab size
	} {
		got := append([]float32(nil), in...)
		TopK(got, tc.k, tc.minKeep)
		assert.Equal(t, tc.want, countKept(got), "TopK(k=%d, minKeep=%d): %v", tc.k, tc.minKeep, got)
	}
}

func TestTopPMinTokensToKeep(t *testing.T) {
	// One dominant token: top-p 0.5 keeps only it, unless more must stay.
	for _, keep := range []int{0, 1, 3, 10} {
		got := []float32{0, 0, 20, 1, 0.5}
		Config{TopP: 0.5, MinTokensToKeep: keep}.Warp(got)
		want := min(max(keep, 1), len(got))
		assert.Equal(t, want, countKept(got), "MinTokensToKeep %d: %v", keep, got)
		assert.False(t, math.IsInf(float64(got[2]), -1), "MinTokensToKeep %d removed the dominant token", keep)
	}
}

func TestDecimal(t *testing.T) {
	assert.Equal(t, 0.95, decimal(0.95), "decimal(float32 0.95) must be the float64 0.95")
	assert.Equal(t, float32(1-0.95), float32(1-decimal(0.95)), "1 - top_p in float32, as Python rounds it")
}

func TestSoftmaxFamily(t *testing.T) {
	ninf := float32(math.Inf(-1))
	in := []float32{-1000, -1001.5, ninf, -998, -1000}
	p := Softmax(nil, in)
	lp := LogSoftmax(nil, in)
	var sum float64
	for _, x := range in {
		sum += math.Exp(float64(x) + 1000)
	}
	for i, x := range in {
		want := math.Exp(float64(x)+1000) / sum
		assert.InDelta(t, want, float64(p[i]), 1e-7, "Softmax[%d]", i)
		wantLog := math.Log(want)
		if math.IsInf(wantLog, -1) {
			assert.True(t, math.IsInf(float64(lp[i]), -1), "LogSoftmax[%d] = %v, want -Inf", i, lp[i])
			continue
		}
		assert.InDelta(t, wantLog, float64(lp[i]), 1e-6, "LogSoftmax[%d]", i)
	}
	// In place.
	buf := append([]float32(nil), in...)
	LogSoftmax(buf, buf)
	require.Equal(t, lp, buf, "in-place LogSoftmax differs")
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		in   []float32
		want int
	}{
		{nil, -1},
		{[]float32{1}, 0},
		{[]float32{1, 3, 3, 2}, 1},
		{[]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, 0},
		{[]float32{1, nan, 5}, 1},
	} {
		assert.Equal(t, tc.want, Argmax(tc.in), "Argmax(%v)", tc.in)
	}
}
