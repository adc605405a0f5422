package sentencepiece

import (
	"strings"
	"unicode/utf8"
)

// spaceSymbol is U+2581 LOWER ONE EIGHTH BLOCK, sentencepiece's escaped space.
const spaceSymbol = "\u2581"

// normalizer reproduces sentencepiece's Normalizer: user-defined symbols are
// kept as they are, everything else goes through the precompiled charsmap
// (longest rule first), then whitespace is trimmed, collapsed and escaped.
type normalizer struct {
	charsMap                *charsMap  // nil: identity
	userDefined             *pieceTrie // nil: no user-defined symbols
	addDummyPrefix          bool
	removeExtraWhitespaces  bool
	escapeWhitespaces       bool
	treatWhitespaceAsSuffix bool
}

// prefix normalizes the first unit of s: it returns the normalized text and the
// number of input bytes consumed (at least 1 for a non-empty s). Malformed
// UTF-8 consumes one byte and becomes U+FFFD.
func (n *normalizer) prefix(s string) (string, int) {
	if n.userDefined != nil {
		if l := n.userDefined.longestMatch(s); l > 0 {
			return s[:l], l
		}
	}
	if n.charsMap != nil {
		if repl, l := n.charsMap.longestPrefix(s); l > 0 {
			return repl, l
		}
	}
	r, l := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && l <= 1 {
		return "\uFFFD", 1
	}
	return s[:l], l
}

// normalize returns the normalized form of s that the Unigram model segments
// (Normalizer::Normalize).
func (n *normalizer) normalize(s string) string {
	if n.removeExtraWhitespaces {
		for s != "" {
			p, l := n.prefix(s)
			if p != " " {
				break
			}
			s = s[l:]
		}
	}
	if s == "" {
		return ""
	}
	var out strings.Builder
	out.Grow(3 * len(s))
	space := " "
	if n.escapeWhitespaces {
		space = spaceSymbol
	}
	if !n.treatWhitespaceAsSuffix && n.addDummyPrefix {
		out.WriteString(space)
	}
	prevSpace := n.removeExtraWhitespaces
	for s != "" {
		p, l := n.prefix(s)
		s = s[l:]
		for prevSpace && strings.HasPrefix(p, " ") {
			p = p[1:]
		}
		if p != "" {
			if n.escapeWhitespaces {
				out.WriteString(strings.ReplaceAll(p, " ", spaceSymbol))
			} else {
				out.WriteString(p)
			}
			prevSpace = strings.HasSuffix(p, " ")
		}
		if !n.removeExtraWhitespaces {
			prevSpace = false
		}
	}
	res := out.String()
	if n.removeExtraWhitespaces {
		for strings.HasSuffix(res, space) {
			res = res[:len(res)-len(space)]
		}
	}
	if n.treatWhitespaceAsSuffix && n.addDummyPrefix {
		res += space
	}
	return res
}
