package wordpiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// BenchmarkEncodePassages tokenizes 10,000 passages of about 300 tokens with
// the BERT tokenizer (bert-base-uncased's vocab.txt) on one goroutine, with
// truncation at 512: Encode one passage at a time, and EncodeBatch in
// batches of 32 as SentenceTransformer.encode does. One op is the whole
// corpus. Run with -cpu 1; the goal is ≥ 2,000 passages/s.
func BenchmarkEncodePassages(b *testing.B) {
	const maxLen, batch = 512, 32
	tok := loadBert(b, "bert-tiny")
	c := testutil.PassageBench(b, func(p string) int { return len(tok.Encode(p, maxLen).IDs) })
	passages := c.Passages
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range passages {
				tok.Encode(p, maxLen)
			}
		}
		c.Report(b)
	})
	b.Run("EncodeBatch32", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := 0; i < len(passages); i += batch {
				tok.EncodeBatch(passages[i:min(i+batch, len(passages))], maxLen)
			}
		}
		c.Report(b)
	})
}
