package wordpiece

import (
	"strings"
	"unicode/utf8"
)

// The first two steps of PreTrainedTokenizer.tokenize: lower-case the text
// outside special tokens, then cut it around added tokens.

// lowerOutsideProtected lower-cases text one character at a time, as HF's
// re.sub(r"(<specials>)|(.+?)", ...) does: literal special tokens (and
// non-special normalized added tokens) are copied as written, and so is "\n",
// which "." does not match.
func (t *Tokenizer) lowerOutsideProtected(text string) string {
	b := make([]byte, 0, len(text)+4)
	for i := 0; i < len(text); {
		if t.protectFirst[text[i]] {
			if p := firstPrefix(text[i:], t.protected); p != "" {
				b = append(b, p...)
				i += len(p)
				continue
			}
		}
		c := text[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		b = appendLower(b, r)
		i += size
	}
	return string(b)
}

// firstPrefix returns the first of candidates that s starts with, or "".
func firstPrefix(s string, candidates []string) string {
	for _, c := range candidates {
		if strings.HasPrefix(s, c) {
			return c
		}
	}
	return ""
}

// splitAdded cuts text into pieces so that every added token found in it is a
// piece of its own (leftmost match first, the longest one at that position,
// as HF's Trie.split), then applies the tokens' lstrip / rstrip / single_word
// rules to their neighbours as PreTrainedTokenizer.tokenize does.
func (t *Tokenizer) splitAdded(text string) []string {
	var pieces []string
	last := 0
	for i := 0; i < len(text); {
		if !t.addedFirst[text[i]] {
			i++
			continue
		}
		n := t.longestAddedAt(text[i:])
		if n == 0 {
			i++
			continue
		}
		if i > last {
			pieces = append(pieces, text[last:i])
		}
		pieces = append(pieces, text[i:i+n])
		i += n
		last = i
	}
	if last < len(text) || len(pieces) == 0 {
		pieces = append(pieces, text[last:])
	}

	for i, p := range pieces {
		a, ok := t.added[p]
		if !ok || (!a.LStrip && !a.RStrip && !a.SingleWord) {
			continue
		}
		if a.RStrip && i+1 < len(pieces) && pieces[i+1] != "" {
			pieces[i+1] = strings.TrimLeftFunc(pieces[i+1], pySpace)
		}
		if a.LStrip && i > 0 && pieces[i-1] != "" {
			pieces[i-1] = strings.TrimRightFunc(pieces[i-1], pySpace)
		}
		switch {
		case a.SingleWord && i > 0 && pieces[i-1] != "" && !strings.HasSuffix(pieces[i-1], " "):
			pieces[i-1] += p
			pieces[i] = ""
		case a.SingleWord && i+1 < len(pieces) && pieces[i+1] != "" && !strings.HasPrefix(pieces[i+1], " "):
			pieces[i] += pieces[i+1]
			pieces[i+1] = ""
		}
	}
	return pieces
}

// longestAddedAt returns the byte length of the longest added token that s
// starts with, or 0.
func (t *Tokenizer) longestAddedAt(s string) int {
	best := 0
	for content := range t.added {
		if len(content) > best && strings.HasPrefix(s, content) {
			best = len(content)
		}
	}
	return best
}
