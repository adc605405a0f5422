package t5

// Incremental decoding: the decoder run one position at a time for n rows
// with a fixed-size key/value cache.
//
// The step is written directly against the float32 GEMM of internal/gemm
// rather than as a gorgonia graph. A tape machine allocates every op's output
// afresh on each run and needs equal batch sizes on both sides of a batched
// product, so the samples of one passage would each need their own copy of
// the encoder's keys and values. Here every buffer is allocated once per
// stepper, the rep rows of a passage read its cross-attention keys and values
// in one small GEMM per head against keys and values packed once per
// generation, the weights are packed once per Model, and the per-head loops
// run on all cores. The arithmetic is the graph's (see model.go):
// T5LayerNorm, unscaled attention with the relative-position bias of block
// 0, ReLU or gated gelu_new feed-forward, d_model^-0.5 before a tied lm_head.

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/genq-go/genq/internal/kernel"
)

// decoderLayer holds one decoder block's weights for the step. Linear
// weights are packed once for internal/gemm (gemm.PackB), so that the
// products with the step's few rows do not repack hundreds of megabytes of
// weights at every position; the self-attention's q, k and v are packed as
// one (d_model, 3·inner) matrix.
type decoderLayer struct {
	selfNorm, crossNorm, ffNorm []float32
	qkv, o, cq, co              *gemm.PackedB
	wi, wi1, wo                 *gemm.PackedB // wi is wi (ReLU) or wi_0 (gated), wi1 is wi_1 or nil
}

// decoderWeights are the weights the step reads: the layers, the final
// layer norm, the packed lm_head (d_model → vocab) and the self-attention
// bias table [buckets, H].
type decoderWeights struct {
	layers       []decoderLayer
	final, table []float32
	head         *gemm.PackedB
}

// decoderWeights returns (building it on first use) the decoder's weights in
// the step's layout. The caller holds m.mu.
func (m *Model) decoderWeights() *decoderWeights {
	if m.dec != nil {
		return m.dec
	}
	raw := func(name string) []float32 { return m.params[name].Data().([]float32) }
	// The graphs keep nn.Linear weights as (in, out): op(B) itself. Several
	// names are packed side by side as one (in, Σ out) matrix.
	lin := func(names ...string) *gemm.PackedB {
		in, total := m.params[names[0]].Shape()[0], 0
		for _, name := range names {
			total += m.params[name].Shape()[1]
		}
		if len(names) == 1 {
			return gemm.PackB(false, in, total, raw(names[0]), total)
		}
		stacked := make([]float32, in*total)
		col := 0
		for _, name := range names {
			w, out := raw(name), m.params[name].Shape()[1]
			for r := 0; r < in; r++ {
				copy(stacked[r*total+col:r*total+col+out], w[r*out:(r+1)*out])
			}
			col += out
		}
		return gemm.PackB(false, in, total, stacked, total)
	}
	dw := &decoderWeights{
		final: raw("decoder.final_layer_norm.weight"),
		table: raw("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"),
	}
	if m.cfg.TieWordEmbeddings {
		// shared.weight is [vocab, d_model]: the transpose of op(B).
		dm := m.cfg.DModel
		dw.head = gemm.PackB(true, dm, m.cfg.VocabSize, raw("shared.weight"), dm)
	} else {
		dw.head = lin("lm_head.weight")
	}
	for i := 0; i < m.cfg.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.layer.", i)
		l := decoderLayer{
			selfNorm:  raw(p + "0.layer_norm.weight"),
			qkv:       lin(p+"0.SelfAttention.q.weight", p+"0.SelfAttention.k.weight", p+"0.SelfAttention.v.weight"),
			o:         lin(p + "0.SelfAttention.o.weight"),
			crossNorm: raw(p + "1.layer_norm.weight"),
			cq:        lin(p + "1.EncDecAttention.q.weight"),
			co:        lin(p + "1.EncDecAttention.o.weight"),
			ffNorm:    raw(p + "2.layer_norm.weight"),
			wo:        lin(p + "2.DenseReluDense.wo.weight"),
		}
		if m.cfg.Gated() {
			l.wi, l.wi1 = lin(p+"2.DenseReluDense.wi_0.weight"), lin(p+"2.DenseReluDense.wi_1.weight")
		} else {
			l.wi = lin(p + "2.DenseReluDense.wi.weight")
		}
		dw.layers = append(dw.layers, l)
	}
	m.dec = dw
	return dw
}

// stepper decodes n rows one position at a time. Row r belongs to passage
// r / rep of the encoded batch.
type stepper struct {
	m          *Model
	n, e, L    int               // rows, encoder length, cache slots
	rep        int               // rows per passage
	k, v       [][]float32       // per decoder layer: cache [n·H, L, d_kv]
	ck, cv     [][]*gemm.PackedB // per decoder layer, per (passage, head): Kᵀ (d_kv → e) and V (e → d_kv), packed
	crossBias  []float32         // [passages, e]: 0 for real encoder positions, min for padding
	pos        int               // the position the next step decodes
	w          *decoderWeights
	x, h       []float32 // [n, d_model] states, normed states
	q          []float32 // [n, inner] cross-attention queries
	qkv        []float32 // [n, 3·inner] the current position's self-attention queries, keys and values
	ctx, out   []float32 // [n, inner] attention context; [n, d_model] sublayer output
	ff, ff1    []float32 // [n, d_ff]
	logits     []float32 // [n, vocab], overwritten by every step
	selfBias   []float32 // [H, L]: the current position's bias to each cache slot
	scratch    [][]float32
	numWorkers int
}

// newStepper prepares decoding of rep rows per passage of the encoded batch b
// (enc holds the encoder graph's ckv<i> outputs) with L cache slots.
// The caller holds m.mu.
func (m *Model) newStepper(b *batch, enc map[string][]float32, rep, L int) (*stepper, error) {
	cfg := m.cfg
	h, d, dm, inner := cfg.NumHeads, cfg.DKV, cfg.DModel, cfg.InnerDim()
	n := b.n * rep
	st := &stepper{m: m, n: n, e: b.s, L: L, rep: rep}
	st.w = m.decoderWeights()
	for i := 0; i < cfg.NumDecoderLayers; i++ {
		ckv := enc[fmt.Sprintf("ckv%d", i)]
		if len(ckv) != b.n*b.s*2*inner {
			return nil, fmt.Errorf("t5: internal error: encoder keys and values of layer %d hold %d values, want %d", i, len(ckv), b.n*b.s*2*inner)
		}
		// Every step multiplies the same keys and values: pack them once.
		ck, cv := make([]*gemm.PackedB, b.n*h), make([]*gemm.PackedB, b.n*h)
		kernel.ForEach(b.n*h, func(_, ph int) {
			p, hd := ph/h, ph%h
			rows := ckv[p*b.s*2*inner:] // this passage's e rows, 2·inner apart
			ck[ph] = gemm.PackB(true, d, b.s, rows[hd*d:], 2*inner)
			cv[ph] = gemm.PackB(false, b.s, d, rows[inner+hd*d:], 2*inner)
		})
		st.ck, st.cv = append(st.ck, ck), append(st.cv, cv)
		st.k = append(st.k, make([]float32, n*h*L*d))
		st.v = append(st.v, make([]float32, n*h*L*d))
	}
	st.crossBias = make([]float32, b.n*b.s)
	for i, mk := range b.mask {
		st.crossBias[i] = float32(1-mk) * minFloat32
	}
	st.x, st.h, st.out = make([]float32, n*dm), make([]float32, n*dm), make([]float32, n*dm)
	st.q, st.qkv, st.ctx = make([]float32, n*inner), make([]float32, n*3*inner), make([]float32, n*inner)
	st.ff = make([]float32, n*cfg.DFF)
	if cfg.Gated() {
		st.ff1 = make([]float32, n*cfg.DFF)
	}
	st.logits = make([]float32, n*cfg.VocabSize)
	st.selfBias = make([]float32, h*L)
	st.numWorkers = max(1, runtime.GOMAXPROCS(0))
	for range st.numWorkers {
		st.scratch = append(st.scratch, make([]float32, rep*max(b.s, L)))
	}
	return st, nil
}

// encoderOutputs names the encoder graph outputs decoding needs.
func (m *Model) encoderOutputs() []string {
	var outs []string
	for i := 0; i < m.cfg.NumDecoderLayers; i++ {
		outs = append(outs, fmt.Sprintf("ckv%d", i))
	}
	return outs
}

// step feeds the current token of every row at position st.pos, stores the
// position's keys and values in the cache and returns the logits [n, vocab].
// The logits buffer is reused by the next step.
func (st *stepper) step(ids []int) ([]float32, error) {
	if st.pos >= st.L {
		return nil, fmt.Errorf("t5: internal error: decoder cache of %d positions is full", st.L)
	}
	if len(ids) != st.n {
		return nil, fmt.Errorf("t5: internal error: %d tokens for %d decoder rows", len(ids), st.n)
	}
	cfg := st.m.cfg
	dm, hh := cfg.DModel, cfg.NumHeads
	emb := st.m.params["shared.weight"].Data().([]float32)
	for r, id := range ids {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("t5: token id %d is outside the vocabulary [0, %d)", id, cfg.VocabSize)
		}
		copy(st.x[r*dm:(r+1)*dm], emb[id*dm:(id+1)*dm])
	}
	// The current position's bias to slot j (j <= pos) is the causal bucket
	// of j − pos; slots after pos are unwritten and take no part.
	for j := 0; j <= st.pos; j++ {
		bk := RelativePositionBucket(j-st.pos, false, cfg.RelativeAttentionNumBuckets, cfg.RelativeAttentionMaxDistance)
		for h := 0; h < hh; h++ {
			st.selfBias[h*st.L+j] = st.w.table[bk*hh+h]
		}
	}
	for i := range st.w.layers {
		st.selfAttention(i)
		st.crossAttention(i)
		st.feedForward(i)
	}
	kernel.RMSNorm(st.h, st.x, st.w.final, cfg.LayerNormEpsilon)
	if cfg.TieWordEmbeddings {
		s := float32(math.Pow(float64(dm), -0.5))
		for i := range st.h {
			st.h[i] *= s
		}
	}
	linear(st.logits, st.h, st.w.head, st.n)
	st.pos++
	return st.logits, nil
}

// selfAttention is T5LayerSelfAttention for the current position: it stores
// the position's keys and values in slot pos of the cache and attends over
// slots 0..pos.
func (st *stepper) selfAttention(i int) {
	cfg := st.m.cfg
	hh, d, inner, L, pos := cfg.NumHeads, cfg.DKV, cfg.InnerDim(), st.L, st.pos
	l := st.w.layers[i]
	kernel.RMSNorm(st.h, st.x, l.selfNorm, cfg.LayerNormEpsilon)
	linear(st.qkv, st.h, l.qkv, st.n)
	kc, vc := st.k[i], st.v[i]
	st.parallel(st.n*hh, func(w, lo, hi int) {
		s := st.scratch[w][:pos+1]
		for rh := lo; rh < hi; rh++ {
			r, h := rh/hh, rh%hh
			in := r*3*inner + h*d // this row's q; its k and v follow at +inner, +2·inner
			slots := rh * L * d
			copy(kc[slots+pos*d:slots+(pos+1)*d], st.qkv[in+inner:in+inner+d])
			copy(vc[slots+pos*d:slots+(pos+1)*d], st.qkv[in+2*inner:in+2*inner+d])
			q := st.qkv[in : in+d]
			for j := range s {
				s[j] = kernel.Dot(q, kc[slots+j*d:slots+(j+1)*d]) + st.selfBias[h*L+j]
			}
			kernel.SoftmaxRow(s, nil)
			off := r*inner + h*d
			c := st.ctx[off : off+d]
			clear(c)
			for j, p := range s {
				kernel.Axpy(p, vc[slots+j*d:slots+(j+1)*d], c)
			}
		}
	})
	linear(st.out, st.ctx, l.o, st.n)
	addTo(st.x, st.out)
}

// crossAttention is T5LayerCrossAttention: each head of each passage's rep
// rows attends to that passage's encoder keys and values in two small GEMMs.
func (st *stepper) crossAttention(i int) {
	cfg := st.m.cfg
	hh, d, inner, e, rep := cfg.NumHeads, cfg.DKV, cfg.InnerDim(), st.e, st.rep
	l := st.w.layers[i]
	kernel.RMSNorm(st.h, st.x, l.crossNorm, cfg.LayerNormEpsilon)
	linear(st.q, st.h, l.cq, st.n)
	ck, cv := st.ck[i], st.cv[i]
	st.parallel(st.n/rep*hh, func(w, lo, hi int) {
		s := st.scratch[w][:rep*e]
		for ph := lo; ph < hi; ph++ {
			p, h := ph/hh, ph%hh
			off := p*rep*inner + h*d
			gemm.SgemmPacked(false, rep, 1, st.q[off:], inner, ck[ph], 0, s, e)
			bias := st.crossBias[p*e : (p+1)*e]
			for r := 0; r < rep; r++ {
				row := s[r*e : (r+1)*e]
				for j, b := range bias {
					row[j] += b
				}
				kernel.SoftmaxRow(row, nil)
			}
			gemm.SgemmPacked(false, rep, 1, s, e, cv[ph], 0, st.ctx[off:], inner)
		}
	})
	linear(st.out, st.ctx, l.co, st.n)
	addTo(st.x, st.out)
}

// feedForward is T5LayerFF: x + wo(relu(wi h)) or x + wo(gelu_new(wi_0 h) ⊙ wi_1 h).
func (st *stepper) feedForward(i int) {
	cfg := st.m.cfg
	l := st.w.layers[i]
	kernel.RMSNorm(st.h, st.x, l.ffNorm, cfg.LayerNormEpsilon)
	linear(st.ff, st.h, l.wi, st.n)
	if l.wi1 != nil {
		linear(st.ff1, st.h, l.wi1, st.n)
		kernel.GatedGELUNew(st.ff, st.ff, st.ff1)
	} else {
		kernel.ReLU(st.ff, st.ff)
	}
	linear(st.out, st.ff, l.wo, st.n)
	addTo(st.x, st.out)
}

// parallel splits [0, total) into contiguous ranges, one per worker.
func (st *stepper) parallel(total int, f func(worker, lo, hi int)) {
	workers := min(st.numWorkers, total)
	if workers <= 1 {
		f(0, 0, total)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, w*total/workers, (w+1)*total/workers)
		}()
	}
	wg.Wait()
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

// linear writes x [rows, in] times the packed weight (in → out) to dst
// [rows, out] (nn.Linear without bias).
func linear(dst, x []float32, w *gemm.PackedB, rows int) {
	gemm.SgemmPacked(false, rows, 1, x, w.K(), w, 0, dst, w.N())
}

// addTo adds y to x elementwise.
func addTo(x, y []float32) {
	for i, v := range y {
		x[i] += v
	}
}
