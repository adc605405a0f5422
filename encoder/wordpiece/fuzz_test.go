package wordpiece

import (
	"strings"
	"testing"
	"unicode/utf8"
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
		if len(toks) != len(ids) {
			t.Fatalf("%q: %d tokens but %d ids", text, len(toks), len(ids))
		}
		for i, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("%q: id %d out of range", text, id)
			}
			if want := tok.TokenID(toks[i]); want != id {
				t.Fatalf("%q: token %q has id %d, TokenID says %d", text, toks[i], id, want)
			}
			if !utf8.ValidString(toks[i]) || toks[i] == "" {
				t.Fatalf("%q: bad token %q", text, toks[i])
			}
		}
		e := tok.Encode(text, maxLen)
		n := len(e.IDs)
		if n < 2 || e.IDs[0] != tok.ClsID() || e.IDs[n-1] != tok.SepID() {
			t.Fatalf("%q: Encode = %v", text, e.IDs)
		}
		if maxLen > 2 && n > maxLen {
			t.Fatalf("%q: Encode(maxLen=%d) has %d ids", text, maxLen, n)
		}
		p := tok.EncodePair(text, text, maxLen)
		if maxLen > 3 && len(p.IDs) > maxLen {
			t.Fatalf("%q: EncodePair(maxLen=%d) has %d ids", text, maxLen, len(p.IDs))
		}
		bIDs, _, bMask, _ := tok.EncodeBatch([]string{text, "x"}, maxLen)
		if len(bIDs[0]) != len(bIDs[1]) || len(bMask[0]) != len(bIDs[0]) {
			t.Fatalf("%q: ragged batch", text)
		}
		if d := tok.Decode(ids, false); !utf8.ValidString(d) {
			t.Fatalf("%q: Decode gave invalid UTF-8 %q", text, d)
		}
	})
}
