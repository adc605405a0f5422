package wordpiece

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/internal/tokenutil"
	"github.com/stretchr/testify/require"
)

// FuzzTokenize feeds arbitrary bytes (invalid UTF-8 included) through every
// entry point: nothing may panic, ids must be valid, [CLS]/[SEP] in place,
// truncation within bounds, Tokens and IDs in step. The tokenizer is loaded
// once per fuzzing process.
func FuzzTokenize(f *testing.F) {
	tok := loadBert(f, "bert-tiny")
	testutil.FuzzText(f, []string{
		"", "Hello, world!", "[CLS][SEP] [PAD]x[MASK]", "東京 ﬀ Ⅳ 🧑\u200d🚀", "\xff\xfe\x00\r\n\t",
		"\u0130\u03a3\u2028\u0085", strings.Repeat("a", 150), "e\u0301\u0301", "[UNK", "##ing",
	}, func(t *testing.T, text string, maxLen int) { checkTokenizer(t, tok, text, maxLen) })
}

// checkTokenizer is what every fuzz target asks of a tokenizer it could
// build: tokenizing text does not panic, ids are inside the vocabulary,
// [CLS] and [SEP] are in place, truncation respects maxLen, batches are
// rectangular and Decode returns UTF-8.
func checkTokenizer(t *testing.T, tok *Tokenizer, text string, maxLen int) {
	maxLen %= 64
	toks, ids := tok.Tokens(text), tok.IDs(text)
	require.Len(t, ids, len(toks), "%q: tokens and ids", text)
	for i, id := range ids {
		require.True(t, id >= 0 && id < tok.VocabSize(), "%q: id %d out of range", text, id)
		require.Equal(t, tok.TokenID(toks[i]), id, "%q: token %q", text, toks[i])
		require.True(t, utf8.ValidString(toks[i]) && toks[i] != "", "%q: bad token %q", text, toks[i])
	}
	e := tok.Encode(text, maxLen)
	n := len(e.IDs)
	require.GreaterOrEqual(t, n, 2, "%q: Encode = %v", text, e.IDs)
	require.Equal(t, tok.ClsID(), e.IDs[0], "%q: Encode = %v", text, e.IDs)
	require.Equal(t, tok.SepID(), e.IDs[n-1], "%q: Encode = %v", text, e.IDs)
	if maxLen > 2 {
		require.LessOrEqual(t, n, maxLen, "%q: Encode(maxLen=%d)", text, maxLen)
	}
	p := tok.EncodePair(text, text, maxLen)
	if maxLen > 3 {
		require.LessOrEqual(t, len(p.IDs), maxLen, "%q: EncodePair(maxLen=%d)", text, maxLen)
	}
	bIDs, _, bMask, err := tok.EncodeBatch([]string{text, "x"}, maxLen)
	require.NoError(t, err)
	require.Len(t, bIDs[1], len(bIDs[0]), "%q: ragged batch", text)
	require.Len(t, bMask[0], len(bIDs[0]), "%q: ragged batch", text)
	d := tok.Decode(append(ids, -1, maxID+1), false)
	require.True(t, utf8.ValidString(d), "%q: Decode gave invalid UTF-8 %q", text, d)
}

// fuzzTexts are the texts the parser fuzz targets tokenize with what they built.
var fuzzTexts = []string{"Hello, World! [CLS]x[MASK] ##a", "\xff  東京 naïve", ""}

// checkParsed runs checkTokenizer over fuzzTexts.
func checkParsed(t *testing.T, tok *Tokenizer) {
	for _, s := range fuzzTexts {
		checkTokenizer(t, tok, s, 0)
	}
}

// smallVocab is a 500-token BERT vocabulary: bert-tiny's special tokens,
// single characters, frequent words and continuations. The parser fuzz
// targets build on it because a tokenizer over bert-tiny's 30522 tokens
// makes every run slow.
func smallVocab(t testing.TB) []string {
	t.Helper()
	lines := strings.Split(string(testutil.ReadFixture(t, "bert-tiny", "vocab.txt")), "\n")
	v := append([]string{lines[0]}, lines[100:104]...) // [PAD], [UNK], [CLS], [SEP], [MASK]
	v = append(v, lines[999:1200]...)                  // characters
	v = append(v, lines[1996:2100]...)                 // words
	for _, l := range lines[2100:] {
		if strings.HasPrefix(l, "##") && len(v) < 500 {
			v = append(v, l)
		}
	}
	return v
}

// FuzzVocab feeds arbitrary bytes to the vocab.txt reader and builds a
// tokenizer on what it reads.
func FuzzVocab(f *testing.F) {
	f.Add([]byte(strings.Join(smallVocab(f), "\n")))
	f.Add([]byte("[UNK]\r\n[CLS]\r[SEP]\nhello\n##lo\nhello\n"))
	f.Add([]byte("\n\n\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > testutil.MaxFuzzFile {
			return
		}
		lines, err := parseVocab(b)
		if err != nil {
			return
		}
		tok, err := New(lines, DefaultOptions())
		if err != nil {
			return
		}
		require.LessOrEqual(t, tok.VocabSize(), len(lines)+5, "ids beyond the lines and the 5 special tokens")
		checkParsed(t, tok)
	})
}

// FuzzTokenizerJSON feeds arbitrary bytes to the tokenizer.json reader.
func FuzzTokenizerJSON(f *testing.F) {
	tok, err := New(smallVocab(f), DefaultOptions())
	require.NoError(f, err)
	var buf bytes.Buffer
	require.NoError(f, tok.WriteTokenizerJSON(&buf))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 7, "##b": 2147483647}},
		"added_tokens": [{"id": 3, "content": "[CLS]", "special": true}], "normalizer": {"type": "BertNormalizer", "lowercase": false},
		"post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 3], "sep": ["[SEP]", 4]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > testutil.MaxFuzzFile {
			return
		}
		opts := DefaultOptions()
		vocab, err := parseTokenizerJSON(b, &opts)
		if err != nil {
			return
		}
		tok, err := build(vocab, opts)
		if err != nil {
			return
		}
		checkParsed(t, tok)
	})
}

// FuzzConfig feeds arbitrary tokenizer_config.json, special_tokens_map.json
// and added_tokens.json to the reader of the settings, over the small
// vocabulary: ids of added tokens, special tokens and lengths come from the
// files, and no value they hold may size an allocation unchecked.
func FuzzConfig(f *testing.F) {
	read := func(name string) []byte { return testutil.ReadFixture(f, "bert-tiny", name) }
	f.Add(read("tokenizer_config.json"), read("special_tokens_map.json"), []byte(nil))
	f.Add([]byte(`{"do_lower_case": false, "never_split": ["[X]"], "model_max_length": 1e30, "strip_accents": null}`),
		[]byte(`{"additional_special_tokens": ["[X]", {"content": "[Y]"}], "cls_token": "<s>"}`), []byte(`{"<z>": 16000000}`))
	vocab := smallVocab(f)
	testutil.FuzzConfigFiles(f, func(t *testing.T, files [3]tokenutil.ConfigFile) {
		opts := DefaultOptions()
		if err := applyConfig(files[0], files[1], files[2], &opts); err != nil {
			return
		}
		tok, err := build(linesTable(vocab), opts)
		if err != nil {
			return
		}
		require.LessOrEqual(t, tok.VocabSize(), maxID+1)
		checkParsed(t, tok)
	})
}
