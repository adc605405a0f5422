package sentencepiece

// Tokenize returns the tokens of text before ids and </s> are added, as
// T5Tokenizer.tokenize does: added tokens are cut out (their neighbours
// stripped as the tokens' flags say) and every other part is encoded by
// sentencepiece on its own. Unknown characters keep their text here.
func (t *Tokenizer) Tokenize(text string) []string {
	var toks []string
	for _, p := range t.tokenizeParts(text) {
		toks = append(toks, p.piece)
	}
	return toks
}

// tokenizeParts is Tokenize with the id of every token.
func (t *Tokenizer) tokenizeParts(text string) []segment {
	parts := t.splitAdded(text)
	t.applyStrip(parts)
	var out []segment
	for _, p := range parts {
		if p.text == "" {
			continue
		}
		if p.tok >= 0 {
			out = append(out, segment{piece: p.text, id: t.added[p.tok].id})
			continue
		}
		for _, s := range t.sp.encode(p.text) {
			// convert_tokens_to_ids: a merged run of unknown characters is
			// looked up like any token (and is unk unless it spells one).
			out = append(out, segment{piece: s.piece, id: t.tokenToID(s.piece)})
		}
	}
	return out
}

// Encode returns the ids of text followed by </s>, as tokenizer(text) does.
// No second </s> is added when the ids already end with one. maxLen > 0
// truncates to at most maxLen ids, keeping </s> last (truncation=True,
// max_length=maxLen). The error is always nil (Encode never fails, whatever
// the input): it is there so that a Tokenizer is a t5.Tokenizer.
func (t *Tokenizer) Encode(text string, maxLen int) ([]int, error) {
	return t.encode(text, maxLen), nil
}

// encode is Encode.
func (t *Tokenizer) encode(text string, maxLen int) []int {
	parts := t.tokenizeParts(text)
	ids := make([]int, 0, len(parts)+1)
	for _, p := range parts {
		ids = append(ids, p.id)
	}
	// prepare_for_model counts one special token for a single sequence.
	if maxLen > 0 && len(ids)+1 > maxLen {
		ids = ids[:max(maxLen-1, 0)]
	}
	if len(ids) == 0 || ids[len(ids)-1] != t.eosID {
		ids = append(ids, t.eosID)
	}
	return ids
}

// Pieces returns the token strings of Encode(text, 0) (convert_ids_to_tokens):
// "<unk>" for unknown characters, "</s>" last.
func (t *Tokenizer) Pieces(text string) []string {
	ids := t.encode(text, 0)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.IDToPiece(id)
	}
	return out
}

// EncodeBatch encodes every text as Encode does and right-pads the rows with
// <pad> to the longest one (padding=True). mask is 1 on real tokens and 0 on
// padding.
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) (ids [][]int, mask [][]int) {
	ids = make([][]int, len(texts))
	longest := 0
	for i, s := range texts {
		ids[i] = t.encode(s, maxLen)
		longest = max(longest, len(ids[i]))
	}
	mask = make([][]int, len(texts))
	for i, row := range ids {
		m := make([]int, longest)
		for j := range row {
			m[j] = 1
		}
		for len(row) < longest {
			row = append(row, t.padID)
		}
		ids[i], mask[i] = row, m
	}
	return ids, mask
}
