package encoder

import (
	"errors"
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/ids"
)

// checkTokenized checks what the tokenizer returned for n texts before it
// reaches a graph: one row per text in ids, typeIDs and mask, each row of
// one width no longer than max_position_embeddings, ids inside the
// vocabulary, token type ids inside type_vocab_size (BERT; DistilBERT has
// none), mask values 0 or 1. A tokenizer set with SetTokenizer for another
// model is thus reported in genq's words, not from inside the graph.
func (m *Model) checkTokenized(tk tokenized, n int) error {
	fix := "; SetTokenizer needs a tokenizer of this model's vocabulary that pads its rows to one width"
	if len(tk.ids) != n || len(tk.types) != n || len(tk.mask) != n {
		return fmt.Errorf("encoder: the tokenizer returned %d id rows, %d type rows and %d mask rows for %d texts%s",
			len(tk.ids), len(tk.types), len(tk.mask), n, fix)
	}
	if n == 0 {
		return nil
	}
	w := len(tk.ids[0])
	for i := range n {
		if len(tk.ids[i]) != w || len(tk.types[i]) != w || len(tk.mask[i]) != w {
			return fmt.Errorf("encoder: the tokenizer returned rows of different widths: row %d has %d ids, %d type ids and %d mask values, row 0 %d ids%s",
				i, len(tk.ids[i]), len(tk.types[i]), len(tk.mask[i]), w, fix)
		}
	}
	if w > m.cfg.MaxPositions {
		return fmt.Errorf("encoder: the tokenizer returned rows of %d tokens, more than the model's %d positions (max_position_embeddings)%s",
			w, m.cfg.MaxPositions, fix)
	}
	if err := m.checkIDs(tk.ids, tk.mask, tk.types); err != nil {
		return fmt.Errorf("%w%s", err, fix)
	}
	return nil
}

// checkIDs checks the values of a batch before it is bound: ids inside the
// vocabulary, mask values 0 or 1, token type ids (nil: none) inside
// type_vocab_size for BERT (DistilBERT has no token types and ignores them).
func (m *Model) checkIDs(tokens, mask, types [][]int) error {
	typeVocab := m.cfg.TypeVocabSize
	if m.cfg.ModelType == "distilbert" || typeVocab <= 0 {
		typeVocab = math.MaxInt
	}
	err := errors.Join(
		ids.Check(tokens, m.cfg.VocabSize, "token id", nil),
		ids.Check(types, typeVocab, "token type id", nil),
		ids.Check(mask, 2, "attention mask value", nil))
	if err != nil {
		return fmt.Errorf("encoder: the batch holds %w (vocab_size %d, type_vocab_size %d in config.json)", err, m.cfg.VocabSize, m.cfg.TypeVocabSize)
	}
	return nil
}
