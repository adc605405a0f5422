package sentencepiece

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/internal/tokenutil"

	"github.com/stretchr/testify/require"
)

// FuzzEncodeDecode checks that no input makes Encode, Pieces or Decode panic,
// that ids stay inside the vocabulary and end with </s>, that truncation
// respects maxLen, and that Decode returns valid UTF-8. The tokenizer is
// loaded once per fuzzing process.
func FuzzEncodeDecode(f *testing.F) {
	tok := loadT5(f)
	testutil.FuzzText(f, []string{
		"", " ", "Hello, world!", "a\r\nb\tc", "<extra_id_0>", "</s></s>", "<pad><unk>",
		"ﬃ ｈｅｌｌｏ ²", "東京 🙂 \u200b\u200e", "\xff\xfe\xe2\x82", "▁▁ ▁", "<extra_id_", "\x00\x01",
		strings.Repeat("x", 300),
	}, func(t *testing.T, text string, maxLen int) { checkTokenizer(t, tok, text, maxLen) })
}

// checkTokenizer is what every fuzz target asks of a tokenizer it could
// build: Encode, Pieces and Decode of text do not panic, ids are inside the
// vocabulary and end with </s>, truncation respects maxLen, Decode returns
// UTF-8 and skips ids it does not know.
func checkTokenizer(t *testing.T, tok *Tokenizer, text string, maxLen int) {
	maxLen %= 64
	ids := tok.encode(text, maxLen)
	require.NotEmpty(t, ids)
	require.Equal(t, tok.EOSID(), ids[len(ids)-1], "Encode(%q) = %v does not end with </s>", text, ids)
	if maxLen > 0 {
		require.LessOrEqual(t, len(ids), maxLen, "Encode(%q, %d)", text, maxLen)
	}
	for _, id := range ids {
		require.True(t, id >= 0 && id < tok.VocabSize(), "Encode(%q) gave id %d outside [0, %d)", text, id, tok.VocabSize())
	}
	for _, skip := range []bool{true, false} {
		s := tok.decode(ids, skip)
		require.True(t, utf8.ValidString(s), "Decode(%v) = %q is not UTF-8", ids, s)
	}
	require.Len(t, tok.Pieces(text), len(tok.encode(text, 0)), "Pieces(%q)", text)
	// Arbitrary ids, out of range included, must decode without panicking.
	_ = tok.decode([]int{maxLen, -maxLen, 1 << 20, len(text)}, false)
}

// smallModel is a 300-piece sentencepiece model: t5-tiny's first pieces
// (its control and unknown pieces among them) and the 256 byte pieces, with
// byte fallback, serialized. Fuzz targets start from it because t5-tiny's
// 790 kB spiece.model makes every run slow.
func smallModel(t testing.TB) []byte {
	t.Helper()
	var pieces []protoPiece
	for _, p := range loadT5(t).sp.pieces[:300] {
		pieces = append(pieces, p)
	}
	for i := 0; i < 256; i++ {
		pieces = append(pieces, protoPiece{fmt.Sprintf("<0x%02X>", i), 0, typeByte})
	}
	return buildModelProto(pieces, true)
}

// fuzzTexts are the texts the parser fuzz targets tokenize with what they built.
var fuzzTexts = []string{"Hello, world! <extra_id_0>", " a\xff  </s><pad>b ", ""}

// checkParsed runs checkTokenizer over fuzzTexts.
func checkParsed(t *testing.T, tok *Tokenizer) {
	for _, s := range fuzzTexts {
		checkTokenizer(t, tok, s, 0)
	}
}

// FuzzModelProto feeds arbitrary bytes to the spiece.model reader
// (parseModelProto, then the model and tokenizer built on it): nothing may
// panic, and a model that loads must tokenize like any other.
func FuzzModelProto(f *testing.F) {
	f.Add(smallModel(f))
	f.Add(buildModelProto([]protoPiece{{"<unk>", 0, typeUnknown}, {"</s>", 0, typeControl}, {"▁", -1, typeNormal}, {"a", -2, typeNormal}}, false))
	f.Add(testutil.ReadFixture(f, "t5-tiny", "spiece.model")[:4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > testutil.MaxFuzzFile {
			return
		}
		mp, err := parseModelProto(b)
		if err != nil {
			return
		}
		sp, err := newModel(mp)
		if err != nil {
			return
		}
		tok, err := newTokenizer(sp, defaultHFConfig(), nil)
		if err != nil {
			return
		}
		checkParsed(t, tok)
	})
}

// FuzzTokenizerJSON feeds arbitrary bytes to the tokenizer.json reader.
func FuzzTokenizerJSON(f *testing.F) {
	sp, err := parseModelProto(smallModel(f))
	require.NoError(f, err)
	m, err := newModel(sp)
	require.NoError(f, err)
	tok, err := newTokenizer(m, defaultHFConfig(), nil)
	require.NoError(f, err)
	var buf bytes.Buffer
	require.NoError(f, tok.WriteTokenizerJSON(&buf))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["▁a", -1]]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > testutil.MaxFuzzFile {
			return
		}
		tok, err := loadTokenizerJSON(b, defaultHFConfig())
		if err != nil {
			return
		}
		checkParsed(t, tok)
	})
}

// FuzzHFConfig feeds arbitrary tokenizer_config.json, special_tokens_map.json
// and added_tokens.json to the reader of the HuggingFace layer, over the
// small model: extra_ids, added-token ids and special tokens come from the
// files, and no value they hold may size an allocation unchecked.
func FuzzHFConfig(f *testing.F) {
	read := func(name string) []byte { return testutil.ReadFixture(f, "t5-tiny", name) }
	f.Add(read("tokenizer_config.json"), read("special_tokens_map.json"), read("added_tokens.json"))
	f.Add([]byte(`{"extra_ids": 100000000}`), []byte(nil), []byte(nil))
	f.Add([]byte(`{"extra_ids": 3, "eos_token": {"content": "a"}, "legacy": true}`), []byte(`{"additional_special_tokens": ["<extra_id_0>", "x"]}`), []byte(`{"<y>": 7}`))
	mp, err := parseModelProto(smallModel(f))
	require.NoError(f, err)
	sp, err := newModel(mp)
	require.NoError(f, err)
	testutil.FuzzConfigFiles(f, func(t *testing.T, files [3]tokenutil.ConfigFile) {
		cfg, err := parseHFConfig(files[0], files[1], files[2])
		if err != nil {
			return
		}
		tok, err := newTokenizer(sp, cfg, nil)
		if err != nil {
			return
		}
		require.LessOrEqual(t, tok.VocabSize(), maxID+1)
		checkParsed(t, tok)
	})
}

// paragraph is about 256 T5 tokens of ordinary English.
const paragraph = `Python is an interpreted, high-level and general-purpose programming language. Python's design philosophy emphasizes code readability with its notable use of significant whitespace. Its language constructs and object-oriented approach aim to help programmers write clear, logical code for small and large-scale projects. Java is a class-based, object-oriented programming language that is designed to have as few implementation dependencies as possible. It is a general-purpose programming language intended to let application developers write once, run anywhere (WORA), meaning that compiled Java code can run on all platforms that support Java without the need for recompilation. Java applications are typically compiled to bytecode that can run on any Java virtual machine (JVM) regardless of the underlying computer architecture. The syntax of Java is similar to C and C++, but has fewer low-level facilities than either of them. Go is a statically typed, compiled programming language designed at Google; it is syntactically similar to C, but with memory safety, garbage collection and structural typing. It is often used for networked services, command-line tools and cloud infrastructure, where fast builds matter.`

func BenchmarkEncode(b *testing.B) {
	tok := loadT5(b)
	b.SetBytes(int64(len(paragraph)))
	n := 0
	for b.Loop() {
		n = len(tok.encode(paragraph, 0))
	}
	b.ReportMetric(float64(n), "tokens/op")
}
