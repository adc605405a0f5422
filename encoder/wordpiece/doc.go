// Package wordpiece is the BERT / DistilBERT WordPiece tokenizer, reproducing
// HuggingFace's slow BertTokenizer and DistilBertTokenizer (transformers 4.40)
// and SentenceTransformer.tokenize token for token. It is what encoder.Load
// uses, and a *Tokenizer is an encoder.Tokenizer; it also works on its own,
// to count tokens or tokenize:
//
//	tok, err := wordpiece.Load("path/to/model")  // vocab.txt or tokenizer.json + configs
//	tok, err := wordpiece.LoadTokenizerJSON(path) // a tokenizer.json on its own
//	n := len(tok.Encode(text, 0).IDs)             // tokens, [CLS] and [SEP] included
//
// # Files
//
// Load reads a model folder as BertTokenizer.from_pretrained does: vocab.txt
// (or, without it, tokenizer.json), tokenizer_config.json,
// special_tokens_map.json and added_tokens.json. LoadTokenizerJSON reads a
// fast tokenizer's tokenizer.json alone (a WordPiece model with BERT's
// normalizer, pre-tokenizer and post-processor); WriteTokenizerJSON writes
// one, as transformers' converter does, for tokenizer libraries that read
// only that format.
//
// # Pipeline
//
// Tokens runs the steps of PreTrainedTokenizer.tokenize and BertTokenizer in
// their order:
//
//  1. With lower-casing on, every character except those of special (and
//     other protected added) tokens written literally in the text is
//     lower-cased, one character at a time, as Python's str.lower does.
//  2. The text is split around added tokens ("[CLS]", "[SEP]", "[PAD]",
//     "[MASK]", "[UNK]" for BERT): those stay whole.
//  3. Each remaining piece goes through the basic tokenizer: drop NUL, U+FFFD
//     and control characters (Unicode category C*, except tab, newline and
//     carriage return), turn whitespace into spaces, surround CJK ideographs
//     with spaces, NFC, split on whitespace, lower-case, NFD and drop Mn marks
//     when accents are stripped, split off every punctuation character.
//  4. Each word goes through WordPiece: greedy longest match first with "##"
//     continuations; a word longer than 100 characters or one that cannot be
//     covered by the vocabulary becomes a single "[UNK]".
//
// Encode adds [CLS] and [SEP] and truncates (longest first for pairs);
// EncodeBatch pads to the longest row with [PAD] as
// SentenceTransformer.tokenize does.
//
// # Unicode
//
// Character classes follow Python 3.11 (Unicode 14.0), the version the
// reference ran on: characters first assigned in Unicode 15.0 are unassigned
// (category Cn, hence dropped as control characters) here as there, although
// Go's tables know them. Invalid UTF-8 bytes are read as U+FFFD and dropped.
//
// # Bounds
//
// No allocation is sized by a number read from a file until that number is
// checked against the file's actual size, the model's config or a documented
// cap, and every product of such numbers is checked for overflow. The
// vocabulary is as many tokens as vocab.txt has lines or tokenizer.json has
// entries; ids (at most 2^31 - 1) key a map and never size a table, so a
// token at id 16 million costs what one at id 5 does; VocabSize (the largest
// id + 1) is what encoder.Load checks against config.json's vocab_size.
// model_max_length is only reported, and truncation lengths come from the
// caller.
//
// # Errors
//
// Load, LoadTokenizerJSON and New return errors naming the file and field at
// fault; tokenizing never panics and never fails, whatever the input (the
// error EncodeBatch returns, for the encoder.Tokenizer interface, is always
// nil).
package wordpiece
