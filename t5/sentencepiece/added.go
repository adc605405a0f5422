package sentencepiece

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is a HuggingFace AddedToken: a string matched in the raw text
// before sentencepiece runs, with its id and whitespace flags.
type addedToken struct {
	content    string
	id         int
	lstrip     bool // strip whitespace on the left of the token
	rstrip     bool // strip whitespace on the right of the token
	singleWord bool
	special    bool
}

// piece is one part of a text split on added tokens: either an added token
// (tok >= 0, an index into Tokenizer.added) or plain text.
type piece struct {
	text string
	tok  int
}

// splitAdded cuts text around every added-token occurrence, scanning left to
// right and taking the longest token at the first position where one starts
// (HF's Trie.split). Empty parts are dropped, as Trie.cut_text does.
func (t *Tokenizer) splitAdded(text string) []piece {
	var out []piece
	start := 0
	for i := 0; i < len(text); {
		if t.addedTrie == nil {
			break
		}
		n := 0
		idx := int32(-1)
		t.addedTrie.prefixes(text[i:], func(id int32, length int) { n, idx = length, id })
		if n == 0 {
			i++
			continue
		}
		if start < i {
			out = append(out, piece{text: text[start:i], tok: -1})
		}
		out = append(out, piece{text: text[i : i+n], tok: int(idx)})
		i += n
		start = i
	}
	if start < len(text) {
		out = append(out, piece{text: text[start:], tok: -1})
	}
	return out
}

// applyStrip applies the lstrip/rstrip/single_word flags of the added tokens
// to their neighbours, in order, as PreTrainedTokenizer.tokenize does.
func (t *Tokenizer) applyStrip(parts []piece) {
	for i := range parts {
		if parts[i].tok < 0 {
			continue
		}
		a := t.added[parts[i].tok]
		if a.rstrip && i+1 < len(parts) && parts[i+1].text != "" {
			parts[i+1].text = strings.TrimLeftFunc(parts[i+1].text, pyIsSpace)
		}
		if a.lstrip && i > 0 && parts[i-1].text != "" {
			parts[i-1].text = strings.TrimRightFunc(parts[i-1].text, pyIsSpace)
		}
		switch {
		case a.singleWord && i > 0 && parts[i-1].text != "" && !strings.HasSuffix(parts[i-1].text, " "):
			parts[i-1].text += parts[i].text
			parts[i] = piece{tok: -1}
		case a.singleWord && i+1 < len(parts) && parts[i+1].text != "" && !strings.HasPrefix(parts[i+1].text, " "):
			parts[i].text += parts[i+1].text
			parts[i].tok = -1
			parts[i+1] = piece{tok: -1}
		}
	}
}

// pyIsSpace is Python's str.isspace for one character: Unicode White_Space
// plus the information separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyStrip is Python's str.strip() with no argument. Bytes that are not UTF-8
// are not whitespace.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r != utf8.RuneError && pyIsSpace(r) })
}
