package t5

import (
	"context"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCachedStepsMatchTeacherForcing is transformers' "past equals no past"
// check: logits from the decoder step with its key/value cache equal the
// logits of one teacher-forced pass over the same decoder inputs, within
// 1e-5 + 1e-4·|want| (wider atol 5e-5 for the gated model's large logits).
func TestCachedStepsMatchTeacherForcing(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		ids := unpadded(t, g)
		seqs := rows(g.T(t, "greedy.sequences"))
		steps := 8
		dec := make([][]int, len(seqs))
		for i := range seqs {
			dec[i] = seqs[i][:steps]
		}
		want, err := m.Logits(context.Background(), ids, nil, dec)
		require.NoError(t, err)
		b, err := padBatch(ids, nil, m.cfg.PadTokenID, 0)
		require.NoError(t, err)
		m.mu.Lock()
		defer m.mu.Unlock()
		enc, err := m.runEncoder(b, m.encoderOutputs()...)
		require.NoError(t, err)
		st, err := m.newStepper(b, enc, 1, 15)
		require.NoError(t, err)
		v := m.cfg.VocabSize
		got := make([]float32, len(want.Data))
		for pos := 0; pos < steps; pos++ {
			tok := make([]int, len(dec))
			for i := range dec {
				tok[i] = dec[i][pos]
			}
			logits, err := st.step(tok)
			require.NoError(t, err)
			for i := range dec {
				copy(got[(i*steps+pos)*v:(i*steps+pos+1)*v], logits[i*v:(i+1)*v])
			}
		}
		testutil.AllClose(t, "step logits vs teacher-forced", got, want.Data, logitsAtol, logitsRtol)
	})
}

// TestBatchEqualsSingle: every passage encoded alone gives the hidden states
// it gets inside the padded batch (within 1e-5 + 1e-4·|want|), and greedy
// decoding gives the same ids for any batch size.
func TestBatchEqualsSingle(t *testing.T) {
	m, g := loadFixture(t, "t5-tiny"), testutil.LoadGolden(t, "t5-tiny")
	ids := unpadded(t, g)
	all, err := m.Encode(context.Background(), ids, nil)
	require.NoError(t, err)
	s, d := all.Shape[1], all.Shape[2]
	for i, row := range ids {
		one, err := m.Encode(context.Background(), [][]int{row}, nil)
		require.NoError(t, err)
		testutil.AllClose(t, "hidden alone vs in batch", one.Data, all.Data[i*s*d:i*s*d+len(row)*d], actAtol, actRtol)
	}
	opts := greedyOptions(12)
	opts.BatchSize = 5
	batched, err := m.GenerateIDs(context.Background(), ids, opts)
	require.NoError(t, err)
	opts.BatchSize = 1
	single, err := m.GenerateIDs(context.Background(), ids, opts)
	require.NoError(t, err)
	for i := range batched {
		assert.Equal(t, single[i].IDs, batched[i].IDs, "passage %d: batch of 5 vs alone", i)
	}
}
