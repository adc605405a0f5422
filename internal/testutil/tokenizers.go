package testutil

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TokenizerRow is one row of testdata/fixtures/tokenizers/golden.json: a
// text with the output of the slow T5Tokenizer (t5-base's spiece.model) and
// of BertTokenizer (bert-base-uncased's vocab.txt) on it.
type TokenizerRow struct {
	Text         string   `json:"text"`
	T5IDs        []int    `json:"t5_ids"`           // </s> appended
	T5IDsTrunc16 []int    `json:"t5_ids_trunc16"`   // truncation=True, max_length=16
	T5Pieces     []string `json:"t5_pieces"`        // convert_ids_to_tokens(t5_ids)
	T5Decode     string   `json:"t5_decode"`        // decode(t5_ids, skip_special_tokens=True)
	BertIDs      []int    `json:"bert_ids"`         // [CLS] ... [SEP]
	BertTrunc16  []int    `json:"bert_ids_trunc16"` // truncation=True, max_length=16
	BertTokens   []string `json:"bert_tokens"`      // [CLS] tokenize(text) [SEP]
}

// TokenizerRows reads the 298 rows of the tokenizer golden file; a missing
// or short file fails the test.
func TokenizerRows(t testing.TB) []TokenizerRow {
	t.Helper()
	var g struct {
		Rows []TokenizerRow `json:"rows"`
	}
	require.NoError(t, ReadJSON(Fixture("tokenizers", "golden.json"), &g))
	require.Len(t, g.Rows, 298, "rows of tokenizers/golden.json")
	return g.Rows
}

// WriteFile writes path with write (a WriteTokenizerJSON method, say) and
// returns path; an error fails the test.
func WriteFile(t testing.TB, path string, write func(io.Writer) error) string {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	if err := write(f); err != nil {
		f.Close()
		require.NoError(t, err, "writing %s", path)
	}
	require.NoError(t, f.Close())
	return path
}

// TokenizerJSONRoundTrip writes a tokenizer.json with write into a new
// folder and reads it back on its own, with loadFile (a LoadTokenizerJSON),
// and as the only tokenizer file of the folder, with loadDir (a Load); check
// runs on each tokenizer read, in a subtest named after the loader.
func TokenizerJSONRoundTrip[T any](t *testing.T, write func(io.Writer) error, loadFile, loadDir func(string) (T, error), check func(t *testing.T, tok T)) {
	t.Helper()
	dir := t.TempDir()
	fromFile, err := loadFile(WriteFile(t, filepath.Join(dir, "tokenizer.json"), write))
	require.NoError(t, err)
	fromDir, err := loadDir(dir)
	require.NoError(t, err)
	for _, l := range []struct {
		name string
		tok  T
	}{{"LoadTokenizerJSON", fromFile}, {"Load", fromDir}} {
		t.Run(l.name, func(t *testing.T) { check(t, l.tok) })
	}
}
