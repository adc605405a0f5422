package t5

// T5Attention with its relative-position bias (the buckets are in
// bucket.go), then T5LayerSelfAttention and T5LayerCrossAttention, each in
// its three ways of running: graph (differentiable), forward (fused
// inference ops) and step (one decoder position against the key/value
// cache).

import (
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// minFloat32 is torch.finfo(torch.float32).min, the value T5 adds to the
// attention scores of masked positions ((1 − mask) · min).
const minFloat32 = -math.MaxFloat32

// Attention is T5Attention: multi-head attention without the 1/√d_kv
// scaling of the scores, with bias-free q, k, v and o projections and,
// in the first block of a stack, the table of the relative-position bias
// that every block of the stack adds to its scores. There is no dropout:
// the module computes eval-mode outputs.
type Attention struct {
	// Q, K and V are q.weight, k.weight and v.weight [num_heads·d_kv,
	// d_model]; O is o.weight [d_model, num_heads·d_kv] (PyTorch layout).
	Q, K, V, O *Tensor
	// RelativeAttentionBias is relative_attention_bias.weight [num_buckets,
	// num_heads], or nil in the blocks that reuse block 0's bias.
	RelativeAttentionBias *Tensor
	// NumHeads is the number of heads; d_kv is Q's rows over NumHeads.
	NumHeads int
	// IsDecoder selects causal position buckets (the decoder's
	// self-attention) rather than bidirectional ones (the encoder's).
	IsDecoder bool
	// NumBuckets and MaxDistance are relative_attention_num_buckets and
	// relative_attention_max_distance (32 and 128 for T5).
	NumBuckets, MaxDistance int

	packed *packedAttention // the step's weight layout, built on first use
}

// packedAttention holds an Attention's projections packed for the step's
// products: q, k and v side by side for self-attention (qkv), q alone for
// cross-attention, and o.
type packedAttention struct {
	qkv, q, o *gemm.PackedB
}

// loadAttention takes the weights of a T5Attention at v; withBias says
// whether it holds the relative-position table (block 0's self-attention).
func loadAttention(v vars, cfg Config, withBias, isDecoder bool) *Attention {
	d, inner := cfg.DModel, cfg.InnerDim()
	a := &Attention{
		Q:           v.pp("q").get("weight", inner, d),
		K:           v.pp("k").get("weight", inner, d),
		V:           v.pp("v").get("weight", inner, d),
		O:           v.pp("o").get("weight", d, inner),
		NumHeads:    cfg.NumHeads,
		IsDecoder:   isDecoder,
		NumBuckets:  cfg.RelativeAttentionNumBuckets,
		MaxDistance: cfg.RelativeAttentionMaxDistance,
	}
	if withBias {
		a.RelativeAttentionBias = v.pp("relative_attention_bias").get("weight", cfg.RelativeAttentionNumBuckets, cfg.NumHeads)
	}
	return a
}

// dims returns d_model, num_heads·d_kv and d_kv, checking the weights.
func (a *Attention) dims() (d, inner, dkv int, err error) {
	if a.Q == nil || len(a.Q.Shape) != 2 {
		return 0, 0, 0, fmt.Errorf("t5: Attention.Q must be a [num_heads·d_kv, d_model] tensor")
	}
	inner, d = a.Q.Shape[0], a.Q.Shape[1]
	if a.NumHeads <= 0 || inner%a.NumHeads != 0 {
		return 0, 0, 0, fmt.Errorf("t5: Attention with %d heads cannot split %d projection rows", a.NumHeads, inner)
	}
	for _, c := range []struct {
		name string
		w    *Tensor
		r, c int
	}{{"Q", a.Q, inner, d}, {"K", a.K, inner, d}, {"V", a.V, inner, d}, {"O", a.O, d, inner}} {
		if err := c.w.check("Attention."+c.name, c.r, c.c); err != nil {
			return 0, 0, 0, err
		}
	}
	return d, inner, inner / a.NumHeads, nil
}

// PositionBias returns T5Attention.compute_bias for queryLen queries at
// positions 0, 1, … and keyLen keys at positions 0, 1, …: the bias [num_heads,
// queryLen, keyLen] that RelativeAttentionBias gives each pair by the bucket
// of key position − query position (RelativePositionBucket).
func (a *Attention) PositionBias(queryLen, keyLen int) (*Tensor, error) {
	if err := a.RelativeAttentionBias.check("Attention.RelativeAttentionBias", a.NumBuckets, a.NumHeads); err != nil {
		return nil, err
	}
	if queryLen < 0 || keyLen < 0 || a.NumBuckets < 4 || a.MaxDistance <= 0 {
		return nil, fmt.Errorf("t5: PositionBias of %d queries and %d keys over %d buckets up to distance %d: lengths must not be negative, and T5 needs at least 4 buckets and a positive distance",
			queryLen, keyLen, a.NumBuckets, a.MaxDistance)
	}
	if err := checkSequenceLength("PositionBias: a sequence", max(queryLen, keyLen)); err != nil {
		return nil, err
	}
	h := a.NumHeads
	out := &Tensor{Shape: []int{h, queryLen, keyLen}, Data: make([]float32, h*queryLen*keyLen)}
	table := a.RelativeAttentionBias.Data
	for i := 0; i < queryLen; i++ {
		for j := 0; j < keyLen; j++ {
			bk := RelativePositionBucket(j-i, !a.IsDecoder, a.NumBuckets, a.MaxDistance)
			if bk < 0 {
				return nil, fmt.Errorf("t5: PositionBias: relative_attention_max_distance %d with %d buckets gives positions %d apart no valid bucket (transformers fails with an index error there too)", a.MaxDistance, a.NumBuckets, abs(j-i))
			}
			for hd := 0; hd < h; hd++ {
				out.Data[(hd*queryLen+i)*keyLen+j] = table[bk*h+hd]
			}
		}
	}
	return out, nil
}

// Forward attends from x [n, s, d_model] to kv [n, t, d_model] (nil: to x
// itself, self-attention) and returns the output [n, s, d_model] (before
// the layer's residual sum). bias is added to the scores of every head: a
// [num_heads, s, t] bias shared by all n sequences or an [n, num_heads, s,
// t] one, with the mask folded in as T5 does ((1 − mask)·float32 min); nil
// means PositionBias(s, t) when the module holds the table, else none.
func (a *Attention) Forward(x, kv, bias *Tensor) (*Tensor, error) {
	d, inner, dkv, err := a.dims()
	if err != nil {
		return nil, err
	}
	if len(x.Shape) != 3 || x.Shape[2] != d || len(x.Data) != numel(x.Shape...) {
		return nil, fmt.Errorf("t5: Attention over d_model %d needs an input [n, s, %d], got %v", d, d, x.Shape)
	}
	n, s, t := x.Shape[0], x.Shape[1], x.Shape[1]
	if kv != nil {
		if len(kv.Shape) != 3 || kv.Shape[0] != n || kv.Shape[2] != d || len(kv.Data) != numel(kv.Shape...) {
			return nil, fmt.Errorf("t5: Attention from %v needs keys and values [%d, t, %d], got %v", x.Shape, n, d, kv.Shape)
		}
		t = kv.Shape[1]
	}
	var q, k, v []float32
	var kOff, vOff, ldq, ldkv int
	if kv == nil {
		q = linearRows(x.Data, n*s, a.Q, a.K, a.V) // q|k|v side by side
		k, v, kOff, vOff, ldq, ldkv = q, q, inner, 2*inner, 3*inner, 3*inner
	} else {
		q = linearRows(x.Data, n*s, a.Q)
		k = linearRows(kv.Data, n*t, a.K, a.V) // k|v side by side
		v, kOff, vOff, ldq, ldkv = k, 0, inner, inner, 2*inner
	}
	ka, h := a.kernel(n, s, t, dkv, 0, kOff, vOff, ldq, ldkv), a.NumHeads
	var biasData []float32
	switch {
	case bias == nil && a.RelativeAttentionBias != nil:
		if bias, err = a.PositionBias(s, t); err != nil {
			return nil, err
		}
		fallthrough
	case bias != nil && len(bias.Shape) == 3:
		if err := bias.check("Attention bias", h, s, t); err != nil {
			return nil, err
		}
		ka.Bias.Batch = 0 // one bias for every sequence
		biasData = bias.Data
	case bias != nil:
		if err := bias.check("Attention bias", n, h, s, t); err != nil {
			return nil, err
		}
		biasData = bias.Data
	}
	ctx := make([]float32, n*s*inner)
	if err := kernel.Attend(ka, ctx, q, k, v, biasData); err != nil {
		return nil, fmt.Errorf("t5: Attention: %w", err)
	}
	return &Tensor{Shape: []int{n, s, d}, Data: linearRows(ctx, n*s, a.O)}, nil
}

// kernel describes the module's attention for internal/kernel: n sequences
// of s queries over t keys, heads of dkv values; the queries' heads are
// columns qOff… of rows ldq wide, the keys' kOff… and the values' vOff… of
// rows ldkv wide (a fused projection read in place); the bias is one [s, t]
// block per (sequence, head); the output is the heads side by side.
func (a *Attention) kernel(n, s, t, dkv, qOff, kOff, vOff, ldq, ldkv int) *kernel.Attention {
	h := a.NumHeads
	return &kernel.Attention{
		Batch: n, Heads: h, Queries: s, Keys: t, HeadDim: dkv, Scale: 1, // T5 does not scale the scores
		Q:    kernel.Rows(s, ldq, qOff, dkv),
		K:    kernel.Rows(t, ldkv, kOff, dkv),
		V:    kernel.Rows(t, ldkv, vOff, dkv),
		Out:  kernel.Rows(s, h*dkv, 0, dkv),
		Bias: kernel.Blocks(h, s, t),
	}
}

// ---------------------------------------------------------------- graph

// biasGraph is compute_bias plus the mask as a graph node: the bias [n·H, s,
// t] from the module's table, looked up by bucket [s·t], with the additive
// mask [n, s, t] added. The op is differentiable, so training and inference
// graphs share it.
func (a *Attention) biasGraph(b *builder, buckets, mask *G.Node, role string) *G.Node {
	return b.relBias(b.out(role), b.param(a.RelativeAttentionBias), buckets, mask)
}

// attend adds the attention of queries q [n·s, ldq] over keys k and values
// v [n·t, ldkv] (heads from columns qOff, kOff, vOff; q, k and v may be one
// fused projection) with the bias [n·H, s, t] to the graph, written to out:
// kernel.Attend as nn.Attend, differentiable in training graphs.
func (a *Attention) attend(b *builder, q, k, v, bias *G.Node, qOff, kOff, vOff, n, s, t int, out outBuf) *G.Node {
	if b.err != nil {
		return nil
	}
	dkv := b.cfg.DKV
	ka := a.kernel(n, s, t, dkv, qOff, kOff, vOff, q.Shape()[1], k.Shape()[1])
	shape := tensor.Shape{n * s, a.NumHeads * dkv}
	return b.call(func() (*G.Node, error) { return nn.Attend(q, k, v, bias, ka, shape, b.drop, out.opts()...) })
}

// graph is the module in a training graph over full sequences: queries from
// x [n·s, d_model], keys and values from kv [n·t, d_model], the additive bias
// [n·H, s, t]; output [n·s, d_model].
func (a *Attention) graph(b *builder, x, kv, bias *G.Node, n, s, t int) *G.Node {
	q, k, v := b.linear(x, a.Q), b.linear(kv, a.K), b.linear(kv, a.V)
	return b.linear(a.attend(b, q, k, v, bias, 0, 0, 0, n, s, t, outBuf{}), a.O)
}

// ---------------------------------------------------------------- forward

// forwardSelf is the module in an inference graph as self-attention over x
// [n·s, d_model], with residual added to the output: q, k and v in one
// product, attention reading them in place, the residual summed in the o
// product.
func (a *Attention) forwardSelf(b *builder, x, residual, bias *G.Node, n, s int) *G.Node {
	inner := b.cfg.InnerDim()
	qkv := b.project(x, nil, 1, actNone, b.role("qkv"), a.Q, a.K, a.V)
	ctx := a.attend(b, qkv, qkv, qkv, bias, 0, inner, 2*inner, n, s, s, b.out(b.role("ctx")))
	return b.project(ctx, residual, 1, actNone, b.nextResidual(), a.O)
}

// forwardCross is the module in an inference graph as cross-attention from
// x [n·s, d_model] to the encoder output enc [n·t, d_model] of decoder
// block layer, with residual added to the output.
func (a *Attention) forwardCross(b *builder, x, enc, residual, bias *G.Node, n, s, t int, layer int) *G.Node {
	inner := b.cfg.InnerDim()
	q := b.project(x, nil, 1, actNone, b.role("q"), a.Q)
	// The keys and values depend on the encoder output alone, so the tape
	// may compute them at any point: their buffer is theirs alone.
	kv := b.project(enc, nil, 1, actNone, fmt.Sprintf("dec.kv%d", layer), a.K, a.V)
	ctx := a.attend(b, q, kv, kv, bias, 0, 0, inner, n, s, t, b.out(b.role("ctx")))
	return b.project(ctx, residual, 1, actNone, b.nextResidual(), a.O)
}

// ---------------------------------------------------------------- step

// pack returns the module's projections packed for the step.
func (a *Attention) pack(self bool) *packedAttention {
	if a.packed == nil {
		a.packed = &packedAttention{o: packLinear(a.O)}
	}
	p := a.packed
	if self && p.qkv == nil {
		p.qkv = packLinear(a.Q, a.K, a.V)
	}
	if !self && p.q == nil {
		p.q = packLinear(a.Q)
	}
	return p
}

// stepKeysValues projects the encoder output enc [passages·e, d_model] to
// the module's cross-attention keys and values and packs them per (passage,
// head) into ck and cv (repacking what they hold) for stepCross, which
// multiplies them at every step: Kᵀ (d_kv → e) and V (e → d_kv). kv
// [e, 2·inner] is scratch for one passage's keys and values side by side.
func (a *Attention) stepKeysValues(ck, cv []*gemm.PackedB, kv, enc []float32, passages, e int) {
	inner, d := a.K.Shape[0], a.K.Shape[1]
	hh, dkv := a.NumHeads, inner/a.NumHeads
	for p := range passages {
		x := enc[p*e*d : (p+1)*e*d]
		gemm.Sgemm(false, true, e, inner, d, 1, x, d, a.K.Data, d, 0, kv, 2*inner)
		gemm.Sgemm(false, true, e, inner, d, 1, x, d, a.V.Data, d, 0, kv[inner:], 2*inner)
		kernel.ForEach(hh, func(_, h int) {
			ck[p*hh+h] = gemm.RepackB(ck[p*hh+h], true, dkv, e, kv[h*dkv:], 2*inner)
			cv[p*hh+h] = gemm.RepackB(cv[p*hh+h], false, e, dkv, kv[inner+h*dkv:], 2*inner)
		})
	}
}

// stepSelf is the module as the decoder's self-attention for the current
// position of every row, from the normed rows x [n, d_model] to dst: it
// stores the position's keys and values in slot pos of layer's cache
// [n·H, L, d_kv] and attends over slots 0..pos with the bias st.selfBias
// [H, L].
func (a *Attention) stepSelf(st *stepper, layer int, dst, x []float32) error {
	cfg := st.m.cfg
	hh, d, inner, L, pos := a.NumHeads, cfg.DKV, cfg.InnerDim(), st.L, st.pos
	p := a.pack(true)
	linear(st.qkv, x, p.qkv, st.n)
	kc, vc := st.k[layer], st.v[layer]
	for rh := 0; rh < st.n*hh; rh++ {
		in := (rh/hh)*3*inner + (rh%hh)*d // this row's q; its k and v follow at +inner, +2·inner
		slot := (rh*L + pos) * d
		copy(kc[slot:slot+d], st.qkv[in+inner:in+inner+d])
		copy(vc[slot:slot+d], st.qkv[in+2*inner:in+2*inner+d])
	}
	att := &kernel.Attention{
		Batch: st.n, Heads: hh, Queries: 1, Keys: pos + 1, HeadDim: d, Scale: 1,
		Q:    kernel.Rows(1, 3*inner, 0, d),
		K:    kernel.Blocks(hh, L, d),
		V:    kernel.Blocks(hh, L, d),
		Bias: kernel.Layout{Head: L},
		Out:  kernel.Rows(1, inner, 0, d),
	}
	if err := kernel.Attend(att, st.ctx, st.qkv, kc, vc, st.selfBias); err != nil {
		return fmt.Errorf("t5: internal error: decoder self-attention: %w", err)
	}
	linear(dst, st.ctx, p.o, st.n)
	return nil
}

// stepCross is the module as the decoder's cross-attention for the current
// position: the rep rows of each passage are the queries of one attention
// over that passage's encoder keys and values, packed once per generation
// by newStepper, with the padding bias st.crossBias [passages, e].
func (a *Attention) stepCross(st *stepper, layer int, dst, x []float32) error {
	cfg := st.m.cfg
	hh, d, inner, rep := a.NumHeads, cfg.DKV, cfg.InnerDim(), st.rep
	p := a.pack(false)
	linear(st.q, x, p.q, st.n)
	att := &kernel.Attention{
		Batch: st.n / rep, Heads: hh, Queries: rep, Keys: st.e, HeadDim: d, Scale: 1,
		Q:       kernel.Rows(rep, inner, 0, d),
		Bias:    kernel.Layout{Batch: st.e},
		Out:     kernel.Rows(rep, inner, 0, d),
		PackedK: st.ck[layer],
		PackedV: st.cv[layer],
	}
	if err := kernel.Attend(att, st.ctx, st.q, nil, nil, st.crossBias); err != nil {
		return fmt.Errorf("t5: internal error: decoder cross-attention: %w", err)
	}
	linear(dst, st.ctx, p.o, st.n)
	return nil
}

// ---------------------------------------------------------------- layers

// attentionLayer is T5LayerSelfAttention (x + SelfAttention(layer_norm(x)))
// or T5LayerCrossAttention (x + EncDecAttention(layer_norm(x), encoder
// output)).
type attentionLayer struct {
	attn *Attention // SelfAttention or EncDecAttention
	norm *LayerNorm // layer_norm
}

func loadAttentionLayer(v vars, cfg Config, module string, withBias, isDecoder bool) *attentionLayer {
	return &attentionLayer{attn: loadAttention(v.pp(module), cfg, withBias, isDecoder), norm: loadLayerNorm(v.pp("layer_norm"), cfg)}
}

// graphSelf adds the self-attention layer over x [n·s, d_model] with the
// bias [n·H, s, s] to a training or inference graph.
func (l *attentionLayer) graphSelf(b *builder, x, bias *G.Node, n, s int) *G.Node {
	h := l.norm.graph(b, x, b.role("h"))
	if !b.infer {
		return b.add(x, b.dropout(l.attn.graph(b, h, h, bias, n, s, s)))
	}
	return l.attn.forwardSelf(b, h, x, bias, n, s)
}

// graphCross adds the cross-attention layer of decoder block layer, from x
// [n·s, d_model] to the encoder output enc [n·t, d_model] with the bias
// [n·H, s, t], to a training or inference graph.
func (l *attentionLayer) graphCross(b *builder, x, enc, bias *G.Node, n, s, t, layer int) *G.Node {
	h := l.norm.graph(b, x, b.role("h"))
	if !b.infer {
		return b.add(x, b.dropout(l.attn.graph(b, h, enc, bias, n, s, t)))
	}
	return l.attn.forwardCross(b, h, enc, x, bias, n, s, t, layer)
}

// step runs an attention layer of decoder block layer on the step's rows
// st.x in place: attend is l.attn's stepSelf for the self-attention layer,
// its stepCross for the cross-attention layer.
func (l *attentionLayer) step(st *stepper, layer int, attend func(st *stepper, layer int, dst, x []float32) error) error {
	l.norm.step(st.h, st.x)
	if err := attend(st, layer, st.out, st.h); err != nil {
		return err
	}
	addTo(st.x, st.out)
	return nil
}
