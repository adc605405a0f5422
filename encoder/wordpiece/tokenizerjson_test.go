package wordpiece

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenizerJSONRoundTrip writes bert-tiny's tokenizer (vocab.txt +
// tokenizer_config.json) as a fast tokenizer's tokenizer.json and reads it
// back, on its own (LoadTokenizerJSON) and as the only tokenizer file of a
// folder (Load): both must give BertTokenizer's ids on every golden row,
// untruncated and truncated at 16, and decode as the original does.
func TestTokenizerJSONRoundTrip(t *testing.T) {
	orig := loadBert(t, "bert-tiny")
	rows := testutil.TokenizerRows(t)
	testutil.TokenizerJSONRoundTrip(t, orig.WriteTokenizerJSON, LoadTokenizerJSON, Load, func(t *testing.T, tok *Tokenizer) {
		assert.Equal(t, []int{orig.ClsID(), orig.SepID(), orig.PadID(), orig.UnkID(), orig.MaskID(), orig.VocabSize()},
			[]int{tok.ClsID(), tok.SepID(), tok.PadID(), tok.UnkID(), tok.MaskID(), tok.VocabSize()}, "cls, sep, pad, unk, mask, vocab size")
		for i, r := range rows {
			assert.Equal(t, r.BertIDs, tok.Encode(r.Text, 0).IDs, "row %d %q", i, r.Text)
			assert.Equal(t, r.BertTrunc16, tok.Encode(r.Text, 16).IDs, "row %d %q truncated at 16", i, r.Text)
			assert.Equal(t, orig.Decode(r.BertIDs, true), tok.Decode(r.BertIDs, true), "row %d %q decoded", i, r.Text)
		}
	})
}

// TestLoadTokenizerJSONComponents reads hand-written tokenizer.json files the
// way transformers' fast tokenizers write them.
func TestLoadTokenizerJSONComponents(t *testing.T) {
	const vocab = `"vocab": {"<pad>": 0, "<unk>": 1, "<s>": 2, "</s>": 3, "café": 4, "cafe": 5, "##s": 6}`
	tests := []struct {
		name, json string
		want       []int // ids of "Cafés"
		wantPad    int
	}{
		{"BertProcessing, lowercase, accents follow it", `{
			"normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
			"pre_tokenizer": {"type": "BertPreTokenizer"},
			"post_processor": {"type": "BertProcessing", "sep": ["</s>", 3], "cls": ["<s>", 2]},
			"padding": {"pad_token": "<pad>"},
			"model": {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, ` + vocab + `}}`,
			[]int{2, 5, 6, 3}, 0},
		{"TemplateProcessing, accents kept", `{
			"normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": false, "lowercase": true},
			"post_processor": {"type": "TemplateProcessing",
				"single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
				"special_tokens": {"<s>": {"id": "<s>", "ids": [2], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [3], "tokens": ["</s>"]}}},
			"model": {"type": "WordPiece", "unk_token": "<unk>", ` + vocab + `}}`,
			[]int{2, 4, 6, 3}, 7}, // "[PAD]" is not in the vocabulary: added at the next id, as HF does
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			write(t, path, tc.json)
			tok, err := LoadTokenizerJSON(path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tok.Encode("Cafés", 0).IDs)
			assert.Equal(t, tc.wantPad, tok.PadID())
		})
	}
}

// TestLoadTokenizerJSONErrors checks that what genq's WordPiece tokenizer
// cannot reproduce is refused with an error naming the file and component.
func TestLoadTokenizerJSONErrors(t *testing.T) {
	const model = `"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}`
	tests := []struct{ json, want string }{
		{`{"model": {"type": "BPE"}}`, `"BPE", not WordPiece`},
		{`{"normalizer": {"type": "NFKC"}, ` + model + `}`, `normalizer is "NFKC"`},
		{`{"normalizer": {"type": "BertNormalizer", "clean_text": false}, ` + model + `}`, "clean_text false"},
		{`{"pre_tokenizer": {"type": "Whitespace"}, ` + model + `}`, `pre-tokenizer is "Whitespace"`},
		{`{"post_processor": {"type": "RobertaProcessing"}, ` + model + `}`, `post-processor is "RobertaProcessing"`},
		{`{"post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A"}}]}, ` + model + `}`, "not BERT's"},
		{`{"decoder": {"type": "ByteLevel"}, ` + model + `}`, `decoder is "ByteLevel"`},
		{`{"model": {"type": "WordPiece", "vocab": {"a": 0, "b": 0}}}`, "share id 0"},
		{`{`, "unexpected end"},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "tokenizer.json")
		write(t, path, tc.json)
		_, err := LoadTokenizerJSON(path)
		require.Error(t, err, tc.json)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), path)
	}
	_, err := LoadTokenizerJSON(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestWriteTokenizerJSONErrors checks that settings without a tokenizer.json
// form are refused.
func TestWriteTokenizerJSONErrors(t *testing.T) {
	for _, opts := range []Options{
		{LowerCase: true, BasicTokenize: false},
		{LowerCase: true, BasicTokenize: true, NeverSplit: []string{"C++"}},
	} {
		tok, err := New([]string{"[UNK]", "a"}, opts)
		require.NoError(t, err)
		assert.Error(t, tok.WriteTokenizerJSON(&bytes.Buffer{}))
	}
}
