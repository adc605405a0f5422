package encoder

// Tokenizer turns texts into the padded batch a BERT or DistilBERT encoder
// reads. Load uses the checkpoint's WordPiece tokenizer (a
// *wordpiece.Tokenizer, which reproduces transformers' BertTokenizer
// exactly); SetTokenizer replaces it, for example with an adapter over
// another tokenizer library (package github.com/genq-go/genq/encoder/sugarme
// adapts github.com/sugarme/tokenizer).
//
// A Tokenizer must be safe for concurrent use. Its errors end the call that
// asked for them (Encode, Fit) and are returned wrapped.
type Tokenizer interface {
	// EncodeBatch tokenizes texts as sentence-transformers'
	// Transformer.tokenize does with its tokenizer: every row holds the
	// text's ids between the model's special tokens ([CLS] ... [SEP] for
	// BERT), truncated to at most maxLen ids with the special tokens kept
	// (maxLen <= 0: no truncation), and the rows are right-padded to the
	// longest one. typeIDs are the token_type_ids (0 for a single text and on
	// padding), mask the attention_mask (1 on tokens, 0 on padding); all three
	// have one row per text, in input order, of one width.
	//
	// The Model strips the texts (and lower-cases them when
	// sentence_bert_config.json says do_lower_case) before it calls
	// EncodeBatch.
	EncodeBatch(texts []string, maxLen int) (ids, typeIDs, mask [][]int, err error)
}

// SetTokenizer replaces the model's tokenizer. The tokenizer must use the
// model's vocabulary. It waits for a running Encode or Fit to end. Save still
// writes the tokenizer files the model was loaded with.
func (m *Model) SetTokenizer(t Tokenizer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = t
}

// Tokenizer returns the model's tokenizer: the *wordpiece.Tokenizer Load
// read, or the one SetTokenizer set.
func (m *Model) Tokenizer() Tokenizer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok
}
