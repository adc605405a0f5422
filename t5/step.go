package t5

// Incremental decoding: the decoder step graph run position by position with
// a fixed-size key/value cache held in Go.

import (
	"fmt"

	"gorgonia.org/tensor"
)

// stepper decodes n rows one position at a time. Row r belongs to passage
// r / rep of the encoded batch.
type stepper struct {
	m         *Model
	g         *compiled
	n, e, L   int         // rows, encoder length, cache slots
	k, v      [][]float32 // per decoder layer: cache [n·H, L, d_kv]
	ck, cv    [][]float32 // per decoder layer: encoder keys/values [n·H, e, d_kv]
	crossBias []float32   // [n·H, 1, e]
	pos       int         // the position the next step decodes
}

// newStepper prepares decoding of rep rows per passage of the encoded batch b
// (enc holds the encoder graph's ck<i>/cv<i> outputs) with L cache slots.
// The caller holds m.mu.
func (m *Model) newStepper(b *batch, enc map[string][]float32, rep, L int) (*stepper, error) {
	h, d := m.cfg.NumHeads, m.cfg.DKV
	n := b.n * rep
	g, err := m.stepGraph(n, b.s, L)
	if err != nil {
		return nil, err
	}
	st := &stepper{m: m, g: g, n: n, e: b.s, L: L}
	block := h * b.s * d // one row's encoder keys
	expand := func(x []float32) []float32 {
		out := make([]float32, n*block)
		for r := 0; r < n; r++ {
			copy(out[r*block:(r+1)*block], x[(r/rep)*block:])
		}
		return out
	}
	for i := 0; i < m.cfg.NumDecoderLayers; i++ {
		st.k = append(st.k, make([]float32, n*h*L*d))
		st.v = append(st.v, make([]float32, n*h*L*d))
		st.ck = append(st.ck, expand(enc[fmt.Sprintf("ck%d", i)]))
		st.cv = append(st.cv, expand(enc[fmt.Sprintf("cv%d", i)]))
	}
	st.crossBias = make([]float32, n*h*b.s)
	for r := 0; r < n; r++ {
		p := r / rep
		for hh := 0; hh < h; hh++ {
			row := st.crossBias[(r*h+hh)*b.s:]
			for j := 0; j < b.s; j++ {
				row[j] = float32(1-b.mask[p*b.s+j]) * minFloat32
			}
		}
	}
	return st, nil
}

// encoderOutputs names the encoder graph outputs decoding needs.
func (m *Model) encoderOutputs() []string {
	var outs []string
	for i := 0; i < m.cfg.NumDecoderLayers; i++ {
		outs = append(outs, fmt.Sprintf("ck%d", i), fmt.Sprintf("cv%d", i))
	}
	return outs
}

// step feeds the current token of every row at position st.pos, stores the
// position's keys and values in the cache and returns the logits [n, vocab].
func (st *stepper) step(ids []int) ([]float32, error) {
	if st.pos >= st.L {
		return nil, fmt.Errorf("t5: internal error: decoder cache of %d positions is full", st.L)
	}
	cfg := st.m.cfg
	h, d, L := cfg.NumHeads, cfg.DKV, st.L
	// Slots 0..pos-1 hold earlier positions, slots pos..L-1 are unwritten
	// (masked), slot L is the current position itself.
	buckets := make([]int, L+1)
	mask := make([]float32, st.n*(L+1))
	for j := 0; j < L; j++ {
		buckets[j] = RelativePositionBucket(j-st.pos, false, cfg.RelativeAttentionNumBuckets, cfg.RelativeAttentionMaxDistance)
		if j >= st.pos {
			for r := 0; r < st.n; r++ {
				mask[r*(L+1)+j] = minFloat32
			}
		}
	}
	buckets[L] = RelativePositionBucket(0, false, cfg.RelativeAttentionNumBuckets, cfg.RelativeAttentionMaxDistance)
	in := map[string]tensor.Tensor{
		"ids":          intTensor(ids),
		"self_buckets": intTensor(buckets),
		"self_mask":    floatTensor(mask, st.n, 1, L+1),
		"cross_bias":   floatTensor(st.crossBias, st.n*h, 1, st.e),
	}
	outs := []string{"logits"}
	for i := range st.k {
		in[fmt.Sprintf("k%d", i)] = floatTensor(st.k[i], st.n*h, L, d)
		in[fmt.Sprintf("v%d", i)] = floatTensor(st.v[i], st.n*h, L, d)
		in[fmt.Sprintf("ck%d", i)] = floatTensor(st.ck[i], st.n*h, st.e, d)
		in[fmt.Sprintf("cv%d", i)] = floatTensor(st.cv[i], st.n*h, st.e, d)
		outs = append(outs, fmt.Sprintf("nk%d", i), fmt.Sprintf("nv%d", i))
	}
	out, err := st.g.run(in, outs...)
	if err != nil {
		return nil, err
	}
	for i := range st.k {
		nk, nv := out[fmt.Sprintf("nk%d", i)], out[fmt.Sprintf("nv%d", i)]
		for rh := 0; rh < st.n*h; rh++ {
			copy(st.k[i][(rh*L+st.pos)*d:(rh*L+st.pos+1)*d], nk[rh*d:(rh+1)*d])
			copy(st.v[i][(rh*L+st.pos)*d:(rh*L+st.pos+1)*d], nv[rh*d:(rh+1)*d])
		}
	}
	st.pos++
	return out["logits"], nil
}

// reorder makes row r continue from the cache of row from[r] (beam search).
func (st *stepper) reorder(from []int) {
	block := st.m.cfg.NumHeads * st.L * st.m.cfg.DKV
	for i := range st.k {
		for _, c := range []*[]float32{&st.k[i], &st.v[i]} {
			old := *c
			next := make([]float32, len(old))
			for r, f := range from {
				copy(next[r*block:(r+1)*block], old[f*block:(f+1)*block])
			}
			*c = next
		}
	}
}
