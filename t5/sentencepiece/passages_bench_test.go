package sentencepiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
)

// BenchmarkEncodePassages tokenizes 10,000 passages of about 300 tokens with
// the T5 tokenizer (t5-base's spiece.model), one passage at a time on one
// goroutine, with truncation at 512 as the query generator's input does; one
// op is the whole corpus. Run with -cpu 1; the goal is ≥ 2,000 passages/s.
func BenchmarkEncodePassages(b *testing.B) {
	const maxLen = 512
	tok := loadT5(b)
	c := testutil.PassageBench(b, func(p string) int { return len(tok.encode(p, maxLen)) })
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range c.Passages {
			tok.encode(p, maxLen)
		}
	}
	c.Report(b)
}
