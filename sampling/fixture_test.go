package sampling

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
)

// Tolerances against testdata/fixtures/sampling (HF transformers 4.40 on torch
// 1.13 CPU). Kept masks and warped scores must match exactly; probabilities
// go through exp, whose float32 result may differ from torch's vectorised
// exp by an ulp, hence the small tolerance.
const (
	probAtol = 1e-7
	probRtol = 1e-5
)

type warperSpec struct {
	Class           string   `json:"class"`
	TopP            *float64 `json:"top_p"`
	TopK            *int     `json:"top_k"`
	Temperature     *float64 `json:"temperature"`
	MinTokensToKeep *int     `json:"min_tokens_to_keep"`
}

type caseMeta struct {
	Index       int            `json:"index"`
	Description string         `json:"description"`
	Vocab       int            `json:"vocab"`
	KeptCount   map[string]int `json:"kept_count"`
}

// configFor builds the Config equivalent to the warper list HF's
// _get_logits_warper built, and checks that the list is in Warp's order.
func configFor(t *testing.T, op string, specs []warperSpec) Config {
	t.Helper()
	c := Config{TopP: 1} // a list without TopPLogitsWarper: top_p 1.0, HF's default
	rank := map[string]int{"TemperatureLogitsWarper": 0, "TopKLogitsWarper": 1, "TopPLogitsWarper": 2}
	last := -1
	for _, w := range specs {
		r, ok := rank[w.Class]
		require.True(t, ok, "op %s: warper %s has no Config equivalent", op, w.Class)
		require.Greater(t, r, last, "op %s: warpers out of Warp's order temperature → top-k → top-p", op)
		last = r
		switch {
		case w.Temperature != nil:
			c.Temperature = float32(*w.Temperature)
		case w.TopK != nil:
			c.TopK = *w.TopK
		case w.TopP != nil:
			c.TopP = float32(*w.TopP)
		}
		if w.MinTokensToKeep != nil {
			c.MinTokensToKeep = *w.MinTokensToKeep
		}
	}
	require.NoError(t, c.Validate(), "op %s", op)
	return c
}

func TestWarpMatchesHF(t *testing.T) {
	g := testutil.LoadGolden(t, "sampling")
	var ops map[string][]warperSpec
	var cases []caseMeta
	g.Decode(t, "ops", &ops)
	g.Decode(t, "cases", &cases)
	require.Len(t, ops, 7, "ops in the fixture")
	require.Len(t, cases, 10, "cases in the fixture")
	var maxProb float64
	for _, cm := range cases {
		logits := g.T(t, fmt.Sprintf("case%d.logits", cm.Index)).F32
		for op, specs := range ops {
			cfg := configFor(t, op, specs)
			name := fmt.Sprintf("case%d.%s", cm.Index, op)
			t.Run(name, func(t *testing.T) {
				got := append([]float32(nil), logits...)
				cfg.Warp(got)

				kept := g.T(t, name+".kept").I64
				n := 0
				for i, s := range got {
					finite := !math.IsInf(float64(s), 0)
					if finite {
						n++
					}
					assert.Equal(t, kept[i] == 1, finite, "token %d kept (score %v, logit %v)", i, s, logits[i])
				}
				assert.Equal(t, cm.KeptCount[op], n, "number of kept tokens")

				want := expectedScores(g, name, logits, kept, cfg)
				require.Len(t, got, len(want))
				for i := range want {
					if !assert.Equal(t, want[i], got[i], "score %d, exactly", i) {
						break
					}
				}

				wantProbs := Softmax(nil, want)
				if p, ok := g.Tensors[name+".probs"]; ok {
					wantProbs = p.F32
				}
				d := testutil.AllClose(t, name+".probs", Softmax(nil, got), wantProbs, probAtol, probRtol)
				maxProb = max(maxProb, d.MaxAbs)
			})
		}
	}
	t.Logf("max |Δ| of probs over all cases and ops: %.3g", maxProb)
}

// expectedScores returns HF's warped scores: the fixture's tensor when present,
// else (vocab-32128 cases, see the fixture README) the input logits, divided
// by the temperature when one is set, where kept is 1 and -Inf elsewhere.
func expectedScores(g *testutil.Golden, name string, logits []float32, kept []int64, cfg Config) []float32 {
	if s, ok := g.Tensors[name+".scores"]; ok {
		return s.F32
	}
	want := make([]float32, len(logits))
	for i, x := range logits {
		switch {
		case kept[i] == 0:
			want[i] = negInf
		case cfg.temperatureOn():
			want[i] = x / cfg.Temperature
		default:
			want[i] = x
		}
	}
	return want
}

// TestTopPInternals checks the sort order and cumulative probabilities inside
// top-p against torch.sort(logits) and softmax(sorted).cumsum() of the fixture.
func TestTopPInternals(t *testing.T) {
	g := testutil.LoadGolden(t, "sampling")
	for i := 0; ; i++ {
		name := fmt.Sprintf("case%d", i)
		idx, ok := g.Tensors[name+".sorted_ascending_indices"]
		if !ok {
			require.GreaterOrEqual(t, i, 8, "%s.sorted_ascending_indices missing", name)
			break
		}
		logits := g.T(t, name+".logits").F32
		es := make([]entry, len(logits))
		for j, v := range logits {
			es[j] = entry{v, int32(j)}
		}
		torchSort(es)
		sorted := make([]float32, len(es))
		for j, e := range es {
			sorted[j] = e.v
		}
		require.Len(t, idx.I64, len(es), name)
		for j, e := range es {
			if !assert.Equal(t, idx.I64[j], int64(e.id), "%s: token at sorted position %d (torch.sort's)", name, j) {
				break
			}
		}
		testutil.AllClose(t, name+".cumulative_probs_ascending", cumulativeProbs(sorted),
			g.T(t, name+".cumulative_probs_ascending").F32, probAtol, probRtol)
	}
}

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
