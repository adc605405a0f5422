package sentencepiece

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTruncation checks HF's truncation rules: one slot is kept for </s>, and
// a text whose ids already end with </s> gets no second one.
func TestTruncation(t *testing.T) {
	tok := loadT5(t)
	full := tok.encode("Hello, world!", 0) // ▁Hello , ▁world ! </s>
	for _, c := range []struct {
		text   string
		maxLen int
		want   []int
	}{
		{"Hello, world!", 1, []int{1}},
		{"Hello, world!", 2, []int{full[0], 1}},
		{"Hello, world!", len(full), full},
		{"Hello, world!", 100, full},
		{"Hello </s>", 0, []int{full[0], 1}},
		{"Hello </s>", 2, []int{full[0], 1}},
		{"Hello </s> world", 3, []int{full[0], 1}}, // truncated ids end with </s>: none appended
		{"", 0, []int{1}},
		{"", 5, []int{1}},
	} {
		assert.Equal(t, c.want, tok.encode(c.text, c.maxLen), "Encode(%q, %d)", c.text, c.maxLen)
	}
}

// TestEncodeBatchPadding checks right padding with <pad> and the mask.
func TestEncodeBatchPadding(t *testing.T) {
	tok := loadT5(t)
	ids, mask := tok.EncodeBatch([]string{"Hello, world!", ""}, 0)
	want := [][]int{tok.encode("Hello, world!", 0), {1, 0, 0, 0, 0}}
	wantMask := [][]int{{1, 1, 1, 1, 1}, {1, 0, 0, 0, 0}}
	assert.Equal(t, want, ids)
	assert.Equal(t, wantMask, mask)
	ids, mask = tok.EncodeBatch(nil, 0)
	assert.Empty(t, ids)
	assert.Empty(t, mask)
}

// TestDecodeSentinels follows PreTrainedTokenizer._decode for T5 when special
// tokens are kept: the sentinels lie outside the sentencepiece vocabulary, so
// they are joined to their neighbours with spaces. (Derived from the 4.40
// code; the fixtures only decode <pad> and </s>.)
func TestDecodeSentinels(t *testing.T) {
	tok := loadT5(t)
	ids := tok.encode("<extra_id_0> and <extra_id_1></s>", 0)
	require.Equal(t, []int{32099, 11, 32098, 1}, ids)
	assert.Equal(t, "<extra_id_0> and <extra_id_1> </s>", tok.decode(ids, false), "keep specials")
	assert.Equal(t, "and", tok.decode(ids, true), "skip specials")
	// Ids past the vocabulary (T5's embedding has 32128 rows) are skipped.
	assert.Equal(t, "Hello", tok.decode([]int{8774, 32127, -5, 1}, true), "out-of-range ids")
	assert.Empty(t, tok.decode(nil, false))
}

// TestPieceIDRoundTrip checks IDToPiece and PieceToID over the whole vocabulary.
func TestPieceIDRoundTrip(t *testing.T) {
	tok := loadT5(t)
	for id := 0; id < tok.Len(); id++ {
		p := tok.IDToPiece(id)
		require.NotEmpty(t, p, "id %d", id)
		require.Equal(t, id, tok.PieceToID(p), "id %d → %q", id, p)
	}
	assert.Equal(t, "<extra_id_0>", tok.IDToPiece(32099))
	assert.Equal(t, "<extra_id_99>", tok.IDToPiece(32000))
	assert.Empty(t, tok.IDToPiece(tok.Len()), "out-of-vocabulary id")
	assert.Equal(t, tok.UnkID(), tok.PieceToID("no such piece"))
}

// TestInvalidUTF8 checks that bytes that are not UTF-8 become U+FFFD one byte
// at a time, as sentencepiece's normalizer writes it: after the charsmap, so
// the replacement is an unknown character for T5 (while a literal U+FFFD in
// valid text is mapped to a space by nmt_nfkc).
func TestInvalidUTF8(t *testing.T) {
	tok := loadT5(t)
	got := tok.Tokenize("a\xffb\xe2\x82")
	assert.Equal(t, []string{"▁", "a", "\uFFFD", "b", "\uFFFD\uFFFD"}, got)
	ids := tok.encode("a\xffb\xe2\x82", 0)
	assert.Equal(t, []int{3, 9, 2, 115, 2, 1}, ids)
	assert.True(t, utf8.ValidString(tok.decode(ids, false)), "Decode returned invalid UTF-8")
}

// TestLoadErrors checks that broken folders give errors that name the file.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	assert.ErrorContains(t, err, "spiece.model", "empty folder")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spiece.model"), []byte{0x0a, 0xff}, 0o644))
	_, err = Load(dir)
	assert.ErrorContains(t, err, "spiece.model", "truncated spiece.model")
	b, err := os.ReadFile(testutil.Fixture("t5-tiny", "spiece.model"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spiece.model"), b[:len(b)/2], 0o644))
	_, err = Load(dir)
	assert.Error(t, err, "half a spiece.model")
}

// TestConcurrentUse encodes and decodes from several goroutines at once (run
// with -race to check that a Tokenizer is safe for concurrent use).
func TestConcurrentUse(t *testing.T) {
	tok := loadT5(t)
	rows := testutil.TokenizerRows(t)
	errs := make(chan string, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := w; i < len(rows); i += 4 {
				if got := tok.encode(rows[i].Text, 0); !slices.Equal(got, rows[i].T5IDs) {
					errs <- rows[i].Text
					return
				}
				tok.decode(rows[i].T5IDs, i%2 == 0)
			}
			errs <- ""
		}(w)
	}
	for w := 0; w < 4; w++ {
		assert.Empty(t, <-errs, "a concurrent Encode differs from the golden ids")
	}
}
