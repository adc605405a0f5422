package sentencepiece

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzEncodeDecode checks that no input makes Encode, Pieces or Decode panic,
// that ids stay inside the vocabulary and end with </s>, that truncation
// respects maxLen, and that Decode returns valid UTF-8.
func FuzzEncodeDecode(f *testing.F) {
	tok := loadT5(f)
	for _, s := range []string{
		"", " ", "Hello, world!", "a\r\nb\tc", "<extra_id_0>", "</s></s>", "<pad><unk>",
		"ﬃ ｈｅｌｌｏ ²", "東京 🙂 \u200b\u200e", "\xff\xfe\xe2\x82", "▁▁ ▁", "<extra_id_", "\x00\x01",
		strings.Repeat("x", 300),
	} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen %= 64
		ids := tok.encode(text, maxLen)
		require.NotEmpty(t, ids)
		require.Equal(t, tok.EOSID(), ids[len(ids)-1], "Encode(%q) = %v does not end with </s>", text, ids)
		if maxLen > 0 {
			require.LessOrEqual(t, len(ids), maxLen, "Encode(%q, %d)", text, maxLen)
		}
		for _, id := range ids {
			require.True(t, id >= 0 && id < tok.Len(), "Encode(%q) gave id %d outside [0, %d)", text, id, tok.Len())
		}
		for _, skip := range []bool{true, false} {
			s := tok.decode(ids, skip)
			require.True(t, utf8.ValidString(s), "Decode(%v) = %q is not UTF-8", ids, s)
		}
		require.Len(t, tok.Pieces(text), len(tok.encode(text, 0)), "Pieces(%q)", text)
		// Arbitrary ids, out of range included, must decode without panicking.
		_ = tok.decode([]int{maxLen, -maxLen, 1 << 20, len(text)}, false)
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
