package t5

import (
	"fmt"

	"github.com/genq-go/genq/t5/sentencepiece"
)

// Tokenizer turns text into T5 token ids and back. Load uses the checkpoint's
// SentencePiece model; SetTokenizer replaces it.
type Tokenizer interface {
	// Encode returns the ids of text with </s> appended, truncated to
	// maxLen ids (</s> kept last) when maxLen > 0.
	Encode(text string, maxLen int) []int
	// Decode turns ids back into text, dropping special tokens when skipSpecial.
	Decode(ids []int, skipSpecial bool) string
}

// SetTokenizer replaces the model's tokenizer.
func (m *Model) SetTokenizer(t Tokenizer) { m.tok = t }

// Tokenizer returns the model's tokenizer (nil when none was loaded).
func (m *Model) Tokenizer() Tokenizer { return m.tok }

func loadTokenizer(dir string) (Tokenizer, error) {
	t, err := sentencepiece.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("t5: loading the tokenizer: %w", err)
	}
	return t, nil
}
