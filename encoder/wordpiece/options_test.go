package wordpiece

import (
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"reflect"
	"strings"
	"testing"
)

// small builds a tokenizer over a toy vocabulary; expectations below follow
// from HF's BertTokenizer rules applied by hand to that vocabulary.
func small(t *testing.T, opts Options, extra ...string) *Tokenizer {
	t.Helper()
	vocab := append([]string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
		"hello", "Hello", "cafe", "café", "un", "##aff", "##able", "a", "##a", "x", "!", "[", "]", "foo", "##o", "f"}, extra...)
	tok, err := New(vocab, opts)
	if err != nil {
		t.Fatal(err)
	}
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
			if got := small(t, tc.opts).Tokens(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestDottedCapitalI pins the one lower-case mapping where Python and Go
// differ: with accents kept, "İ" becomes "i" + U+0307 as in Python.
func TestDottedCapitalI(t *testing.T) {
	opts := DefaultOptions()
	opts.StripAccents = boolPtr(false)
	tok := small(t, opts, "i\u0307")
	if got := tok.Tokens("\u0130"); !reflect.DeepEqual(got, []string{"i\u0307"}) {
		t.Errorf("Tokens(İ) = %q, want [\"i\\u0307\"]", got)
	}
}

func TestAddedTokens(t *testing.T) {
	opts := DefaultOptions()
	opts.AddedTokens = []AddedToken{
		{Content: "<r>", ID: 100, RStrip: true, LStrip: true},
		{Content: "Foo", ID: 101, Normalized: true},
	}
	tok := small(t, opts)
	if got, want := tok.IDs("a  <r>  x"), []int{12, 100, 14}; !reflect.DeepEqual(got, want) {
		t.Errorf("IDs with an lstrip/rstrip added token = %v, want %v", got, want)
	}
	// A non-special normalized added token is protected from lower-casing
	// only as written.
	if got, want := tok.IDs("Foo FOO"), []int{101, 18}; !reflect.DeepEqual(got, want) {
		t.Errorf("IDs(\"Foo FOO\") = %v, want %v", got, want)
	}
	if tok.VocabSize() != 102 {
		t.Errorf("VocabSize = %d, want 102 (ids 0..101)", tok.VocabSize())
	}
	if got := tok.Decode([]int{2, 12, 100, 14, 101, 3}, true); got != "a <r> x Foo" {
		t.Errorf("Decode = %q, want %q", got, "a <r> x Foo")
	}
}

func TestMissingSpecialTokensGetNewIDs(t *testing.T) {
	tok, err := New([]string{"[UNK]", "a"}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// HF adds the missing special tokens in attribute order: sep, pad, cls, mask.
	if tok.SepID() != 2 || tok.PadID() != 3 || tok.ClsID() != 4 || tok.MaskID() != 5 || tok.VocabSize() != 6 {
		t.Errorf("ids sep %d pad %d cls %d mask %d size %d, want 2 3 4 5 6",
			tok.SepID(), tok.PadID(), tok.ClsID(), tok.MaskID(), tok.VocabSize())
	}
	if _, err := New([]string{"a"}, Options{UnkToken: "<unk>"}); err != nil {
		t.Errorf("a missing unknown token is added like the others: %v", err)
	}
	if _, err := New(nil, DefaultOptions()); err == nil {
		t.Error("New(nil) succeeded; want an error")
	}
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
		if !reflect.DeepEqual(e.IDs, tc.want) {
			t.Errorf("Encode(maxLen=%d) = %v, want %v", tc.maxLen, e.IDs, tc.want)
		}
		if len(e.Mask) != len(e.IDs) || len(e.TypeIDs) != len(e.IDs) {
			t.Errorf("maxLen=%d: mask/type lengths %d/%d, ids %d", tc.maxLen, len(e.Mask), len(e.TypeIDs), len(e.IDs))
		}
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
		if d1, d2 := longestFirst(tc.n1, tc.n2, tc.remove); d1 != tc.d1 || d2 != tc.d2 {
			t.Errorf("longestFirst(%d, %d, %d) = %d, %d, want %d, %d", tc.n1, tc.n2, tc.remove, d1, d2, tc.d1, tc.d2)
		}
	}
	tok := small(t, DefaultOptions())
	e := tok.EncodePair("a a a a", "x x", 7)
	want := []int{2, 12, 12, 3, 14, 14, 3}
	wantTypes := []int{0, 0, 0, 0, 1, 1, 1}
	if !reflect.DeepEqual(e.IDs, want) || !reflect.DeepEqual(e.TypeIDs, wantTypes) {
		t.Errorf("EncodePair = %v types %v, want %v types %v", e.IDs, e.TypeIDs, want, wantTypes)
	}
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
		if got := tok.Decode(ids, true); got != tc.want {
			t.Errorf("Decode(skip) of %q = %q, want %q", tc.text, got, tc.want)
		}
		if got := tok.Decode(ids, false); got != tc.withSpecial {
			t.Errorf("Decode of %q = %q, want %q", tc.text, got, tc.withSpecial)
		}
	}
	if got := tok.Decode([]int{-1, 1 << 40}, false); got != "[UNK] [UNK]" {
		t.Errorf("Decode of out-of-range ids = %q, want \"[UNK] [UNK]\"", got)
	}
	if got := tok.Decode(nil, true); got != "" {
		t.Errorf("Decode(nil) = %q", got)
	}
}

func TestUnicodeTables(t *testing.T) {
	// The Unicode-15 table is the difference between Go's tables and Python
	// 3.11's; a Go release with newer tables needs it recomputed.
	for _, r := range []rune{0xCF3, 0x1FA75, 0x31350, 0x323AF} {
		if !isControl(r) {
			t.Errorf("U+%04X: new in Unicode 15, must count as unassigned (control)", r)
		}
	}
	for _, r := range []rune{0xCF2, 0x1FA74, 0x323B0 - 0x10000} {
		if newInUnicode15(r) {
			t.Errorf("U+%04X wrongly listed as new in Unicode 15", r)
		}
	}
	for r, want := range map[rune]bool{'\t': false, '\n': false, '\x00': true, '\x7f': true, 0x200D: true, 0xE000: true, 0x0378: true, 'a': false} {
		if isControl(r) != want {
			t.Errorf("isControl(U+%04X) = %v, want %v", r, !want, want)
		}
	}
	for r, want := range map[rune]bool{'$': true, '`': true, '~': true, '_': true, 0x2014: true, 0x00BF: true, 'a': false, 0x20AC: false} {
		if isPunctuation(r) != want {
			t.Errorf("isPunctuation(U+%04X) = %v, want %v", r, !want, want)
		}
	}
	if got := pyFields(" a\u2028b\u00a0c\x1c"); strings.Join(got, "|") != "a|b|c" {
		t.Errorf("pyFields = %q", got)
	}
}
