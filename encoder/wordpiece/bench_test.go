package wordpiece

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEncodeBatch encodes 32 passages of about 128 tokens each, as one
// batch of SentenceTransformer.encode (max_seq_length 128).
func BenchmarkEncodeBatch(b *testing.B) {
	tok := loadBert(b, "bert-tiny")
	para := "Java is a class-based, object-oriented programming language that is designed to have as few " +
		"implementation dependencies as possible. It is a general-purpose programming language intended to let " +
		"application developers write once, run anywhere (WORA), meaning that compiled Java code can run on all " +
		"platforms that support Java without the need for recompilation. Café naïve résumé Zürich."
	passages := make([]string, 32)
	for i := range passages {
		passages[i] = para[i:] + " " + para
	}
	n := len(tok.Encode(passages[0], 0).IDs)
	require.GreaterOrEqual(b, n, 128, "tokens of the benchmark passage")
	require.LessOrEqual(b, n, 180, "tokens of the benchmark passage")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tok.EncodeBatch(passages, 128)
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "passages/s")
}
