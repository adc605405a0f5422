package sampling

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
)

// kept returns the indices of the finite scores.
func kept(scores []float32) []int {
	var out []int
	for i, s := range scores {
		if !math.IsInf(float64(s), -1) {
			out = append(out, i)
		}
	}
	return out
}

// HF's TopPLogitsWarper with top_p=0 removes every token whose ascending
// cumulative probability is <= 1 - 0, except the min_tokens_to_keep most
// likely ones: only those stay (top_p 0 is valid there, not "off").
func TestTopPZeroKeepsTheMostLikely(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scores  []float32
		minKeep int
		want    []int
	}{
		{"one dominant", []float32{0, 0, 20, 1, 0.5}, 1, []int{2}},
		{"close scores", []float32{1, 1.01, 0.99, 1.02}, 1, []int{3}},
		{"min_tokens_to_keep 3", []float32{0, 0, 20, 1, 0.5}, 3, []int{2, 3, 4}},
		{"min_tokens_to_keep 0 means 1", []float32{0, 3, 1}, 0, []int{1}},
		{"removed tokens stay removed", []float32{float32(math.Inf(-1)), 2, 1}, 1, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := append([]float32(nil), tc.scores...)
			Config{TopP: 0, MinTokensToKeep: tc.minKeep}.Warp(got)
			assert.Equal(t, tc.want, kept(got))
			for _, i := range tc.want {
				assert.Equal(t, tc.scores[i], got[i], "kept scores are left as they are")
			}
		})
	}
	// Tied best scores: one of them stays, the one torch.sort puts last.
	got := []float32{5, 1, 5}
	TopP(got, 0, 1)
	require.Len(t, kept(got), 1)
	assert.Contains(t, []int{0, 2}, kept(got)[0])
}

// On the fixture's logits, generate's defaults with top_p=0 leave one token
// of the highest score (the argmax; among tied best scores, the one
// torch.sort puts last): sampling becomes greedy decoding, as in HF.
func TestTopPZeroOnFixtureLogits(t *testing.T) {
	g := testutil.LoadGolden(t, "sampling")
	var cases []caseMeta
	g.Decode(t, "cases", &cases)
	for _, cm := range cases {
		logits := g.T(t, fmt.Sprintf("case%d.logits", cm.Index)).F32
		got := append([]float32(nil), logits...)
		cfg := GenerateDefaults()
		cfg.TopP = 0
		cfg.Warp(got)
		k := kept(got)
		require.Len(t, k, 1, "case %d (%s)", cm.Index, cm.Description)
		assert.Equal(t, logits[Argmax(logits)], logits[k[0]], "case %d (%s): kept token %d", cm.Index, cm.Description, k[0])
	}
}
