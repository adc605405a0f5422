package wordpiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// BenchmarkEncodePassages tokenizes 10,000 passages of about 300 tokens with
// the BERT tokenizer (bert-base-uncased's vocab.txt) on one goroutine, with
// truncation at 512: Encode one passage at a time, and EncodeBatch in
// batches of 32 as SentenceTransformer.encode does. One op is the whole
// corpus. Run with -cpu 1; the goal is ≥ 2,000 passages/s.
func BenchmarkEncodePassages(b *testing.B) {
	if testing.Short() {
		b.Skip("10,000 passages: skipped under -short")
	}
	const maxLen, batch = 512, 32
	tok := loadBert(b, "bert-tiny")
	passages := testutil.Passages(10_000)
	tokens := 0
	for _, p := range passages {
		tokens += len(tok.Encode(p, maxLen).IDs)
	}
	require.InDelta(b, 300, tokens/len(passages), 50, "average tokens of a passage")
	report := func(b *testing.B) {
		s := b.Elapsed().Seconds()
		b.ReportMetric(float64(len(passages)*b.N)/s, "passages/s")
		b.ReportMetric(float64(tokens*b.N)/s, "tokens/s")
		b.ReportMetric(float64(tokens)/float64(len(passages)), "tokens/passage")
	}
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range passages {
				tok.Encode(p, maxLen)
			}
		}
		report(b)
	})
	b.Run("EncodeBatch32", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := 0; i < len(passages); i += batch {
				tok.EncodeBatch(passages[i:min(i+batch, len(passages))], maxLen)
			}
		}
		report(b)
	})
}
