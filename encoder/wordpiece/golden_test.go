package wordpiece

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// goldenRow is one row of testdata/fixtures/tokenizers/golden.json:
// BertTokenizer(vocab.txt, do_lower_case=True) on one text.
type goldenRow struct {
	Text        string   `json:"text"`
	BertIDs     []int    `json:"bert_ids"`
	BertTrunc16 []int    `json:"bert_ids_trunc16"`
	BertTokens  []string `json:"bert_tokens"`
}

func loadBert(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Load(testutil.Fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestGoldenTexts checks every row of the tokenizer golden file exactly: ids,
// ids truncated at 16, and tokens ([CLS]/[SEP] included in the golden tokens).
// The bar is every row exact; the counts are logged.
func TestGoldenTexts(t *testing.T) {
	var g struct {
		Rows []goldenRow `json:"rows"`
	}
	if err := testutil.ReadJSON(testutil.Fixture("tokenizers", "golden.json"), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Rows) != 298 {
		t.Fatalf("tokenizers/golden.json has %d rows, want 298", len(g.Rows))
	}
	tok := loadBert(t, "bert-tiny")
	var okIDs, okTrunc, okTokens int
	for i, row := range g.Rows {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := tok.Encode(row.Text, 0).IDs; reflect.DeepEqual(got, row.BertIDs) {
				okIDs++
			} else {
				t.Errorf("text %q\nids  %v\nwant %v", row.Text, got, row.BertIDs)
			}
			if got := tok.Encode(row.Text, 16).IDs; reflect.DeepEqual(got, row.BertTrunc16) {
				okTrunc++
			} else {
				t.Errorf("text %q\nids[:16] %v\nwant     %v", row.Text, got, row.BertTrunc16)
			}
			got := append(append([]string{"[CLS]"}, tok.Tokens(row.Text)...), "[SEP]")
			if reflect.DeepEqual(got, row.BertTokens) {
				okTokens++
			} else {
				t.Errorf("text %q\ntokens %q\nwant   %q", row.Text, got, row.BertTokens)
			}
		})
	}
	t.Logf("exact rows: ids %d/%d, trunc16 %d/%d, tokens %d/%d",
		okIDs, len(g.Rows), okTrunc, len(g.Rows), okTokens, len(g.Rows))
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
					if !reflect.DeepEqual(toks, wantTokens[i]) {
						t.Errorf("%s %d tokens\n got %q\nwant %q", col.tag, i, toks, wantTokens[i])
					}
				}
				check := func(key string, got [][]int) {
					want := g.T(t, col.tag+"."+key)
					if len(want.Shape) != 2 || want.Shape[0] != len(got) {
						t.Fatalf("%s.%s: golden shape %v, got %d rows", col.tag, key, want.Shape, len(got))
					}
					var flat []int
					for _, row := range got {
						if len(row) != want.Shape[1] {
							t.Fatalf("%s.%s: row width %d, golden %v", col.tag, key, len(row), want.Shape)
						}
						flat = append(flat, row...)
					}
					if w := testutil.Ints(want); !reflect.DeepEqual(flat, w) {
						t.Errorf("%s.%s differs from golden:\n got %v\nwant %v", col.tag, key, flat, w)
					}
				}
				check("input_ids", ids)
				check("attention_mask", mask)
				if _, ok := g.Tensors[col.tag+".token_type_ids"]; ok {
					check("token_type_ids", typeIDs)
				} else if name == "bert-tiny" {
					t.Errorf("bert-tiny golden lacks %s.token_type_ids", col.tag)
				}
				var untrunc []int
				g.Decode(t, col.tag+"_untruncated_lengths", &untrunc)
				for i, text := range col.texts {
					if n := len(tok.Encode(text, 0).IDs); n != untrunc[i] {
						t.Errorf("%s %d: untruncated length %d, golden %d", col.tag, i, n, untrunc[i])
					}
				}
			}
		})
	}
}
