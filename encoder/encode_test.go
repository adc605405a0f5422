package encoder

import (
	"context"
	"math"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type pair struct {
	Query   string `json:"query"`
	Passage string `json:"passage"`
}

func goldenPairs(t *testing.T, g *testutil.Golden) (queries, passages []string) {
	var ps []pair
	g.Decode(t, "pairs", &ps)
	for _, p := range ps {
		queries = append(queries, p.Query)
		passages = append(passages, p.Passage)
	}
	return queries, passages
}

// TestTokenize checks that the model's tokenization (strip, truncation at
// max_seq_length 128, padding to the longest row) gives the golden ids exactly.
func TestTokenize(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		assert.Equal(t, 128, m.MaxSeqLength())
		queries, passages := goldenPairs(t, g)
		for col, texts := range map[string][]string{"query": queries, "passage": passages} {
			got, err := m.tokenize(texts)
			require.NoError(t, err)
			want := goldenBatch(t, g, col)
			assert.Equal(t, want.ids, got.ids, "%s: input ids", col)
			assert.Equal(t, want.mask, got.mask, "%s: attention mask", col)
			if want.types != nil {
				assert.Equal(t, want.types, got.types, "%s: token type ids", col)
			}
		}
	})
}

// TestEncode compares Encode with SentenceTransformer.encode and util.cos_sim:
// |Δ| <= 2e-5 + 1e-4·|want|. It also checks that padding (a text alone vs. in
// a batch with longer ones, bucketed lengths) changes no value by more than 1e-6.
func TestEncode(t *testing.T) {
	ctx := context.Background()
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		queries, passages := goldenPairs(t, g)
		q, err := m.Encode(ctx, queries)
		require.NoError(t, err)
		p, err := m.Encode(ctx, passages, WithBatchSize(4))
		require.NoError(t, err)
		testutil.AllClose(t, "query.sentence_embedding", flatten(q), g.T(t, "query.sentence_embedding").F32, 2e-5, 1e-4)
		testutil.AllClose(t, "passage.sentence_embedding", flatten(p), g.T(t, "passage.sentence_embedding").F32, 2e-5, 1e-4)
		testutil.AllClose(t, "cos_sim", cosSim(q, p), g.T(t, "cos_sim").F32, 2e-5, 1e-4)

		var worst float64
		for i, text := range queries {
			alone, err := m.Encode(ctx, []string{text})
			require.NoError(t, err)
			for j, v := range alone[0] {
				worst = math.Max(worst, math.Abs(float64(v-q[i][j])))
			}
		}
		assert.LessOrEqual(t, worst, 1e-6, "encoding alone vs. in a padded batch")
		t.Logf("padding changes embeddings by at most %.3g", worst)

		n, err := m.Encode(ctx, queries[:2], WithNormalize(true))
		require.NoError(t, err)
		for i, v := range n {
			var ss float64
			for _, x := range v {
				ss += float64(x) * float64(x)
			}
			assert.InDelta(t, 1, ss, 1e-5, "squared norm of normalized embedding %d", i)
		}
	})
}

func flatten(rows [][]float32) []float32 {
	var out []float32
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// cosSim is util.cos_sim of two embedding lists.
func cosSim(a, b [][]float32) []float32 {
	norm := func(v []float32) []float64 {
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		n := math.Max(math.Sqrt(ss), 1e-12)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / n
		}
		return out
	}
	var out []float32
	for _, x := range a {
		nx := norm(x)
		for _, y := range b {
			ny := norm(y)
			var dot float64
			for i := range nx {
				dot += nx[i] * ny[i]
			}
			out = append(out, float32(dot))
		}
	}
	return out
}
