package t5

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/sampling"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRowSamplerMatchesReference: the fast path draws exactly the token that
// sampling.Config.Warp followed by Sampler.Sample draws, from the same
// random stream, on the sampling fixture's logits and on random rows with
// ties, -Inf, NaN and temperatures, for the GenQ warpers and variants.
func TestRowSamplerMatchesReference(t *testing.T) {
	var rows [][]float32
	g := testutil.LoadGolden(t, "sampling")
	for i := 0; ; i++ {
		x, ok := g.Tensors[fmt.Sprintf("case%d.logits", i)]
		if !ok {
			break
		}
		rows = append(rows, x.F32)
	}
	require.NotEmpty(t, rows, "no case<i>.logits in the sampling fixture")
	rng := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 15; i++ {
		row := make([]float32, 32128)
		for j := range row {
			row[j] = float32(rng.NormFloat64() * 3)
		}
		switch i % 5 {
		case 1: // ties among the top candidates
			for j := 0; j < 60; j++ {
				row[rng.IntN(len(row))] = 9
			}
		case 2: // a suppressed token, as MinNewTokens makes </s>
			row[1] = float32(math.Inf(-1))
		case 3: // almost all removed: fewer finite scores than k
			for j := range row {
				if j%1000 != 0 {
					row[j] = float32(math.Inf(-1))
				}
			}
		case 4:
			row[rng.IntN(len(row))] = float32(math.NaN())
		}
		rows = append(rows, row)
	}
	for _, warp := range []sampling.Config{
		{Temperature: 1, TopK: 50, TopP: 0.95, MinTokensToKeep: 1},
		{TopK: 50},
		{TopK: 50, TopP: 1},
		{TopK: 10, TopP: 0.5, MinTokensToKeep: 3},
		{Temperature: 0.7, TopK: 50, TopP: 0.9},
		{TopP: 0.95},
		{TopK: 5, MinTokensToKeep: 80},
	} {
		fastPaths := 0
		for i, row := range rows {
			ref, fast := sampling.NewSampler(uint64(i)), newRowSampler(warp, sampling.NewSampler(uint64(i)))
			orig := append([]float32(nil), row...)
			for draw := 0; draw < 3; draw++ {
				want := ref.Sample(warpCopy(warp, row))
				require.Equal(t, want, fast.sample(row), "%+v, row %d, draw %d: token the fast path drew", warp, i, draw)
			}
			require.True(t, testutil.Identical(t, fmt.Sprintf("%+v, row %d: logits after sampling", warp, i), row, orig), "sample changed the logits")
			if len(fast.cand) > 0 {
				fastPaths++
			}
		}
		if warp.TopK > 0 {
			assert.NotZero(t, fastPaths, "%+v: the fast path never ran", warp)
		}
	}
}

func warpCopy(warp sampling.Config, row []float32) []float32 {
	c := append([]float32(nil), row...)
	warp.Warp(c)
	return c
}
