package t5

import (
	"context"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestScoreIDs: per-row log-likelihoods of the golden greedy outputs equal
// the golden teacher-forced log-probs summed up to </s>, and over the golden
// labels they sum to −loss·(number of labels); both within 1e-4 + 1e-5·|want|.
func TestScoreIDs(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		ids := unpadded(t, g)
		seqs, mask := rows(g.T(t, "greedy.sequences")), rows(g.T(t, "greedy.token_mask"))
		tf := g.T(t, "greedy.teacher_forced_logprobs")
		labels := make([][]int, len(seqs))
		want := make([]float32, len(seqs))
		for i := range seqs {
			for j, keep := range mask[i] {
				if keep == 1 {
					labels[i] = append(labels[i], seqs[i][j+1])
					want[i] += tf.F32[i*tf.Shape[1]+j]
				}
			}
		}
		got, err := m.ScoreIDs(context.Background(), ids, labels)
		require.NoError(t, err)
		testutil.AllClose(t, "scores of greedy outputs", toF32(got), want, 1e-4, 1e-5)

		gl := rows(g.T(t, "labels"))
		got, err = m.ScoreIDs(context.Background(), ids, gl)
		require.NoError(t, err)
		var total float64
		n := 0
		for i, r := range gl {
			total += got[i]
			for _, l := range r {
				if l != IgnoreIndex {
					n++
				}
			}
		}
		loss := g.T(t, "loss").F32[0]
		testutil.AllClose(t, "summed label scores", []float32{float32(total)}, []float32{-loss * float32(n)}, 1e-4, 1e-5)
	})
}

// TestScoreStrings: Score on texts equals ScoreIDs on the golden token ids.
func TestScoreStrings(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny"), testutil.LoadGolden(t, "t5-tiny")
	var texts, labelTexts []string
	g.Decode(t, "texts", &texts)
	g.Decode(t, "label_texts", &labelTexts)
	// Texts 1 and 2 fit in 64 tokens, so the golden ids are their full tokenization.
	got, err := m.Score(context.Background(), texts[1:3], labelTexts[1:3])
	require.NoError(t, err)
	ids := unpadded(t, g)[1:3]
	gl := rows(g.T(t, "labels"))[1:3]
	want, err := m.ScoreIDs(context.Background(), ids, gl)
	require.NoError(t, err)
	testutil.AllClose(t, "Score vs ScoreIDs", toF32(got), toF32(want), 1e-6, 1e-6)
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
