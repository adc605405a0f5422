package wordpiece

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// basicTokenize is HF's BasicTokenizer.tokenize with never_split = the
// tokenizer's never_split plus its special tokens: clean the text, space out
// CJK ideographs, NFC, split on whitespace, lower-case and strip accents
// (except never-split words), split off punctuation. It appends the words to
// dst.
func (t *Tokenizer) basicTokenize(dst []string, text string) []string {
	b := make([]byte, 0, len(text)+8)
	ascii := true
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || isControl(r):
			// _clean_text drops NUL, U+FFFD (and invalid bytes, read as U+FFFD) and controls
		case isWhitespace(r):
			b = append(b, ' ')
		case t.chinese && isChineseChar(r):
			b = append(b, ' ')
			b = utf8.AppendRune(b, r)
			b = append(b, ' ')
			ascii = false
		default:
			b = utf8.AppendRune(b, r)
			ascii = ascii && r < utf8.RuneSelf
		}
	}
	cleaned := string(b)
	if !ascii {
		cleaned = norm.NFC.String(cleaned)
	}

	for _, word := range pyFields(cleaned) {
		if t.basicKeep[word] {
			dst = append(dst, word)
			continue
		}
		if t.lower {
			word = pyLower(word)
		}
		if t.strip {
			word = stripAccents(word)
		}
		if t.basicKeep[word] { // _run_split_on_punc checks never_split again
			dst = append(dst, word)
			continue
		}
		dst = splitOnPunctuation(dst, word)
	}
	return dst
}

// pyLower is Python's str.lower for text without a capital sigma (HF has
// lower-cased the text one character at a time before this runs).
func pyLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			b := make([]byte, 0, len(s)+2)
			for _, r := range s {
				b = appendLower(b, r)
			}
			return string(b)
		}
	}
	return s
}

// stripAccents is BasicTokenizer._run_strip_accents: NFD, then drop the
// nonspacing marks (category Mn).
func stripAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	d := norm.NFD.String(s)
	b := make([]byte, 0, len(d))
	for _, r := range d {
		if !isMn(r) {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

// splitOnPunctuation is BasicTokenizer._run_split_on_punc followed by the
// final whitespace split: every punctuation character becomes a word of its
// own; empty words vanish.
func splitOnPunctuation(dst []string, word string) []string {
	start := 0
	for i, r := range word {
		if !isPunctuation(r) {
			continue
		}
		dst = appendFields(dst, word[start:i])
		size := utf8.RuneLen(r)
		dst = append(dst, word[i:i+size])
		start = i + size
	}
	return appendFields(dst, word[start:])
}

// appendFields appends the Python-whitespace-separated fields of s to dst
// (s itself in the usual case of a word without whitespace).
func appendFields(dst []string, s string) []string {
	if s == "" {
		return dst
	}
	for _, r := range s {
		if pySpace(r) {
			return append(dst, pyFields(s)...)
		}
	}
	return append(dst, s)
}
