package sentencepiece

import (
	"strings"

	"github.com/genq-go/genq/internal/tokenutil"
)

// Decode turns ids back into text as tokenizer.decode(ids,
// skip_special_tokens=skipSpecial) does: sentencepiece decodes the pieces
// (the leading "▁" dropped, "▁" → space), special tokens are dropped when
// skipSpecial and written as they are otherwise, and tokenization spaces are
// cleaned up when tokenizer_config.json asks for it (T5's default). Ids
// outside the vocabulary are skipped. The error is always nil: it is there so
// that a Tokenizer is a t5.Tokenizer.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) (string, error) {
	return t.decode(ids, skipSpecial), nil
}

// decode is Decode.
func (t *Tokenizer) decode(ids []int, skipSpecial bool) string {
	var toks []string
	for _, id := range ids {
		if skipSpecial && t.specialIDs[id] {
			continue
		}
		if tok := t.IDToPiece(id); tok != "" {
			toks = append(toks, tok)
		}
	}
	return tokenutil.Join(toks, t.legacyAdded, t.tokensToString, t.cleanUp)
}

// tokensToString is T5Tokenizer.convert_tokens_to_string: runs of ordinary
// pieces go through sentencepiece's decoder, special tokens are written as
// they are (after a space unless the previous token was special too), and the
// result is stripped.
func (t *Tokenizer) tokensToString(toks []string) string {
	toks = append([]string(nil), toks...)
	if t.addPrefixSpace && strings.HasPrefix(toks[0], spaceSymbol) {
		toks[0] = toks[0][len(spaceSymbol):]
	}
	var out strings.Builder
	var current []string
	prevSpecial := false
	for _, tok := range toks {
		if t.specialTokens[tok] {
			if !prevSpecial {
				out.WriteByte(' ')
			}
			out.WriteString(t.sp.decodePieces(current))
			out.WriteString(tok)
			prevSpecial = true
			current = current[:0]
			continue
		}
		current = append(current, tok)
		prevSpecial = false
	}
	out.WriteString(t.sp.decodePieces(current))
	return pyStrip(out.String())
}
