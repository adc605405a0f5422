package encoder

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// fixtures are the two bi-encoder fixture folders.
var fixtures = []string{"distilbert-tiny", "bert-tiny"}

// goldenBatch returns the golden tokenized batch of a column ("query" or "passage").
func goldenBatch(t *testing.T, g *testutil.Golden, col string) tokenized {
	t.Helper()
	rows := func(name string) [][]int {
		x := g.T(t, name)
		flat := testutil.Ints(x)
		var out [][]int
		for i := 0; i < x.Shape[0]; i++ {
			out = append(out, flat[i*x.Shape[1]:(i+1)*x.Shape[1]])
		}
		return out
	}
	tk := tokenized{ids: rows(col + ".input_ids"), mask: rows(col + ".attention_mask")}
	if _, ok := g.Tensors[col+".token_type_ids"]; ok {
		tk.types = rows(col + ".token_type_ids")
	}
	return tk
}

// TestForward runs the golden token ids through the model and compares the
// last hidden state (every position, padding included) and the mean-pooled
// embedding with the reference: |Δ| <= 2e-5 + 1e-4·|want|.
func TestForward(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			g := testutil.LoadGolden(t, name)
			m, err := Load(t.Context(), testutil.Fixture(name), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range []string{"query", "passage"} {
				enc := goldenBatch(t, g, col)
				tokens, pooled, err := m.forward(enc)
				if err != nil {
					t.Fatal(err)
				}
				want := g.T(t, col+".token_embeddings")
				b, tt, d := want.Shape[0], want.Shape[1], want.Shape[2]
				padded := len(tokens) / (b * d)
				got := make([]float32, 0, b*tt*d)
				for i := 0; i < b; i++ {
					got = append(got, tokens[i*padded*d:(i*padded+tt)*d]...)
				}
				testutil.AllClose(t, col+".token_embeddings", got, want.F32, 2e-5, 1e-4)
				testutil.AllClose(t, col+".sentence_embedding_forward", pooled, g.T(t, col+".sentence_embedding_forward").F32, 2e-5, 1e-4)
			}
		})
	}
}
