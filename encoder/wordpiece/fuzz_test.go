package wordpiece

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzTokenize feeds arbitrary bytes (invalid UTF-8 included) through every
// entry point: nothing may panic, ids must be valid, [CLS]/[SEP] in place,
// truncation within bounds, Tokens and IDs in step.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"", "Hello, world!", "[CLS][SEP] [PAD]x[MASK]", "東京 ﬀ Ⅳ 🧑\u200d🚀", "\xff\xfe\x00\r\n\t",
		"\u0130\u03a3\u2028\u0085", strings.Repeat("a", 150), "e\u0301\u0301", "[UNK", "##ing",
	} {
		f.Add(s, 8)
	}
	tok := loadBert(f, "bert-tiny")
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen %= 64
		toks, ids := tok.Tokens(text), tok.IDs(text)
		require.Len(t, ids, len(toks), "%q: tokens and ids", text)
		for i, id := range ids {
			require.True(t, id >= 0 && id < tok.VocabSize(), "%q: id %d out of range", text, id)
			require.Equal(t, tok.TokenID(toks[i]), id, "%q: token %q", text, toks[i])
			require.True(t, utf8.ValidString(toks[i]) && toks[i] != "", "%q: bad token %q", text, toks[i])
		}
		e := tok.Encode(text, maxLen)
		n := len(e.IDs)
		require.GreaterOrEqual(t, n, 2, "%q: Encode = %v", text, e.IDs)
		require.Equal(t, tok.ClsID(), e.IDs[0], "%q: Encode = %v", text, e.IDs)
		require.Equal(t, tok.SepID(), e.IDs[n-1], "%q: Encode = %v", text, e.IDs)
		if maxLen > 2 {
			require.LessOrEqual(t, n, maxLen, "%q: Encode(maxLen=%d)", text, maxLen)
		}
		p := tok.EncodePair(text, text, maxLen)
		if maxLen > 3 {
			require.LessOrEqual(t, len(p.IDs), maxLen, "%q: EncodePair(maxLen=%d)", text, maxLen)
		}
		bIDs, _, bMask, err := tok.EncodeBatch([]string{text, "x"}, maxLen)
		require.NoError(t, err)
		require.Len(t, bIDs[1], len(bIDs[0]), "%q: ragged batch", text)
		require.Len(t, bMask[0], len(bIDs[0]), "%q: ragged batch", text)
		d := tok.Decode(ids, false)
		require.True(t, utf8.ValidString(d), "%q: Decode gave invalid UTF-8 %q", text, d)
	})
}
