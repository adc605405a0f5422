package wordpiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadBert(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Load(testutil.Fixture(name))
	require.NoError(t, err)
	return tok
}

// TestGoldenTexts checks every row of the tokenizer golden file exactly: ids,
// ids truncated at 16, and tokens ([CLS]/[SEP] included in the golden tokens).
func TestGoldenTexts(t *testing.T) {
	tok := loadBert(t, "bert-tiny")
	for i, row := range testutil.TokenizerRows(t) {
		assert.Equal(t, row.BertIDs, tok.Encode(row.Text, 0).IDs, "row %d %q ids", i, row.Text)
		assert.Equal(t, row.BertTrunc16, tok.Encode(row.Text, 16).IDs, "row %d %q ids truncated at 16", i, row.Text)
		got := append(append([]string{"[CLS]"}, tok.Tokens(row.Text)...), "[SEP]")
		assert.Equal(t, row.BertTokens, got, "row %d %q tokens", i, row.Text)
	}
}

// TestGoldenBatches checks SentenceTransformer.tokenize of the bi-encoder
// fixtures' queries and passages (padding to the longest, truncation at 128):
// input_ids, attention_mask and (BERT) token_type_ids must be equal.
func TestGoldenBatches(t *testing.T) {
	for _, name := range []string{"bert-tiny", "distilbert-tiny"} {
		t.Run(name, func(t *testing.T) {
			g := testutil.LoadGolden(t, name)
			tok := loadBert(t, name)
			var pairs []struct{ Query, Passage string }
			g.Decode(t, "pairs", &pairs)
			var queries, passages []string
			for _, p := range pairs {
				queries = append(queries, p.Query)
				passages = append(passages, p.Passage)
			}
			for _, col := range []struct {
				tag   string
				texts []string
			}{{"query", queries}, {"passage", passages}} {
				ids, typeIDs, mask, err := tok.EncodeBatch(col.texts, 128)
				require.NoError(t, err)
				var wantTokens [][]string
				g.Decode(t, col.tag+"_tokens", &wantTokens)
				for i, row := range ids {
					var toks []string
					for _, id := range row {
						toks = append(toks, tok.IDToken(id))
					}
					assert.Equal(t, wantTokens[i], toks, "%s %d tokens", col.tag, i)
				}
				check := func(key string, got [][]int) {
					want := g.T(t, col.tag+"."+key)
					require.Len(t, want.Shape, 2, "%s.%s: golden shape", col.tag, key)
					require.Len(t, got, want.Shape[0], "%s.%s: rows", col.tag, key)
					var flat []int
					for _, row := range got {
						require.Len(t, row, want.Shape[1], "%s.%s: row width", col.tag, key)
						flat = append(flat, row...)
					}
					assert.Equal(t, testutil.Ints(want), flat, "%s.%s", col.tag, key)
				}
				check("input_ids", ids)
				check("attention_mask", mask)
				if _, ok := g.Tensors[col.tag+".token_type_ids"]; ok {
					check("token_type_ids", typeIDs)
				} else {
					assert.NotEqual(t, "bert-tiny", name, "bert-tiny golden lacks %s.token_type_ids", col.tag)
				}
				var untrunc []int
				g.Decode(t, col.tag+"_untruncated_lengths", &untrunc)
				for i, text := range col.texts {
					assert.Len(t, tok.Encode(text, 0).IDs, untrunc[i], "%s %d: untruncated length", col.tag, i)
				}
			}
		})
	}
}
