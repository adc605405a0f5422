package wordpiece

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIDsSizeNoAllocation checks that an id read from a file sizes no
// allocation: a token at id 16 million (in added_tokens.json, or in
// tokenizer.json's vocabulary) used to grow the id table to 16 million
// entries, 270 MB, from a 20-byte file. Ids beyond 2^31 - 1 are errors.
func TestIDsSizeNoAllocation(t *testing.T) {
	vocab := filepath.Join(t.TempDir(), "vocab")
	require.NoError(t, os.Mkdir(vocab, 0o755))
	require.NoError(t, os.Symlink(testutil.Fixture("bert-tiny", "vocab.txt"), filepath.Join(vocab, "vocab.txt")))
	write(t, filepath.Join(vocab, "added_tokens.json"), `{"<far>": 16000000}`)

	js := filepath.Join(t.TempDir(), "tokenizer.json")
	write(t, js, `{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4, "a": 16000000}}}`)

	var tok *Tokenizer
	var err error
	for _, c := range []struct {
		name, far string
		load      func()
	}{
		{"added_tokens.json", "<far>", func() { tok, err = Load(vocab) }},
		{"tokenizer.json", "a", func() { tok, err = LoadTokenizerJSON(js) }},
	} {
		n := testutil.Allocated(c.load)
		require.NoError(t, err, c.name)
		assert.Less(t, n, uint64(32<<20), "%s: bytes allocated", c.name)
		assert.Equal(t, 16000001, tok.VocabSize(), c.name)
		assert.Equal(t, c.far, tok.IDToken(16000000), c.name)
		assert.Equal(t, 16000000, tok.TokenID(c.far), c.name)
		assert.Equal(t, "[UNK]", tok.IDToken(15999999), c.name)
	}

	write(t, js, `{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 2147483648}}}`)
	_, err = LoadTokenizerJSON(js)
	assert.ErrorContains(t, err, `token "a" has id 2147483648, outside 0..2147483647`)
	write(t, filepath.Join(vocab, "added_tokens.json"), `{"<far>": 9223372036854775807}`)
	_, err = Load(vocab)
	assert.ErrorContains(t, err, `added token "<far>" with id 9223372036854775807`)
}
