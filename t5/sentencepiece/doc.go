// Package sentencepiece is the T5 SentencePiece tokenizer, reproducing HuggingFace's slow
// T5Tokenizer (transformers 4.40, legacy=True) on top of sentencepiece 0.1.97.
// It is what t5.Load uses, and a *Tokenizer is a t5.Tokenizer; it also works
// on its own, to count tokens or tokenize:
//
//	tok, err := sentencepiece.Load("path/to/model")  // spiece.model or tokenizer.json + configs
//	tok, err := sentencepiece.LoadTokenizerJSON(path) // a tokenizer.json on its own
//	ids, _ := tok.Encode(text, 0)                     // </s> included; never fails
//
// # Layers
//
// The tokenizer has the same two layers as the Python reference:
//
//   - the sentencepiece model (spiece.model, a serialized ModelProto): the
//     normalizer (the precompiled_charsmap of nmt_nfkc applied longest match
//     first, then whitespace handling and "▁" escaping) and the Unigram Viterbi
//     segmentation, computed as sentencepiece's optimized encoder does it,
//     scores and ties included;
//   - HuggingFace's layer: added tokens (</s>, <pad>, <unk> and the 100
//     <extra_id_N> sentinels) are split out of the text first, with their
//     lstrip/rstrip flags; every remaining segment is encoded by sentencepiece
//     on its own (legacy=True, so each segment gets its dummy "▁" prefix);
//     </s> is appended unless the ids already end with it; truncation keeps
//     </s> last. Decode drops special tokens when asked and cleans up
//     tokenization spaces as tokenizer_config.json says.
//
// # Files
//
// Load reads spiece.model when the folder has one, as the slow T5Tokenizer
// does, and otherwise a tokenizer.json with a Unigram model (the fast
// tokenizer's file), from which the same sentencepiece model is rebuilt: the
// vocabulary with its scores, the Precompiled charsmap, the whitespace
// handling that the Metaspace pre-tokenizer and the Replace/Strip normalizers
// declare, and the added tokens. spiece.model wins when both exist because
// the genq reference (the golden fixtures) is the slow tokenizer; the two
// files describe the same model for T5 checkpoints.
//
// tokenizer_config.json, special_tokens_map.json and added_tokens.json are
// read when present for the added tokens, their strip flags and the decoding
// settings; without them T5Tokenizer's defaults apply.
//
// LoadTokenizerJSON reads a tokenizer.json alone, with T5Tokenizer's
// defaults for what only the config files say. WriteTokenizerJSON writes the
// tokenizer.json transformers' T5Converter makes from spiece.model, for
// tokenizer libraries that read only that format.
//
// # Bounds
//
// No allocation is sized by a number read from a file until that number is
// checked against the file's actual size, the model's config or a documented
// cap, and every product of such numbers is checked for overflow. The pieces,
// the added tokens and the charsmap's trie (whose declared size is checked
// against its blob) are as many as the files hold; extra_ids may not exceed
// the sentencepiece model's pieces (or T5's 100 when that is larger) and
// must agree with the <extra_id_N> tokens additional_special_tokens lists;
// ids are at most 2^31 - 1 and only key maps. VocabSize (the largest id + 1)
// is what t5.Load checks against config.json's vocab_size.
//
// A spiece.model cut short at a field boundary still parses, so Load
// refuses one whose pieces are not followed by trainer_spec and
// normalizer_spec (sentencepiece writes them after the pieces), and one with
// fewer pieces than trainer_spec.vocab_size.
//
// # Errors
//
// Load returns errors that name the file and what was wrong with it. Encode and
// Decode never panic and never fail (their errors, there for the t5.Tokenizer
// interface, are always nil), whatever their input, invalid UTF-8 included: bytes that
// are not UTF-8 are normalized to U+FFFD as sentencepiece does, and ids outside
// the vocabulary are skipped by Decode.
package sentencepiece
