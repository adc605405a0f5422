package train

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// dedupKey is Python's text.strip().lower(), the key under which
// NoDuplicatesDataLoader compares texts.
func dedupKey(s string) string { return pyLower(strings.TrimFunc(s, pyIsSpace)) }

// pyIsSpace is Python's str.isspace for one rune: Go's unicode.IsSpace plus
// the information separators U+001C–U+001F, which Python also strips.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// pyLower is Python's str.lower: the full Unicode lowercase mapping, which
// differs from Go's strings.ToLower in two places — U+0130 (İ) becomes
// "i̇" (i + combining dot above), and a capital sigma at the end of a word
// becomes the final sigma ς (the Final_Sigma rule).
func pyLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the Σ at byte i of s is in the Final_Sigma
// context: preceded by a cased letter (skipping case-ignorable runes) and
// not followed by one.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, n := utf8.DecodeLastRuneInString(s[:j])
		j -= n
		if !caseIgnorable(r) {
			before = cased(r)
			break
		}
	}
	if !before {
		return false
	}
	for j := i + utf8.RuneLen('Σ'); j < len(s); {
		r, n := utf8.DecodeRuneInString(s[j:])
		j += n
		if !caseIgnorable(r) {
			return !cased(r)
		}
	}
	return true
}

// cased is Unicode's Cased property.
func cased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's Case_Ignorable property: categories Mn, Me, Cf,
// Lm, Sk, and the Word_Break classes MidLetter, MidNumLet and Single_Quote.
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '\u00b7', '\u0387', '\u055f', '\u05f4', '\u2018', '\u2019', '\u2024', '\u2027',
		'\ufe13', '\ufe52', '\ufe55', '\uff07', '\uff0e', '\uff1a':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
