package t5

// The full-sequence passes: encoder hidden states, teacher-forced logits, and
// the seq2seq loss with its gradients.

import (
	"context"
	"errors"
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/nn"
	"gorgonia.org/tensor"
)

// batch is a right-padded [n, s] id matrix with its attention mask, s a
// multiple of lengthBucket.
type batch struct {
	n, s, len int // rows, padded length, longest row
	ids       []int
	mask      []int
}

// padBatch right-pads rows of ids (and their mask; nil means all ones) with
// pad to a multiple of lengthBucket, at least minLen.
func padBatch(ids, mask [][]int, pad, minLen int) (*batch, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("t5: empty batch")
	}
	if mask != nil && len(mask) != len(ids) {
		return nil, fmt.Errorf("t5: %d id rows but %d mask rows", len(ids), len(mask))
	}
	longest := 0
	for i, r := range ids {
		if mask != nil && len(mask[i]) != len(r) {
			return nil, fmt.Errorf("t5: row %d has %d ids but %d mask values", i, len(r), len(mask[i]))
		}
		longest = max(longest, len(r))
	}
	if longest == 0 {
		return nil, fmt.Errorf("t5: every row of the batch is empty (a T5 input holds at least </s>)")
	}
	if err := checkSequenceLength("an input row", longest); err != nil {
		return nil, err
	}
	s := roundUp(max(longest, minLen), lengthBucket)
	b := &batch{n: len(ids), s: s, len: longest, ids: make([]int, len(ids)*s), mask: make([]int, len(ids)*s)}
	for i, r := range ids {
		for j := 0; j < s; j++ {
			b.ids[i*s+j] = pad
		}
		copy(b.ids[i*s:], r)
		for j := range r {
			if mask == nil || mask[i][j] != 0 {
				b.mask[i*s+j] = 1
			}
		}
	}
	return b, nil
}

// selfMask is the additive mask [n, s, s] of encoder self-attention: (1 −
// mask[key]) · min for every query.
func (b *batch) selfMask() []float32 {
	out := make([]float32, b.n*b.s*b.s)
	for i := 0; i < b.n; i++ {
		for q := 0; q < b.s; q++ {
			row := out[(i*b.s+q)*b.s:]
			for k := 0; k < b.s; k++ {
				row[k] = float32(1-b.mask[i*b.s+k]) * minFloat32
			}
		}
	}
	return out
}

// crossBias is the cross-attention bias [n·H, t, s]: 0 for real encoder
// positions and min for padding, for each of t decoder positions.
func (b *batch) crossBias(heads, t int) []float32 {
	out := make([]float32, b.n*heads*t*b.s)
	for i := 0; i < b.n; i++ {
		for h := 0; h < heads; h++ {
			for q := 0; q < t; q++ {
				row := out[((i*heads+h)*t+q)*b.s:]
				for k := 0; k < b.s; k++ {
					row[k] = float32(1-b.mask[i*b.s+k]) * minFloat32
				}
			}
		}
	}
	return out
}

// causalMask is the decoder self-attention mask [n, t, t]: min above the diagonal.
func causalMask(n, t int) []float32 {
	out := make([]float32, n*t*t)
	for i := 0; i < n; i++ {
		for q := 0; q < t; q++ {
			for k := q + 1; k < t; k++ {
				out[(i*t+q)*t+k] = minFloat32
			}
		}
	}
	return out
}

// Encode runs the encoder on right-padded token ids with their attention mask
// (nil: every id is real) and returns its last hidden state [batch, longest
// row, d_model], padded positions included.
func (m *Model) Encode(ctx context.Context, ids, mask [][]int) (*Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.checkIDs(ids, "input id", false); err != nil {
		return nil, err
	}
	b, err := padBatch(ids, mask, m.cfg.PadTokenID, 0)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out, err := m.runEncoder(b, "hidden")
	if err != nil {
		return nil, err
	}
	d := m.cfg.DModel
	res := &Tensor{Shape: []int{b.n, b.len, d}, Data: make([]float32, b.n*b.len*d)}
	for i := 0; i < b.n; i++ {
		copy(res.Data[i*b.len*d:(i+1)*b.len*d], out["hidden"][i*b.s*d:])
	}
	return res, nil
}

// runEncoder runs the encoder graph on b and returns the named outputs. The
// caller holds m.mu.
func (m *Model) runEncoder(b *batch, outs ...string) (map[string][]float32, error) {
	buckets, err := relativeBuckets(b.s, b.len, true, m.cfg)
	if err != nil {
		return nil, err
	}
	g, err := m.encoderGraph(b.n, b.s)
	if err != nil {
		return nil, err
	}
	return g.run(map[string]tensor.Tensor{
		"ids":     intTensor(b.ids),
		"buckets": intTensor(buckets),
		"mask":    floatTensor(b.selfMask(), b.n, b.s, b.s),
	}, outs...)
}

// seq2seqInputs are the inputs of seq2seqGraph for encoder batch b and
// decoder ids [n, t] (t a multiple of lengthBucket, the longest row tl).
func (m *Model) seq2seqInputs(b *batch, dec []int, t, tl int) (map[string]tensor.Tensor, error) {
	encBuckets, err := relativeBuckets(b.s, b.len, true, m.cfg)
	if err != nil {
		return nil, err
	}
	decBuckets, err := relativeBuckets(t, tl, false, m.cfg)
	if err != nil {
		return nil, err
	}
	return map[string]tensor.Tensor{
		"enc_ids":     intTensor(b.ids),
		"enc_buckets": intTensor(encBuckets),
		"enc_mask":    floatTensor(b.selfMask(), b.n, b.s, b.s),
		"dec_ids":     intTensor(dec),
		"dec_buckets": intTensor(decBuckets),
		"dec_mask":    floatTensor(causalMask(b.n, t), b.n, t, t),
		"cross_bias":  floatTensor(b.crossBias(m.cfg.NumHeads, t), b.n*m.cfg.NumHeads, t, b.s),
	}, nil
}

// padRows right-pads rows to length t with fill.
func padRows(rows [][]int, t, fill int) []int {
	out := make([]int, len(rows)*t)
	for i, r := range rows {
		for j := 0; j < t; j++ {
			out[i*t+j] = fill
		}
		copy(out[i*t:], r)
	}
	return out
}

func longest(rows [][]int) int {
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	return n
}

// Logits runs the model teacher-forced: encoder on ids/mask, decoder on
// decoderIDs (each row starting with decoder_start_token_id, rows of any
// length), and returns the logits [batch, longest decoder row, vocab].
func (m *Model) Logits(ctx context.Context, ids, mask, decoderIDs [][]int) (*Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(decoderIDs) != len(ids) {
		return nil, fmt.Errorf("t5: %d encoder rows but %d decoder rows", len(ids), len(decoderIDs))
	}
	if err := errors.Join(m.checkIDs(ids, "input id", false), m.checkIDs(decoderIDs, "decoder id", false)); err != nil {
		return nil, err
	}
	b, err := padBatch(ids, mask, m.cfg.PadTokenID, 0)
	if err != nil {
		return nil, err
	}
	tl := longest(decoderIDs)
	if tl == 0 {
		return nil, fmt.Errorf("t5: empty decoder input (start each row with decoder_start_token_id %d)", m.cfg.DecoderStartTokenID)
	}
	if err := checkSequenceLength("a decoder row", tl); err != nil {
		return nil, err
	}
	t := roundUp(tl, lengthBucket)
	m.mu.Lock()
	defer m.mu.Unlock()
	g, err := m.seq2seqGraph(b.n, b.s, t, false)
	if err != nil {
		return nil, err
	}
	in, err := m.seq2seqInputs(b, padRows(decoderIDs, t, m.cfg.PadTokenID), t, tl)
	if err != nil {
		return nil, err
	}
	out, err := g.run(in, "logits")
	if err != nil {
		return nil, err
	}
	v := m.cfg.VocabSize
	res := &Tensor{Shape: []int{b.n, tl, v}, Data: make([]float32, b.n*tl*v)}
	for i := 0; i < b.n; i++ {
		copy(res.Data[i*tl*v:(i+1)*tl*v], out["logits"][i*t*v:])
	}
	return res, nil
}

// ShiftRight returns the decoder inputs for labels as T5 builds them:
// decoder_start_token_id, then the labels without their last entry, with
// IgnoreIndex replaced by pad.
func (m *Model) ShiftRight(labels []int) []int {
	out := make([]int, len(labels))
	if len(out) == 0 {
		return out
	}
	out[0] = m.cfg.DecoderStartTokenID
	for i := 1; i < len(labels); i++ {
		out[i] = labels[i-1]
		if out[i] == IgnoreIndex {
			out[i] = m.cfg.PadTokenID
		}
	}
	return out
}

// Loss returns the seq2seq cross-entropy of labels given the inputs:
// model(input_ids, attention_mask, labels=labels).loss, the mean over label
// positions that are not IgnoreIndex.
func (m *Model) Loss(ctx context.Context, ids, mask, labels [][]int) (float64, error) {
	loss, _, err := m.lossAndGrad(ctx, ids, mask, labels, false)
	return loss, err
}

// LossAndGrad returns Loss and d loss / d parameter for every parameter by
// its hub name, in PyTorch layout; a tied shared.weight gets the sum over its
// uses (encoder and decoder embeddings and the output layer).
func (m *Model) LossAndGrad(ctx context.Context, ids, mask, labels [][]int) (float64, map[string]*Tensor, error) {
	return m.lossAndGrad(ctx, ids, mask, labels, true)
}

func (m *Model) lossAndGrad(ctx context.Context, ids, mask, labels [][]int, withGrad bool) (float64, map[string]*Tensor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lossAndGradLocked(ctx, ids, mask, labels, withGrad, nil)
}

// lossAndGradLocked is lossAndGrad with m.mu held, with dropout from drop
// in the training graph when it is not nil.
func (m *Model) lossAndGradLocked(ctx context.Context, ids, mask, labels [][]int, withGrad bool, drop *nn.Dropout) (float64, map[string]*Tensor, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if len(labels) != len(ids) {
		return 0, nil, fmt.Errorf("t5: %d encoder rows but %d label rows", len(ids), len(labels))
	}
	if err := errors.Join(m.checkIDs(ids, "input id", false), m.checkIDs(labels, "label", true)); err != nil {
		return 0, nil, err
	}
	b, err := padBatch(ids, mask, m.cfg.PadTokenID, 0)
	if err != nil {
		return 0, nil, err
	}
	tl := longest(labels)
	if tl == 0 {
		return 0, nil, fmt.Errorf("t5: empty labels")
	}
	if err := checkSequenceLength("a label row", tl); err != nil {
		return 0, nil, err
	}
	t := roundUp(tl, lengthBucket)
	lab := padRows(labels, t, IgnoreIndex)
	dec := make([]int, 0, len(lab))
	for i := 0; i < b.n; i++ {
		dec = append(dec, m.ShiftRight(lab[i*t:(i+1)*t])...)
	}
	if !withGrad {
		g, err := m.seq2seqGraph(b.n, b.s, t, false)
		if err != nil {
			return 0, nil, err
		}
		in, err := m.seq2seqInputs(b, dec, t, tl)
		if err != nil {
			return 0, nil, err
		}
		out, err := g.run(in, "logits")
		if err != nil {
			return 0, nil, err
		}
		return crossEntropy(out["logits"], lab, m.cfg.VocabSize)
	}
	g, err := m.seq2seqGraphDrop(b.n, b.s, t, true, drop)
	if err != nil {
		return 0, nil, err
	}
	in, err := m.seq2seqInputs(b, dec, t, tl)
	if err != nil {
		return 0, nil, err
	}
	in["labels"] = intTensor(lab)
	outs := []string{"loss"}
	for name := range g.grads {
		outs = append(outs, name)
	}
	out, err := g.run(in, outs...)
	if err != nil {
		return 0, nil, err
	}
	grads := map[string]*Tensor{}
	for name := range g.grads {
		p := m.mod.byName(name)
		grads[name] = &Tensor{Shape: append([]int(nil), p.Shape...), Data: out[name]}
	}
	return float64(out["loss"][0]), grads, nil
}

// crossEntropy is the mean −log_softmax(logits)[label] over labels that are
// not IgnoreIndex.
func crossEntropy(logits []float32, labels []int, v int) (float64, map[string]*Tensor, error) {
	loss, err := kernel.CrossEntropy(logits, labels, v)
	if err != nil {
		return 0, nil, fmt.Errorf("t5: %w", err)
	}
	return float64(float32(loss)), nil, nil
}
