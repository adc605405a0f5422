package t5

import (
	"errors"
	"fmt"

	"github.com/genq-go/genq/t5/sentencepiece"
)

// Tokenizer turns text into T5 token ids and back. Load uses the checkpoint's
// SentencePiece model (a *sentencepiece.Tokenizer, which reproduces
// transformers' T5Tokenizer exactly); SetTokenizer replaces it, for example
// with an adapter over another tokenizer library (package
// github.com/genq-go/genq/encoder/sugarme adapts github.com/sugarme/tokenizer).
//
// A Tokenizer must be safe for concurrent use. Its errors end the call that
// asked for them (Generate, Score) and are returned wrapped.
type Tokenizer interface {
	// Encode returns the ids of text with </s> appended, truncated to
	// maxLen ids (</s> kept last) when maxLen > 0.
	Encode(text string, maxLen int) ([]int, error)
	// Decode turns ids back into text, dropping special tokens when skipSpecial.
	Decode(ids []int, skipSpecial bool) (string, error)
}

var errNoTokenizer = errors.New("t5: the model has no tokenizer (load it from a folder with spiece.model, or call SetTokenizer)")

// tokenizerBox holds a Tokenizer for Model's atomic pointer.
type tokenizerBox struct {
	t     Tokenizer
	files map[string][]byte // the files Load read it from, which Save writes back; nil after SetTokenizer
}

// SetTokenizer replaces the model's tokenizer. The tokenizer must use the
// model's vocabulary (pad 0, </s> 1 for T5 checkpoints). It is safe to call
// while other goroutines use the model: a Generate or Score call that has
// started keeps the tokenizer it started with, for all its passages; calls
// that start afterwards use t.
func (m *Model) SetTokenizer(t Tokenizer) { m.tok.Store(&tokenizerBox{t: t}) }

// Tokenizer returns the model's tokenizer (nil when none was loaded).
func (m *Model) Tokenizer() Tokenizer {
	if b := m.tok.Load(); b != nil {
		return b.t
	}
	return nil
}

// loadTokenizer reads dir's tokenizer and checks that its ids fit the
// model's embedding (config.json's vocab_size rows).
func loadTokenizer(dir string, cfg Config) (Tokenizer, error) {
	t, err := sentencepiece.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("t5: loading the tokenizer: %w", err)
	}
	if n := t.VocabSize(); n > cfg.VocabSize {
		return nil, fmt.Errorf("t5: the tokenizer in %s has ids up to %d (%q), but config.json's vocab_size is %d: the tokenizer files (extra_ids, added tokens) do not belong to this model",
			dir, n-1, t.IDToPiece(n-1), cfg.VocabSize)
	}
	return t, nil
}
