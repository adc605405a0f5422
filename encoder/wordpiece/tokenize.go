package wordpiece

import (
	"strings"
)

// sink collects the output of tokenization: always the ids, and the token
// strings when Tokens asked for them.
type sink struct {
	ids    []int
	toks   []string
	strs   bool  // collect toks too
	bounds []int // scratch: rune boundaries of the current word
}

func (s *sink) add(id int, tok string) {
	s.ids = append(s.ids, id)
	if s.strs {
		s.toks = append(s.toks, tok)
	}
}

// Tokens returns the tokens of text without [CLS] / [SEP], as HF's
// tokenizer.tokenize(text).
func (t *Tokenizer) Tokens(text string) []string {
	s := sink{strs: true}
	t.tokenize(&s, text)
	return s.toks
}

// IDs returns the ids of text's tokens without [CLS] / [SEP].
func (t *Tokenizer) IDs(text string) []int {
	var s sink
	t.tokenize(&s, text)
	return s.ids
}

// tokenize is PreTrainedTokenizer.tokenize + convert_tokens_to_ids.
func (t *Tokenizer) tokenize(s *sink, text string) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	if t.lower && t.basic {
		// HF lower-cases here only when the tokenizer has a basic tokenizer
		// (the do_lower_case property reads it).
		text = t.lowerOutsideProtected(text)
	}
	var words []string
	for _, piece := range t.splitAdded(text) {
		if piece == "" {
			continue
		}
		if a, ok := t.added[piece]; ok {
			s.add(a.ID, piece)
			continue
		}
		words = words[:0]
		if t.basic {
			words = t.basicTokenize(words, piece)
		} else {
			words = append(words, pyFields(piece)...)
		}
		for _, w := range words {
			if t.neverSplit[w] {
				s.add(t.tokenID(w), w)
				continue
			}
			t.wordPiece(s, w)
		}
	}
}

// wordPiece is WordpieceTokenizer.tokenize on one word: greedy longest match
// first, continuations looked up with the "##" prefix; a word of more than
// MaxInputCharsPerWord characters, or one that the vocabulary cannot cover,
// becomes one [UNK].
func (t *Tokenizer) wordPiece(s *sink, word string) {
	if strings.IndexFunc(word, pySpace) < 0 {
		t.wordPieceWord(s, word)
		return
	}
	for _, w := range pyFields(word) { // WordpieceTokenizer splits on whitespace again
		t.wordPieceWord(s, w)
	}
}

func (t *Tokenizer) wordPieceWord(s *sink, word string) {
	b := s.bounds[:0]
	for i := range word {
		b = append(b, i)
	}
	n := len(b)
	b = append(b, len(word))
	s.bounds = b
	if n > t.maxChars {
		s.add(t.unkID, t.unk)
		return
	}
	mark := len(s.ids)
	for start := 0; start < n; {
		id, end := -1, n
		for ; end > start; end-- {
			var ok bool
			if start == 0 {
				id, ok = t.words[word[:b[end]]]
			} else {
				id, ok = t.conts[word[b[start]:b[end]]]
			}
			if ok {
				break
			}
		}
		if end == start {
			s.ids = s.ids[:mark]
			if s.strs {
				s.toks = s.toks[:mark]
			}
			s.add(t.unkID, t.unk)
			return
		}
		if s.strs {
			tok := word[b[start]:b[end]]
			if start > 0 {
				tok = t.prefix + tok
			}
			s.add(id, tok)
		} else {
			s.ids = append(s.ids, id)
		}
		start = end
	}
}
