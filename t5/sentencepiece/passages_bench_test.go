package sentencepiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// BenchmarkEncodePassages tokenizes 10,000 passages of about 300 tokens with
// the T5 tokenizer (t5-base's spiece.model), one passage at a time on one
// goroutine, with truncation at 512 as the query generator's input does; one
// op is the whole corpus. Run with -cpu 1; the goal is ≥ 2,000 passages/s.
func BenchmarkEncodePassages(b *testing.B) {
	if testing.Short() {
		b.Skip("10,000 passages: skipped under -short")
	}
	const maxLen = 512
	tok := loadT5(b)
	passages := testutil.Passages(10_000)
	tokens := 0
	for _, p := range passages {
		tokens += len(tok.encode(p, maxLen))
	}
	require.InDelta(b, 300, tokens/len(passages), 50, "average tokens of a passage")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range passages {
			tok.encode(p, maxLen)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(passages)*b.N)/s, "passages/s")
	b.ReportMetric(float64(tokens*b.N)/s, "tokens/s")
	b.ReportMetric(float64(tokens)/float64(len(passages)), "tokens/passage")
}
