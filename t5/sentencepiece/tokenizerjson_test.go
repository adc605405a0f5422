package sentencepiece

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenizerJSON checks that tokenizer.json, read on its own
// (LoadTokenizerJSON) or as the only tokenizer file of a folder (Load),
// tokenizes every golden row as the slow tokenizer does on spiece.model:
// ids, ids truncated at 16, pieces and decode(skip_special_tokens=True).
func TestTokenizerJSON(t *testing.T) {
	rows := testutil.TokenizerRows(t)
	testutil.TokenizerJSONRoundTrip(t, loadT5(t).WriteTokenizerJSON, LoadTokenizerJSON, Load, func(t *testing.T, tok *Tokenizer) {
		assert.Equal(t, []int{32100, 32099, 32000}, []int{tok.Len(), tok.PieceToID("<extra_id_0>"), tok.sp.size()},
			"Len, id of <extra_id_0>, sentencepiece pieces")
		for i, r := range rows {
			assert.Equal(t, r.T5IDs, tok.encode(r.Text, 0), "row %d %q", i, r.Text)
			assert.Equal(t, r.T5IDsTrunc16, tok.encode(r.Text, 16), "row %d %q truncated at 16", i, r.Text)
			assert.Equal(t, r.T5Pieces, tok.Pieces(r.Text), "row %d %q pieces", i, r.Text)
			assert.Equal(t, r.T5Decode, tok.decode(r.T5IDs, true), "row %d %q decoded", i, r.Text)
		}
	})
}

// TestLoadTokenizerJSONErrors checks that what genq's T5 tokenizer cannot
// reproduce is refused with an error naming the file and the component.
func TestLoadTokenizerJSONErrors(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, loadT5(t).WriteTokenizerJSON(&buf))
	good := buf.String()
	tests := []struct{ name, json, want string }{
		{"BPE", `{"model": {"type": "BPE"}}`, `"BPE" is not supported`},
		{"no unk", `{"model": {"type": "Unigram", "vocab": []}}`, "no unk_id"},
		{"post-processor", strings.Replace(good, `"type":"TemplateProcessing"`, `"type":"RobertaProcessing"`, 1), "not T5's TemplateProcessing"},
		{"normalizer", strings.Replace(good, `"type":"Precompiled"`, `"type":"NFKC"`, 1), `"NFKC" is not supported`},
		{"broken", `{`, "unexpected end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.json), 0o644))
			_, err := LoadTokenizerJSON(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)
		})
	}
	_, err := LoadTokenizerJSON(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
