package sentencepiece

import (
	"fmt"
	"slices"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// goldenRow is one row of testdata/fixtures/tokenizers/golden.json: the slow
// T5Tokenizer's output for a text (transformers 4.40, sentencepiece 0.1.97).
type goldenRow struct {
	Text         string   `json:"text"`
	T5IDs        []int    `json:"t5_ids"`
	T5IDsTrunc16 []int    `json:"t5_ids_trunc16"`
	T5Pieces     []string `json:"t5_pieces"`
	T5Decode     string   `json:"t5_decode"`
}

func loadT5(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := Load(testutil.Fixture("t5-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func goldenRows(t testing.TB) []goldenRow {
	t.Helper()
	var g struct {
		Rows []goldenRow `json:"rows"`
	}
	if err := testutil.ReadJSON(testutil.Fixture("tokenizers", "golden.json"), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Rows) == 0 {
		t.Fatal("tokenizers/golden.json has no rows")
	}
	return g.Rows
}

// TestGoldenRows checks every row of tokenizers/golden.json exactly: ids,
// ids truncated at 16, token strings and decode(skip_special_tokens=True).
func TestGoldenRows(t *testing.T) {
	tok := loadT5(t)
	rows := goldenRows(t)
	checks := []struct {
		name string
		ok   func(r goldenRow) (bool, string)
	}{
		{"ids", func(r goldenRow) (bool, string) {
			got := tok.encode(r.Text, 0)
			return slices.Equal(got, r.T5IDs), fmt.Sprintf("got  %v\nwant %v", got, r.T5IDs)
		}},
		{"trunc16", func(r goldenRow) (bool, string) {
			got := tok.encode(r.Text, 16)
			return slices.Equal(got, r.T5IDsTrunc16), fmt.Sprintf("got  %v\nwant %v", got, r.T5IDsTrunc16)
		}},
		{"pieces", func(r goldenRow) (bool, string) {
			got := tok.Pieces(r.Text)
			return slices.Equal(got, r.T5Pieces), fmt.Sprintf("got  %q\nwant %q", got, r.T5Pieces)
		}},
		{"decode", func(r goldenRow) (bool, string) {
			got := tok.decode(r.T5IDs, true)
			return got == r.T5Decode, fmt.Sprintf("got  %q\nwant %q", got, r.T5Decode)
		}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			pass := 0
			for i, r := range rows {
				ok, diff := c.ok(r)
				if ok {
					pass++
					continue
				}
				t.Errorf("row %d %q:\n%s", i, r.Text, diff)
			}
			t.Logf("%s: %d/%d rows exact", c.name, pass, len(rows))
		})
	}
}
