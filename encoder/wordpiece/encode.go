package wordpiece

// Encoding is one tokenized input: [CLS] tokens [SEP] (and, for a pair, the
// second text's tokens and [SEP]).
type Encoding struct {
	IDs     []int // input_ids
	TypeIDs []int // token_type_ids: 0 for the first text with its [CLS] and [SEP], 1 for the second
	Mask    []int // attention_mask: all 1 (padding happens in batches)
}

// Encode tokenizes text and adds [CLS] and [SEP], as HF's tokenizer(text,
// truncation=True, max_length=maxLen). maxLen > 0 caps the length, special
// tokens included, by dropping tokens from the end of the text ([SEP] stays
// last); maxLen <= 0 does not truncate. Like HF (which logs an error), a
// maxLen too small to keep one text token next to [CLS] and [SEP] leaves the
// sequence untruncated.
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	ids := t.IDs(text)
	if maxLen > 0 {
		if remove := len(ids) + 2 - maxLen; remove > 0 && len(ids) > remove {
			ids = ids[:len(ids)-remove]
		}
	}
	return t.assemble(ids, nil, false)
}

// EncodePair tokenizes a text pair as [CLS] a [SEP] b [SEP] with type ids 0
// then 1, as HF's tokenizer(a, b, truncation="longest_first",
// max_length=maxLen): when too long, tokens are dropped from the end of the
// longer text first, then from both alternately (the second losing the odd
// one out).
func (t *Tokenizer) EncodePair(a, b string, maxLen int) Encoding {
	ids, pair := t.IDs(a), t.IDs(b)
	if maxLen > 0 {
		if remove := len(ids) + len(pair) + 3 - maxLen; remove > 0 {
			drop1, drop2 := longestFirst(len(ids), len(pair), remove)
			ids = ids[:max(len(ids)-drop1, 0)]
			pair = pair[:max(len(pair)-drop2, 0)]
		}
	}
	return t.assemble(ids, pair, true)
}

// longestFirst splits remove tokens between two sequences of lengths n1 and
// n2 as transformers 4.40's truncate_sequences does for "longest_first".
func longestFirst(n1, n2, remove int) (drop1, drop2 int) {
	diff := n1 - n2
	if diff < 0 {
		diff = -diff
	}
	first := min(diff, remove)
	second := remove - first
	if n1 > n2 {
		return first + second/2, second - second/2
	}
	return second / 2, first + second - second/2
}

// assemble adds the special tokens, type ids and mask.
func (t *Tokenizer) assemble(ids, pair []int, isPair bool) Encoding {
	n := len(ids) + 2
	if isPair {
		n += len(pair) + 1
	}
	e := Encoding{IDs: make([]int, 0, n), TypeIDs: make([]int, n), Mask: make([]int, n)}
	e.IDs = append(e.IDs, t.clsID)
	e.IDs = append(e.IDs, ids...)
	e.IDs = append(e.IDs, t.sepID)
	if isPair {
		for i := len(e.IDs); i < n; i++ {
			e.TypeIDs[i] = 1
		}
		e.IDs = append(e.IDs, pair...)
		e.IDs = append(e.IDs, t.sepID)
	}
	for i := range e.Mask {
		e.Mask[i] = 1
	}
	return e
}

// EncodeBatch tokenizes texts as SentenceTransformer.tokenize does: each text
// stripped of surrounding whitespace, encoded with truncation at maxLen
// (special tokens included; maxLen <= 0: none), then all rows right-padded
// to the longest: ids with [PAD], typeIDs (token_type_ids, all 0) and mask
// (attention_mask) with 0. Rows are in input order. The error is always nil:
// it is there so that a Tokenizer is an encoder.Tokenizer.
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) (ids, typeIDs, mask [][]int, err error) {
	encs := make([]Encoding, len(texts))
	for i, text := range texts {
		encs[i] = t.Encode(pyStrip(text), maxLen)
	}
	ids, typeIDs, mask = t.padBatch(encs)
	return ids, typeIDs, mask, nil
}

// EncodePairBatch is EncodeBatch for (a[i], b[i]) text pairs, as
// SentenceTransformer.tokenize of pairs: longest-first truncation within each
// pair, type ids 0 then 1, right padding. Texts beyond the shorter slice are
// ignored. The error is always nil.
func (t *Tokenizer) EncodePairBatch(a, b []string, maxLen int) (ids, typeIDs, mask [][]int, err error) {
	encs := make([]Encoding, min(len(a), len(b)))
	for i := range encs {
		encs[i] = t.EncodePair(pyStrip(a[i]), pyStrip(b[i]), maxLen)
	}
	ids, typeIDs, mask = t.padBatch(encs)
	return ids, typeIDs, mask, nil
}

// padBatch right-pads every encoding to the longest one.
func (t *Tokenizer) padBatch(encs []Encoding) (ids, typeIDs, mask [][]int) {
	width := 0
	for _, e := range encs {
		width = max(width, len(e.IDs))
	}
	ids, typeIDs, mask = make([][]int, len(encs)), make([][]int, len(encs)), make([][]int, len(encs))
	for i, e := range encs {
		ids[i], typeIDs[i], mask[i] = make([]int, width), make([]int, width), make([]int, width)
		copy(ids[i], e.IDs)
		copy(typeIDs[i], e.TypeIDs)
		copy(mask[i], e.Mask)
		for j := len(e.IDs); j < width; j++ {
			ids[i][j] = t.padID
		}
	}
	return ids, typeIDs, mask
}
