package sentencepiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadT5(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := Load(testutil.Fixture("t5-tiny"))
	require.NoError(t, err)
	return tok
}

// TestGoldenRows checks every row of tokenizers/golden.json exactly: ids,
// ids truncated at 16, token strings and decode(skip_special_tokens=True).
func TestGoldenRows(t *testing.T) {
	tok := loadT5(t)
	rows := testutil.TokenizerRows(t)
	for i, r := range rows {
		assert.Equal(t, r.T5IDs, tok.encode(r.Text, 0), "row %d %q ids", i, r.Text)
		assert.Equal(t, r.T5IDsTrunc16, tok.encode(r.Text, 16), "row %d %q ids truncated at 16", i, r.Text)
		assert.Equal(t, r.T5Pieces, tok.Pieces(r.Text), "row %d %q pieces", i, r.Text)
		assert.Equal(t, r.T5Decode, tok.decode(r.T5IDs, true), "row %d %q decoded", i, r.Text)
	}
}
