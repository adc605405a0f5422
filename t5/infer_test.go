package t5

import (
	"context"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallConfig is a 4-layer model with uneven sizes (d_model 48, 3 heads of
// 20, d_ff 72, 64 tokens), deep enough for the inference graphs to reuse
// every workspace buffer several times.
func smallConfig(gated bool) Config {
	cfg := DefaultConfig()
	cfg.VocabSize, cfg.DModel, cfg.DKV, cfg.DFF, cfg.NumHeads = 64, 48, 20, 72, 3
	cfg.NumLayers, cfg.NumDecoderLayers = 4, 3
	if gated {
		cfg.FeedForwardProj, cfg.TieWordEmbeddings = "gated-gelu", false
	}
	return cfg
}

// TestInferenceGraphMatchesTrainingGraph compares the logits of the
// inference graph (fused ops on shared workspace buffers) with those of the
// training graph (differentiable gorgonia ops, fresh buffers) on random
// models, ragged batches with padding, within 1e-5 + 1e-5·|want|: a buffer
// overwritten while still needed would show as a large difference.
func TestInferenceGraphMatchesTrainingGraph(t *testing.T) {
	for _, gated := range []bool{false, true} {
		m := randomModel(t, smallConfig(gated), 5)
		ids := randomIDs(3, 40, m.cfg.VocabSize, 11)
		ids[1], ids[2] = ids[1][:17], ids[2][:33]
		dec := randomIDs(3, 20, m.cfg.VocabSize, 12)
		dec[0] = dec[0][:9]
		want := trainingGraphLogits(t, m, ids, dec)
		for run := range 2 { // the second run reuses every buffer
			got, err := m.Logits(context.Background(), ids, nil, dec)
			require.NoError(t, err)
			d := testutil.AllClose(t, "inference vs training graph logits", got.Data, want, 1e-5, 1e-5)
			require.Zero(t, d.Count, "gated=%v, run %d", gated, run)
		}
	}
}

// trainingGraphLogits runs the training graph of m and returns its logits
// [n, longest decoder row, vocab].
func trainingGraphLogits(t *testing.T, m *Model, ids, dec [][]int) []float32 {
	t.Helper()
	b, err := padBatch(ids, nil, m.cfg.PadTokenID, 0)
	require.NoError(t, err)
	tl := longest(dec)
	tt := roundUp(tl, lengthBucket)
	m.mu.Lock()
	defer m.mu.Unlock()
	g, err := m.seq2seqGraph(b.n, b.s, tt, true)
	require.NoError(t, err)
	in, err := m.seq2seqInputs(b, padRows(dec, tt, m.cfg.PadTokenID), tt, tl)
	require.NoError(t, err)
	in["labels"] = intTensor(make([]int, b.n*tt))
	out, err := g.run(in, "logits")
	require.NoError(t, err)
	v := m.cfg.VocabSize
	res := make([]float32, 0, b.n*tl*v)
	for i := 0; i < b.n; i++ {
		res = append(res, out["logits"][i*tt*v:(i*tt+tl)*v]...)
	}
	return res
}

// TestInferenceGraphsBuiltOnce: repeated passes of one shape reuse the
// compiled graph and the workspace (no rebuild, no growth), and a smaller
// shape bucket needs no more workspace.
func TestInferenceGraphsBuiltOnce(t *testing.T) {
	m := randomModel(t, smallConfig(false), 6)
	ctx := context.Background()
	ids := randomIDs(4, 50, m.cfg.VocabSize, 13)
	opts := greedyOptions(6)
	_, err := m.GenerateIDs(ctx, ids, opts)
	require.NoError(t, err)
	builds, ws := m.builds, m.ws.bytes()
	for range 3 {
		_, err := m.GenerateIDs(ctx, ids, opts)
		require.NoError(t, err)
		_, err = m.Encode(ctx, ids, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, builds, m.builds, "graphs built by repeating a batch")
	assert.Equal(t, ws, m.ws.bytes(), "workspace bytes after repeating a batch")
	short := randomIDs(4, 20, m.cfg.VocabSize, 14)
	_, err = m.GenerateIDs(ctx, short, opts)
	require.NoError(t, err)
	assert.Equal(t, builds+1, m.builds, "graphs built for a shorter batch")
	assert.Equal(t, ws, m.ws.bytes(), "workspace bytes after a shorter batch")
}

// TestStepDecodingInnerDim decodes with the cached step on models whose
// attention inner dimension (num_heads·d_kv = 60) differs from d_model (48),
// and checks that each sequence's summed log-probability equals the
// teacher-forced ScoreIDs of the same tokens, within 1e-4 + 1e-5·|want|.
// (No MinNewTokens here: its log-probs are, as in transformers, taken after
// </s> is masked, so they differ from the raw teacher-forced ones.)
func TestStepDecodingInnerDim(t *testing.T) {
	for _, gated := range []bool{false, true} {
		cfg := smallConfig(gated)
		require.NotEqual(t, cfg.DModel, cfg.NumHeads*cfg.DKV, "smallConfig must have an inner dimension other than d_model")
		m := randomModel(t, cfg, 7)
		ids := randomIDs(3, 30, cfg.VocabSize, 13)
		ids[0] = ids[0][:12]
		opts := DefaultGenerateOptions()
		opts.DoSample, opts.NumReturnSequences, opts.MaxLength = false, 1, 12
		seqs, err := m.GenerateIDs(context.Background(), ids, opts)
		require.NoError(t, err)
		labels := make([][]int, len(seqs))
		want := make([]float32, len(seqs))
		for i, s := range seqs {
			labels[i] = s.IDs[1:]
			for _, lp := range s.LogProbs {
				want[i] += lp
			}
		}
		scores, err := m.ScoreIDs(context.Background(), ids, labels)
		require.NoError(t, err)
		got := make([]float32, len(scores))
		for i, s := range scores {
			got[i] = float32(s)
		}
		testutil.AllClose(t, "step log-probs vs teacher forcing", got, want, 1e-4, 1e-5)
	}
}
