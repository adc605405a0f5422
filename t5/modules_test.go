package t5

import (
	"context"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maskBias returns the additive bias [n, H, s, t] of bias [H, s, t] (nil:
// zeros) with (1 − keyMask[b][j])·min added to key j of sequence b and,
// when causal, min added above the diagonal: how T5Stack folds the masks
// into the position bias.
func maskBias(bias *Tensor, keyMask [][]int, h, s, t int, causal bool) *Tensor {
	n := len(keyMask)
	out := &Tensor{Shape: []int{n, h, s, t}, Data: make([]float32, n*h*s*t)}
	for b := range n {
		for hd := range h {
			for i := range s {
				for j := range t {
					v := float32(0)
					if bias != nil {
						v = bias.Data[(hd*s+i)*t+j]
					}
					if keyMask[b][j] == 0 || (causal && j > i) {
						v += minFloat32
					}
					out.Data[((b*h+hd)*s+i)*t+j] = v
				}
			}
		}
	}
	return out
}

// embedRows looks ids [n][s] up in the embedding table [vocab, d]: [n, s, d].
func embedRows(table *Tensor, ids [][]int) *Tensor {
	d := table.Shape[1]
	out := &Tensor{Shape: []int{len(ids), len(ids[0]), d}}
	for _, row := range ids {
		for _, id := range row {
			out.Data = append(out.Data, table.Data[id*d:(id+1)*d]...)
		}
	}
	return out
}

// addInPlace adds y to x.
func addInPlace(x, y *Tensor) {
	for i, v := range y.Data {
		x.Data[i] += v
	}
}

// TestModulesComposeTheModel chains the exported modules (LayerNorm,
// Attention with PositionBias, FeedForward) of the fixture checkpoints as
// T5Stack and T5ForConditionalGeneration do, and gets the fixtures'
// encoder.last_hidden_state (|Δ| ≤ 1e-5 + 1e-4·|want|) and teacher-forced
// decoder.logits (|Δ| ≤ 5e-5 + 1e-4·|want|), the tolerances of the whole-model
// tests.
func TestModulesComposeTheModel(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		cfg, mod := m.cfg, m.mod
		ids, mask, decIDs := rows(g.T(t, "input_ids")), rows(g.T(t, "attention_mask")), rows(g.T(t, "decoder_input_ids"))
		n, s, tl, h := len(ids), len(ids[0]), len(decIDs[0]), cfg.NumHeads

		layer := func(x *Tensor, f func(h *Tensor) (*Tensor, error), norm *LayerNorm) {
			hn, err := norm.Forward(x)
			require.NoError(t, err)
			y, err := f(hn)
			require.NoError(t, err)
			addInPlace(x, y)
		}

		x := embedRows(mod.shared, ids)
		pb, err := mod.encoder.biasAttention().PositionBias(s, s)
		require.NoError(t, err)
		bias := maskBias(pb, mask, h, s, s, false)
		for _, bl := range mod.encoder.blocks {
			layer(x, func(hn *Tensor) (*Tensor, error) { return bl.self.attn.Forward(hn, nil, bias) }, bl.self.norm)
			layer(x, bl.ff.ff.Forward, bl.ff.norm)
		}
		enc, err := mod.encoder.final.Forward(x)
		require.NoError(t, err)
		testutil.AllClose(t, "encoder.last_hidden_state", enc.Data, g.T(t, "encoder.last_hidden_state").F32, actAtol, actRtol)

		y := embedRows(mod.shared, decIDs)
		pb, err = mod.decoder.biasAttention().PositionBias(tl, tl)
		require.NoError(t, err)
		ones := make([][]int, n)
		for i := range ones {
			ones[i] = make([]int, tl)
			for j := range ones[i] {
				ones[i][j] = 1
			}
		}
		selfBias, crossBias := maskBias(pb, ones, h, tl, tl, true), maskBias(nil, mask, h, tl, s, false)
		for _, bl := range mod.decoder.blocks {
			layer(y, func(hn *Tensor) (*Tensor, error) { return bl.self.attn.Forward(hn, nil, selfBias) }, bl.self.norm)
			layer(y, func(hn *Tensor) (*Tensor, error) { return bl.cross.attn.Forward(hn, enc, crossBias) }, bl.cross.norm)
			layer(y, bl.ff.ff.Forward, bl.ff.norm)
		}
		dec, err := mod.decoder.final.Forward(y)
		require.NoError(t, err)
		v, d := cfg.VocabSize, cfg.DModel
		scale := mod.headScale(cfg)
		logits := make([]float32, 0, n*tl*v)
		for r := range n * tl {
			row := dec.Data[r*d : (r+1)*d]
			for k := range v {
				var sum float32
				for j, w := range mod.lmHead.Data[k*d : (k+1)*d] {
					sum += scale * row[j] * w
				}
				logits = append(logits, sum)
			}
		}
		testutil.AllClose(t, "decoder.logits", logits, g.T(t, "decoder.logits").F32, logitsAtol, logitsRtol)
	})
}

// TestAttentionForwardBias: a nil bias means the module's own position bias,
// which a [H, s, t] bias broadcasts over the batch exactly as the [n, H, s,
// t] copy of it does; without a table, nil means no bias.
func TestAttentionForwardBias(t *testing.T) {
	m := randomModel(t, smallConfig(false), 3)
	a := m.mod.encoder.biasAttention()
	x := &Tensor{Shape: []int{2, 5, m.cfg.DModel}, Data: make([]float32, 2*5*m.cfg.DModel)}
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	own, err := a.Forward(x, nil, nil)
	require.NoError(t, err)
	pb, err := a.PositionBias(5, 5)
	require.NoError(t, err)
	shared, err := a.Forward(x, nil, pb)
	require.NoError(t, err)
	full, err := a.Forward(x, nil, maskBias(pb, [][]int{{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}}, a.NumHeads, 5, 5, false))
	require.NoError(t, err)
	assert.Equal(t, own.Data, shared.Data)
	assert.Equal(t, own.Data, full.Data)

	noTable := *m.mod.encoder.blocks[1].self.attn
	plain, err := noTable.Forward(x, nil, nil)
	require.NoError(t, err)
	zero, err := noTable.Forward(x, nil, &Tensor{Shape: []int{a.NumHeads, 5, 5}, Data: make([]float32, a.NumHeads*25)})
	require.NoError(t, err)
	assert.Equal(t, zero.Data, plain.Data)
	_, err = noTable.PositionBias(5, 5)
	assert.ErrorContains(t, err, "RelativeAttentionBias")
}

// TestModuleShapeErrors: the exported modules answer inputs and weights of
// the wrong shape with an error naming what is wrong.
func TestModuleShapeErrors(t *testing.T) {
	m := randomModel(t, smallConfig(true), 4)
	d := m.cfg.DModel
	a, ff, norm := m.mod.encoder.biasAttention(), m.mod.encoder.blocks[0].ff.ff, m.mod.encoder.final
	x := &Tensor{Shape: []int{1, 3, d}, Data: make([]float32, 3*d)}
	bad := &Tensor{Shape: []int{1, 3, d + 1}, Data: make([]float32, 3*(d+1))}
	broken := *a
	broken.NumHeads = 7
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"norm input", func() error { _, err := norm.Forward(bad); return err }, "LayerNorm"},
		{"norm weight", func() error { _, err := (&LayerNorm{Eps: 1e-6}).Forward(x); return err }, "LayerNorm.Weight"},
		{"ff input", func() error { _, err := ff.Forward(bad); return err }, "FeedForward"},
		{"ff weights", func() error { _, err := (&FeedForward{Wo: ff.Wo}).Forward(x); return err }, "FeedForward"},
		{"attention input", func() error { _, err := a.Forward(bad, nil, nil); return err }, "Attention"},
		{"attention keys", func() error { _, err := a.Forward(x, bad, nil); return err }, "keys and values"},
		{"attention heads", func() error { _, err := broken.Forward(x, nil, nil); return err }, "heads"},
		{"position bias length", func() error { _, err := a.PositionBias(-1, 3); return err }, "negative"},
		{"attention bias", func() error {
			_, err := a.Forward(x, nil, &Tensor{Shape: []int{1, 3, 3}, Data: make([]float32, 9)})
			return err
		}, "bias"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, tc.run(), tc.want)
		})
	}
}

// TestLoadTakesOwnership: New keeps the weights' own memory (no copy).
func TestLoadTakesOwnership(t *testing.T) {
	cfg, w := fixtureWeights(t)
	m, err := New(cfg, w)
	require.NoError(t, err)
	assert.Same(t, &w["shared.weight"].Data[0], &m.mod.shared.Data[0])
	q := w["decoder.block.1.layer.1.EncDecAttention.q.weight"]
	assert.Same(t, &q.Data[0], &m.mod.decoder.blocks[1].cross.attn.Q.Data[0])
	_, err = m.Logits(context.Background(), [][]int{{5, 1}}, nil, [][]int{{0}})
	require.NoError(t, err)
}
