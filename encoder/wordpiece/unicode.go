package wordpiece

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The character classes of transformers' tokenization_utils (_is_whitespace,
// _is_control, _is_punctuation) and BasicTokenizer._is_chinese_char, with
// Python 3.11's Unicode 14.0 categories.

// isWhitespace reports whether BERT's text cleaning turns r into a space:
// space, tab, newline, carriage return and category Zs.
func isWhitespace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r':
		return true
	}
	if r < 0x80 {
		return false
	}
	return unicode.Is(unicode.Zs, r) && !newInUnicode15(r)
}

// isControl reports whether BERT's text cleaning drops r: category C* (Cc, Cf,
// Co, Cs and unassigned Cn), except tab, newline and carriage return.
func isControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	if r < 0x80 {
		return r < 0x20 || r == 0x7f
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	return !assigned(r) || newInUnicode15(r)
}

// assigned reports whether r has a general category other than Cn in Go's tables.
func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z,
		unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// isPunctuation reports whether BERT splits r off as a token of its own: every
// printable ASCII character that is not a letter, digit or space, and Unicode
// category P*.
func isPunctuation(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	if r < 0x80 {
		return false
	}
	return unicode.IsPunct(r) && !newInUnicode15(r)
}

// isChineseChar reports whether r lies in the CJK ideograph blocks that
// BasicTokenizer surrounds with spaces (exactly HF's ranges: Hangul, Hiragana
// and Katakana are not among them).
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

// isMn reports whether r is a nonspacing mark (category Mn), the marks that
// accent stripping removes after NFD.
func isMn(r rune) bool {
	return r >= 0x300 && unicode.Is(unicode.Mn, r) && !newInUnicode15(r)
}

// pySpace reports whether Python's str.isspace holds for r, the separators
// of str.split() and str.strip().
func pySpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r >= 0x1C && r <= 0x20, r == 0x85, r == 0xA0, r == 0x1680,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// pyFields splits s as Python's s.split() does.
func pyFields(s string) []string { return strings.FieldsFunc(s, pySpace) }

// pyStrip trims s as Python's s.strip() does.
func pyStrip(s string) string { return strings.TrimFunc(s, pySpace) }

// appendLower appends Python's str.lower() of the single character r: Go's
// simple lower-case mapping, except U+0130 (capital I with dot above), whose
// full mapping is "i" + U+0307. (Final sigma cannot arise: HF lower-cases one
// character at a time.)
func appendLower(b []byte, r rune) []byte {
	if r == 0x130 {
		return append(b, "i\u0307"...)
	}
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(b, byte(r))
	}
	return utf8.AppendRune(b, unicode.ToLower(r))
}

// unicode15 lists the code points first assigned in Unicode 15.0: Go 1.26's
// tables know them, Python 3.11's (Unicode 14.0) report them as unassigned.
// Computed by comparing unicodedata.category with Go's unicode package over
// all code points; no other category differs between the two.
var unicode15 = [][2]rune{
	{0xCF3, 0xCF3}, {0xECE, 0xECE}, {0x10EFD, 0x10EFF}, {0x1123F, 0x11241}, {0x11B00, 0x11B09},
	{0x11F00, 0x11F10}, {0x11F12, 0x11F3A}, {0x11F3E, 0x11F59}, {0x1342F, 0x1342F}, {0x13439, 0x13455},
	{0x1B132, 0x1B132}, {0x1B155, 0x1B155}, {0x1D2C0, 0x1D2D3}, {0x1DF25, 0x1DF2A}, {0x1E030, 0x1E06D},
	{0x1E08F, 0x1E08F}, {0x1E4D0, 0x1E4F9}, {0x1F6DC, 0x1F6DC}, {0x1F774, 0x1F776}, {0x1F77B, 0x1F77F},
	{0x1F7D9, 0x1F7D9}, {0x1FA75, 0x1FA77}, {0x1FA87, 0x1FA88}, {0x1FAAD, 0x1FAAF}, {0x1FABB, 0x1FABD},
	{0x1FABF, 0x1FABF}, {0x1FACE, 0x1FACF}, {0x1FADA, 0x1FADB}, {0x1FAE8, 0x1FAE8}, {0x1FAF7, 0x1FAF8},
	{0x2B739, 0x2B739}, {0x31350, 0x323AF},
}

// newInUnicode15 reports whether r is in unicode15.
func newInUnicode15(r rune) bool {
	if r < 0xCF3 {
		return false
	}
	lo, hi := 0, len(unicode15)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < unicode15[m][0]:
			hi = m
		case r > unicode15[m][1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}
