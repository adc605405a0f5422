package encoder

import (
	"fmt"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestSharedBuffers checks that the inference graph whose layers share their
// intermediate buffers computes exactly (bit for bit) what the same graph
// with a buffer per op computes, for BERT and DistilBERT stacks of three
// layers, on a batch large enough that a product writing over an input it
// still reads would show.
func TestSharedBuffers(t *testing.T) {
	small := func(kind string) *Config {
		return &Config{ModelType: kind, VocabSize: 30522, Hidden: 64, Layers: 3, Heads: 4, Intermediate: 256,
			MaxPositions: 128, TypeVocabSize: 2, LayerNormEps: 1e-12, Activation: "gelu", PositionEmbedding: "absolute"}
	}
	texts := make([]string, 6)
	for i := range texts {
		texts[i] = fmt.Sprintf("passage %d: Go's goroutines are multiplexed onto OS threads by the runtime scheduler, %d times over.", i, i*7)
	}
	for _, kind := range []string{"bert", "distilbert"} {
		t.Run(kind, func(t *testing.T) {
			m := randomModel(t, small(kind), 7)
			var batch tokenized
			batch.ids, batch.types, batch.mask, _ = m.tok.EncodeBatch(texts, 64)
			n, tl := len(batch.ids), bucket(batch, m.maxSeqLen)
			var outs [2][2][]float32
			for i, share := range []bool{false, true} {
				ig, err := m.buildInference(n, tl, share)
				require.NoError(t, err)
				require.NoError(t, ig.in.bind(batch.ids, batch.types, batch.mask))
				require.NoError(t, run(ig.vm))
				outs[i][0] = append([]float32(nil), ig.tokens.Value().Data().([]float32)...)
				outs[i][1] = append([]float32(nil), ig.pooled.Value().Data().([]float32)...)
				ig.vm.Close()
			}
			for j, name := range []string{"token embeddings", "sentence embeddings"} {
				want, got := outs[0][j], outs[1][j]
				require.NotEmpty(t, want, name)
				testutil.Identical(t, name+" (shared buffers against none)", got, want)
			}
		})
	}
}
