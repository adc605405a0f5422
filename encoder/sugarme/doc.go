// Package sugarme adapts tokenizers of github.com/sugarme/tokenizer (v0.3.0)
// to genq's tokenizer interfaces, so that a model can tokenize with any
// tokenizer.json sugarme reads — including BPE models (RoBERTa, GPT-2) genq
// has no native tokenizer for:
//
//	tok, err := sugarme.Load("path/to/tokenizer.json") // or sugarme.New(tk)
//	...
//	encoderModel.SetTokenizer(tok) // an encoder.Tokenizer (EncodeBatch)
//	t5Model.SetTokenizer(tok)      // a t5.Tokenizer (Encode, Decode)
//
// genq's own tokenizers (packages encoder/wordpiece and t5/sentencepiece)
// stay the default: they reproduce transformers' BertTokenizer and
// T5Tokenizer on every row of the tokenizer fixtures, sugarme does not.
//
// # Special tokens, truncation, padding
//
// The special tokens are the ones the tokenizer's post-processor adds
// ("[CLS] $A [SEP]" for BERT, "$A </s>" for T5, "<s> $A </s>" for RoBERTa).
// Truncation drops tokens from the end of the text so that the ids, special
// tokens included, fit maxLen, as transformers' truncation=True does.
// EncodeBatch pads on the right with the tokenizer's pad token. The
// truncation and padding settings stored in the tokenizer.json are not used:
// the lengths are the methods' arguments.
//
// # Errors
//
// sugarme panics on some inputs; every call recovers the panic and returns
// an error wrapping ErrPanicked. EncodeBatch encodes the texts one by one
// and never calls sugarme's EncodeBatch, which exits the process
// (log.Fatal) on an error. sugarme still calls log.Fatal in a few places no
// adapter can guard (for example when a normalizer returns an error while
// added tokens are extracted); the tokenizers tried here never reach them.
//
// # Differences from transformers
//
// Measured on the 298 texts of testdata/fixtures/tokenizers, with the
// tokenizer.json files transformers' converters make from the fixtures' slow
// tokenizers (bert-base-uncased's vocab.txt, t5-base's spiece.model;
// TestGoldenDifferences asserts these counts):
//
//   - BERT (uncased): 228 rows get other ids (220 when truncated at 16).
//     Words with non-ASCII letters become [UNK] instead of being lower-cased
//     and stripped of their accents ("café" → [UNK], not "cafe"); no-break
//     and ideographic spaces do not separate words; control and format
//     characters such as U+200E are not dropped; special tokens written in
//     the text ("[SEP][CLS]") are split into pieces instead of being kept.
//   - T5: 25 rows panic inside sugarme (index out of range in its
//     normalizer's alignment bookkeeping; 20 of them hold a newline) and come
//     back as errors. Of the others, 117 get other ids (45 when truncated at
//     16): a "▁" is added before an added token at the start of a text
//     ("<extra_id_5> …"); a text ending with "</s>" gets a second one, where
//     T5Tokenizer adds none; runs of unknown characters are not merged into
//     one <unk>, combining marks become pieces of their own, and control
//     characters are kept where sentencepiece's normalizer drops them.
//     Decode differs on 51 rows: no cleanup of tokenization spaces
//     ("0 ,s" for "0,s") and leading or trailing spaces left in.
package sugarme
