package t5

import (
	"context"
	"slices"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func greedyOptions(maxLength int) GenerateOptions {
	return GenerateOptions{MaxLength: maxLength, NumReturnSequences: 1, NumBeams: 1, BatchSize: 8}
}

// checkSequences compares generated sequences with golden [n, maxLength]
// rows that are right-padded with <pad> after </s>: ids exactly, and
// log-probs (when wantLP is given) at generated positions within 1e-5 + 1e-4·|want|.
func checkSequences(t *testing.T, seqs []Sequence, want [][]int, wantLP [][]float32) {
	t.Helper()
	require.Len(t, seqs, len(want), "number of sequences")
	for i, s := range seqs {
		w := want[i]
		if !assert.LessOrEqual(t, len(s.IDs), len(w), "row %d: ids %v longer than the golden %v", i, s.IDs, w) {
			continue
		}
		// The golden rows go on with <pad> (0) after </s> (1).
		padded := append(slices.Clone(s.IDs), make([]int, len(w)-len(s.IDs))...)
		if !assert.Equal(t, w, padded, "row %d: ids, <pad>-padded", i) {
			continue
		}
		if len(s.IDs) < len(w) && !assert.Equal(t, 1, s.IDs[len(s.IDs)-1], "row %d: ids %v stop before %d without </s>", i, s.IDs, len(w)) {
			continue
		}
		if !assert.Len(t, s.LogProbs, len(s.IDs)-1, "row %d: one log-prob per generated id", i) {
			continue
		}
		if wantLP != nil {
			testutil.AllClose(t, "token log-probs", s.LogProbs, wantLP[i][:len(s.LogProbs)], 1e-5, 1e-4)
		}
	}
}

// unpadded returns the golden input ids without their padding (GenerateIDs
// takes rows of any length).
func unpadded(t *testing.T, g *testutil.Golden) [][]int {
	ids := rows(g.T(t, "input_ids"))
	mask := rows(g.T(t, "attention_mask"))
	for i := range ids {
		n := 0
		for _, v := range mask[i] {
			n += v
		}
		ids[i] = ids[i][:n]
	}
	return ids
}

func TestGreedy(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			m, g := loadFixture(t, name), testutil.LoadGolden(t, name)
			want := rows(g.T(t, "greedy.sequences"))
			lp := g.T(t, "greedy.token_logprobs")
			wantLP := make([][]float32, lp.Shape[0])
			for i := range wantLP {
				wantLP[i] = lp.F32[i*lp.Shape[1] : (i+1)*lp.Shape[1]]
			}
			ids := unpadded(t, g)
			for _, bs := range []int{8, 2} {
				opts := greedyOptions(len(want[0]))
				opts.BatchSize = bs
				seqs, err := m.GenerateIDs(context.Background(), ids, opts)
				require.NoError(t, err)
				checkSequences(t, seqs, want, wantLP)
			}
		})
	}
}

func TestBeamSearch(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			m, g := loadFixture(t, name), testutil.LoadGolden(t, name)
			want := rows(g.T(t, "beam.sequences"))
			ids := unpadded(t, g)
			opts := GenerateOptions{MaxLength: 16, NumReturnSequences: 1, NumBeams: 4, LengthPenalty: 1, BatchSize: 8}
			seqs, err := m.GenerateIDs(context.Background(), ids, opts)
			require.NoError(t, err)
			checkSequences(t, seqs, want, nil)
			scores := make([]float32, len(seqs))
			for i, s := range seqs {
				scores[i] = float32(s.Score)
			}
			testutil.AllClose(t, "beam.sequences_scores", scores, g.T(t, "beam.sequences_scores").F32, 1e-5, 1e-4)
		})
	}
}

// TestGenerateCancelled: a cancelled context stops generation with its error.
func TestGenerateCancelled(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny"), testutil.LoadGolden(t, "t5-tiny")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.GenerateIDs(ctx, unpadded(t, g), greedyOptions(8))
	assert.Equal(t, context.Canceled, err, "GenerateIDs with a cancelled context")
}

func TestGenerateOptionErrors(t *testing.T) {
	m := loadFixture(t, "t5-tiny")
	for _, tc := range []struct {
		name string
		edit func(*GenerateOptions)
	}{
		{"greedy with several sequences", func(o *GenerateOptions) { o.DoSample, o.NumReturnSequences = false, 2 }},
		{"more sequences than beams", func(o *GenerateOptions) { o.DoSample, o.NumBeams, o.NumReturnSequences = false, 2, 3 }},
		{"bad top-p", func(o *GenerateOptions) { o.TopP = 1.5 }},
		{"zero max length", func(o *GenerateOptions) { o.MaxLength = 0 }},
	} {
		opts := DefaultGenerateOptions()
		tc.edit(&opts)
		_, err := m.GenerateIDs(context.Background(), [][]int{{1}}, opts)
		assert.Error(t, err, tc.name)
	}
}

// BenchmarkGenerateSampling times the GenQ recipe on the tiny model (5
// passages, 5 sequences each, up to 64 tokens).
func BenchmarkGenerateSampling(b *testing.B) {
	m, g := loadFixture(b, "t5-tiny"), testutil.LoadGolden(b, "t5-tiny")
	var texts []string
	g.Decode(b, "texts", &texts)
	opts := DefaultGenerateOptions()
	for i := 0; i < b.N; i++ {
		_, err := m.Generate(context.Background(), texts, opts)
		require.NoError(b, err)
	}
}

// TestMinMaxNewTokens: MaxNewTokens overrides MaxLength and MinNewTokens
// keeps </s> out until then (min_new_tokens = max_new_tokens = 6 gives
// exactly 7 ids, none of them </s>); before plain greedy decoding's first
// </s>, the tokens are unchanged, since only </s>'s logit is touched.
func TestMinMaxNewTokens(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny"), testutil.LoadGolden(t, "t5-tiny")
	ids := unpadded(t, g)
	plain, err := m.GenerateIDs(context.Background(), ids, greedyOptions(7))
	require.NoError(t, err)
	opts := greedyOptions(3)
	opts.MinNewTokens, opts.MaxNewTokens = 6, 6
	forced, err := m.GenerateIDs(context.Background(), ids, opts)
	require.NoError(t, err)
	for i, s := range forced {
		assert.Len(t, s.IDs, 7, "row %d: ids %v", i, s.IDs)
		assert.NotContains(t, s.IDs[1:], m.cfg.EOSTokenID, "row %d: </s> among the new tokens despite MinNewTokens 6", i)
		prefix := plain[i].IDs
		if eos := slices.Index(prefix, m.cfg.EOSTokenID); eos >= 0 {
			prefix = prefix[:eos]
		}
		prefix = prefix[:min(len(prefix), len(s.IDs))]
		assert.Equal(t, prefix, s.IDs[:len(prefix)], "row %d: tokens before plain greedy's </s>", i)
	}
}
