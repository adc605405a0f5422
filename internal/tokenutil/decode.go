// Package tokenutil holds what the wordpiece and sentencepiece tokenizers
// share of HF's PreTrainedTokenizer: how decoded tokens are joined into text.
package tokenutil

import "strings"

// Join is the tail of HF's PreTrainedTokenizer._decode: the tokens go to
// toString (the tokenizer's convert_tokens_to_string) in runs; a token that
// standalone holds (an added non-special token, HF's legacy_added_tokens)
// ends the run before it and is a part on its own; the parts are joined with
// a space, a run that converts to "" before a standalone token is dropped, and
// with cleanUp the text gets CleanUp. toString must not keep its argument.
func Join(toks []string, standalone map[string]bool, toString func([]string) string, cleanUp bool) string {
	var parts, run []string
	for _, tok := range toks {
		if !standalone[tok] {
			run = append(run, tok)
			continue
		}
		if len(run) > 0 {
			if s := toString(run); s != "" {
				parts = append(parts, s)
			}
			run = run[:0]
		}
		parts = append(parts, tok)
	}
	if len(run) > 0 {
		parts = append(parts, toString(run))
	}
	text := strings.Join(parts, " ")
	if cleanUp {
		text = CleanUp(text)
	}
	return text
}

// cleanUpPairs are clean_up_tokenization's replacements, in its order.
var cleanUpPairs = [...][2]string{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
	{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

// CleanUp is PreTrainedTokenizerBase.clean_up_tokenization: the replacements
// applied one after the other, as Python's chained str.replace calls (each
// runs over the previous one's result).
func CleanUp(s string) string {
	for _, r := range cleanUpPairs {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}
