package wordpiece

import (
	"strings"

	"github.com/genq-go/genq/internal/tokenutil"
)

// Decode turns ids back into text as HF's tokenizer.decode(ids,
// skip_special_tokens=skipSpecial): tokens joined with spaces, " ##" joins
// removed, surrounding whitespace stripped, and, with clean_up_tokenization_spaces
// (the default), the space before . ? ! , and English contractions removed.
// Ids out of range decode as [UNK].
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if !skipSpecial || !t.specialIDs[id] {
			toks = append(toks, t.IDToken(id))
		}
	}
	return tokenutil.Join(toks, t.legacyAdded, t.joinTokens, t.cleanUp)
}

// joinTokens is BertTokenizer.convert_tokens_to_string.
func (t *Tokenizer) joinTokens(toks []string) string {
	s := strings.ReplaceAll(strings.Join(toks, " "), " "+t.prefix, "")
	return pyStrip(s)
}
