package wordpiece

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// small builds a tokenizer over a toy vocabulary; expectations below follow
// from HF's BertTokenizer rules applied by hand to that vocabulary.
func small(t *testing.T, opts Options, extra ...string) *Tokenizer {
	t.Helper()
	vocab := append([]string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
		"hello", "Hello", "cafe", "café", "un", "##aff", "##able", "a", "##a", "x", "!", "[", "]", "foo", "##o", "f"}, extra...)
	tok, err := New(vocab, opts)
	require.NoError(t, err)
	return tok
}

func boolPtr(b bool) *bool { return &b }

func TestOptions(t *testing.T) {
	lowerKeep := DefaultOptions()
	lowerKeep.StripAccents = boolPtr(false)
	cased := DefaultOptions()
	cased.LowerCase = false
	casedStrip := cased
	casedStrip.StripAccents = boolPtr(true)
	neverCased := cased
	neverCased.NeverSplit = []string{"[FOO]"}
	neverLower := DefaultOptions()
	neverLower.NeverSplit = []string{"[FOO]"}
	short := DefaultOptions()
	short.MaxInputCharsPerWord = 3
	noBasic := DefaultOptions()
	noBasic.BasicTokenize = false

	tests := []struct {
		name string
		opts Options
		text string
		want []string
	}{
		{"lower strips accents (strip_accents null)", DefaultOptions(), "CAFÉ Hello", []string{"cafe", "hello"}},
		{"strip_accents false keeps them", lowerKeep, "CAFÉ", []string{"café"}},
		{"cased keeps case and accents", cased, "café Hello", []string{"café", "Hello"}},
		{"cased with strip_accents true", casedStrip, "café", []string{"cafe"}},
		{"greedy longest match with ## pieces", DefaultOptions(), "unaffable", []string{"un", "##aff", "##able"}},
		{"uncoverable word is one [UNK]", DefaultOptions(), "unaffz hello", []string{"[UNK]", "hello"}},
		{"punctuation split", DefaultOptions(), "[hello]!", []string{"[", "hello", "]", "!"}},
		{"literal specials stay whole and upper-case", DefaultOptions(), "a[MASK]x [CLS]", []string{"a", "[MASK]", "x", "[CLS]"}},
		{"lower-case specials are text", DefaultOptions(), "[mask]", []string{"[", "[UNK]", "]"}},
		{"never_split keeps a word whole", neverCased, "[FOO] foo", []string{"[FOO]", "foo"}},
		// HF lower-cases the text before the basic tokenizer sees it, so an
		// upper-case never_split entry never matches when lower-casing.
		{"upper-case never_split is lost to lower-casing", neverLower, "[FOO]", []string{"[", "foo", "]"}},
		{"max_input_chars_per_word", short, "aaa aaaa", []string{"a", "##a", "##a", "[UNK]"}},
		{"controls dropped, U+2028 separates", DefaultOptions(), "he\u200dllo\x00\ufffd\u2028x", []string{"hello", "x"}},
		{"invalid UTF-8 is dropped", DefaultOptions(), "hel\xfflo", []string{"hello"}},
		{"Unicode 15 additions are unassigned in Python 3.11", DefaultOptions(), "a\U0001FA75a", []string{"a", "##a"}},
		{"capital I with dot above lower-cases to i + U+0307, then stripped", DefaultOptions(), "\u0130", []string{"[UNK]"}},
		{"no basic tokenization: whitespace split only, no lower-casing", noBasic, "Hello hello!", []string{"Hello", "[UNK]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, small(t, tc.opts).Tokens(tc.text), "Tokens(%q)", tc.text)
		})
	}
}

// TestDottedCapitalI pins the one lower-case mapping where Python and Go
// differ: with accents kept, "İ" becomes "i" + U+0307 as in Python.
func TestDottedCapitalI(t *testing.T) {
	opts := DefaultOptions()
	opts.StripAccents = boolPtr(false)
	tok := small(t, opts, "i\u0307")
	assert.Equal(t, []string{"i\u0307"}, tok.Tokens("\u0130"))
}

func TestAddedTokens(t *testing.T) {
	opts := DefaultOptions()
	opts.AddedTokens = []AddedToken{
		{Content: "<r>", ID: 100, RStrip: true, LStrip: true},
		{Content: "Foo", ID: 101, Normalized: true},
	}
	tok := small(t, opts)
	assert.Equal(t, []int{12, 100, 14}, tok.IDs("a  <r>  x"), "an lstrip/rstrip added token")
	// A non-special normalized added token is protected from lower-casing
	// only as written.
	assert.Equal(t, []int{101, 18}, tok.IDs("Foo FOO"))
	assert.Equal(t, 102, tok.VocabSize(), "ids 0..101")
	assert.Equal(t, "a <r> x Foo", tok.Decode([]int{2, 12, 100, 14, 101, 3}, true))
}

func TestMissingSpecialTokensGetNewIDs(t *testing.T) {
	tok, err := New([]string{"[UNK]", "a"}, DefaultOptions())
	require.NoError(t, err)
	// HF adds the missing special tokens in attribute order: sep, pad, cls, mask.
	assert.Equal(t, []int{2, 3, 4, 5, 6}, []int{tok.SepID(), tok.PadID(), tok.ClsID(), tok.MaskID(), tok.VocabSize()},
		"ids of sep, pad, cls, mask; vocabulary size")
	_, err = New([]string{"a"}, Options{UnkToken: "<unk>"})
	assert.NoError(t, err, "a missing unknown token is added like the others")
	_, err = New(nil, DefaultOptions())
	assert.Error(t, err, "New(nil)")
}

func TestTruncation(t *testing.T) {
	tok := small(t, DefaultOptions())
	text := "a x a x a" // 5 tokens: 12 14 12 14 12
	tests := []struct {
		maxLen int
		want   []int
	}{
		{0, []int{2, 12, 14, 12, 14, 12, 3}},
		{7, []int{2, 12, 14, 12, 14, 12, 3}},
		{5, []int{2, 12, 14, 12, 3}},
		{3, []int{2, 12, 3}},
		{2, []int{2, 12, 14, 12, 14, 12, 3}}, // HF: no room, logs an error, leaves it
	}
	for _, tc := range tests {
		e := tok.Encode(text, tc.maxLen)
		assert.Equal(t, tc.want, e.IDs, "Encode(maxLen=%d)", tc.maxLen)
		assert.Len(t, e.Mask, len(e.IDs), "maxLen=%d: mask", tc.maxLen)
		assert.Len(t, e.TypeIDs, len(e.IDs), "maxLen=%d: type ids", tc.maxLen)
	}
}

func TestLongestFirst(t *testing.T) {
	// transformers 4.40 truncate_sequences, longest_first: the excess of the
	// longer side goes first, the rest is shared, the second text taking the
	// odd one (always when the lengths tie).
	tests := []struct{ n1, n2, remove, d1, d2 int }{
		{10, 4, 8, 7, 1},
		{4, 10, 8, 1, 7},
		{5, 5, 3, 1, 2},
		{6, 5, 1, 1, 0},
		{5, 6, 1, 0, 1},
		{3, 3, 10, 5, 5},
	}
	for _, tc := range tests {
		d1, d2 := longestFirst(tc.n1, tc.n2, tc.remove)
		assert.Equal(t, [2]int{tc.d1, tc.d2}, [2]int{d1, d2}, "longestFirst(%d, %d, %d)", tc.n1, tc.n2, tc.remove)
	}
	tok := small(t, DefaultOptions())
	e := tok.EncodePair("a a a a", "x x", 7)
	assert.Equal(t, []int{2, 12, 12, 3, 14, 14, 3}, e.IDs, "EncodePair")
	assert.Equal(t, []int{0, 0, 0, 0, 1, 1, 1}, e.TypeIDs, "EncodePair types")
	ids, typeIDs, mask, err := tok.EncodePairBatch([]string{"a", "a a a"}, []string{"x", "x"}, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 12, 3, 14, 3, 0, 0}, ids[0], "EncodePairBatch row 0")
	assert.Equal(t, []int{0, 0, 0, 1, 1, 0, 0}, typeIDs[0], "EncodePairBatch types row 0")
	assert.Equal(t, []int{1, 1, 1, 1, 1, 0, 0}, mask[0], "EncodePairBatch mask row 0")
}

func TestDecode(t *testing.T) {
	tok := loadBert(t, "bert-tiny")
	tests := []struct {
		text, want, withSpecial string
	}{
		{"Hello, world! It's unaffable.", "hello, world! it's unaffable.", "[CLS] hello, world! it's unaffable. [SEP]"},
		{"don't stop", "don't stop", "[CLS] don't stop [SEP]"},
	}
	for _, tc := range tests {
		ids := tok.Encode(tc.text, 0).IDs
		assert.Equal(t, tc.want, tok.Decode(ids, true), "Decode(skip) of %q", tc.text)
		assert.Equal(t, tc.withSpecial, tok.Decode(ids, false), "Decode of %q", tc.text)
	}
	assert.Equal(t, "[UNK] [UNK]", tok.Decode([]int{-1, 1 << 40}, false), "out-of-range ids")
	assert.Empty(t, tok.Decode(nil, true))
}

func TestUnicodeTables(t *testing.T) {
	// The Unicode-15 table is the difference between Go's tables and Python
	// 3.11's; a Go release with newer tables needs it recomputed.
	for _, r := range []rune{0xCF3, 0x1FA75, 0x31350, 0x323AF} {
		assert.True(t, isControl(r), "U+%04X: new in Unicode 15, must count as unassigned (control)", r)
	}
	for _, r := range []rune{0xCF2, 0x1FA74, 0x323B0 - 0x10000} {
		assert.False(t, newInUnicode15(r), "U+%04X wrongly listed as new in Unicode 15", r)
	}
	for r, want := range map[rune]bool{'\t': false, '\n': false, '\x00': true, '\x7f': true, 0x200D: true, 0xE000: true, 0x0378: true, 'a': false} {
		assert.Equal(t, want, isControl(r), "isControl(U+%04X)", r)
	}
	for r, want := range map[rune]bool{'$': true, '`': true, '~': true, '_': true, 0x2014: true, 0x00BF: true, 'a': false, 0x20AC: false} {
		assert.Equal(t, want, isPunctuation(r), "isPunctuation(U+%04X)", r)
	}
	assert.Equal(t, []string{"a", "b", "c"}, pyFields(" a\u2028b\u00a0c\x1c"))
}
