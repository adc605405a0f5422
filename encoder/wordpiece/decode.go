package wordpiece

import "strings"

// Decode turns ids back into text as HF's tokenizer.decode(ids,
// skip_special_tokens=skipSpecial): tokens joined with spaces, " ##" joins
// removed, surrounding whitespace stripped, and, with clean_up_tokenization_spaces
// (the default), the space before . ? ! , and English contractions removed.
// Ids out of range decode as [UNK].
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	var parts, cur []string
	flush := func() {
		if len(cur) > 0 {
			if s := t.joinTokens(cur); s != "" {
				parts = append(parts, s)
			}
			cur = cur[:0]
		}
	}
	for _, id := range ids {
		if skipSpecial && t.specialIDs[id] {
			continue
		}
		tok := t.IDToken(id)
		if t.legacyAdded[tok] {
			// Added non-special tokens are decoded on their own (HF's
			// legacy_added_tokens), then joined with a space.
			flush()
			parts = append(parts, tok)
			continue
		}
		cur = append(cur, tok)
	}
	if len(cur) > 0 {
		parts = append(parts, t.joinTokens(cur))
	}
	text := strings.Join(parts, " ")
	if t.cleanUp {
		text = cleanUpTokenization(text)
	}
	return text
}

// joinTokens is BertTokenizer.convert_tokens_to_string.
func (t *Tokenizer) joinTokens(toks []string) string {
	s := strings.ReplaceAll(strings.Join(toks, " "), " "+t.prefix, "")
	return pyStrip(s)
}

// cleanUpTokenization is PreTrainedTokenizerBase.clean_up_tokenization:
// replacements applied one after the other, as Python's chained str.replace.
func cleanUpTokenization(s string) string {
	for _, r := range [][2]string{
		{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}
