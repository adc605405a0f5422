package t5

// The model, in the order modeling_t5.py defines it: T5LayerNorm, the
// feed-forward blocks, T5Attention with its relative-position bias, the
// self-/cross-attention and feed-forward layers, T5Block, T5Stack and
// T5ForConditionalGeneration. Every function adds nodes to a gorgonia graph
// under construction (see graphs.go for the compiled, cached graphs).

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// minFloat32 is torch.finfo(torch.float32).min, the value T5 adds to the
// attention scores of masked positions ((1 − mask) · min).
const minFloat32 = -math.MaxFloat32

// builder adds the T5 computation to one graph. The first error sticks; every
// method is then a no-op that returns nil, so forward code reads without
// error plumbing and the caller checks b.err once.
type builder struct {
	g      *G.ExprGraph
	m      *Model
	cfg    Config
	params map[string]*G.Node
	err    error
}

func newBuilder(m *Model) *builder {
	return &builder{g: G.NewGraph(), m: m, cfg: m.cfg, params: map[string]*G.Node{}}
}

func (b *builder) fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

// param returns the node holding a parameter (graph layout, see Model.params).
func (b *builder) param(name string) *G.Node {
	if n, ok := b.params[name]; ok {
		return n
	}
	t, ok := b.m.params[name]
	if !ok {
		b.fail(fmt.Errorf("t5: internal error: no parameter %q", name))
		return nil
	}
	shape := t.Shape()
	n := G.NewTensor(b.g, tensor.Float32, shape.Dims(), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	b.params[name] = n
	return n
}

// input declares a graph input of the given dtype and shape.
func (b *builder) input(name string, dt tensor.Dtype, shape ...int) *G.Node {
	return G.NewTensor(b.g, dt, len(shape), G.WithShape(shape...), G.WithName(name))
}

func (b *builder) apply(op G.Op, in ...*G.Node) *G.Node {
	if b.err != nil {
		return nil
	}
	n, err := G.ApplyOp(op, in...)
	b.fail(err)
	return n
}

func (b *builder) call(f func() (*G.Node, error)) *G.Node {
	if b.err != nil {
		return nil
	}
	n, err := f()
	b.fail(err)
	return n
}

func (b *builder) add(x, y *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return G.Add(x, y) })
}

func (b *builder) mul(x, y *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return G.HadamardProd(x, y) })
}

func (b *builder) scale(x *G.Node, s float32) *G.Node {
	return b.call(func() (*G.Node, error) { return G.HadamardProd(x, G.NewConstant(s)) })
}

func (b *builder) reshape(x *G.Node, shape ...int) *G.Node {
	return b.call(func() (*G.Node, error) { return G.Reshape(x, tensor.Shape(shape)) })
}

func (b *builder) concat(axis int, xs ...*G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return G.Concat(axis, xs...) })
}

// bmm is a batched matrix product [n, a, k] × [n, k, c], or × [n, c, k]ᵀ when transB.
func (b *builder) bmm(x, y *G.Node, transB bool) *G.Node {
	return b.call(func() (*G.Node, error) { return G.BatchedMatMul(x, y, false, transB) })
}

// embed looks up token ids [N] in shared.weight: [N, d_model].
func (b *builder) embed(ids *G.Node) *G.Node {
	return b.apply(newGather(), b.param("shared.weight"), ids)
}

// ---------------------------------------------------------------- T5LayerNorm

// layerNorm is T5LayerNorm: RMS norm with a weight and no bias.
func (b *builder) layerNorm(x *G.Node, name string) *G.Node {
	return b.apply(newRMSNorm(b.cfg.LayerNormEpsilon), x, b.param(name))
}

// linear is a bias-free nn.Linear over x [N, in]; the weight is stored
// transposed to (in, out) so the product needs no transpose.
func (b *builder) linear(x *G.Node, name string) *G.Node {
	return b.call(func() (*G.Node, error) { return G.Mul(x, b.param(name)) })
}

// ---------------------------------------------------------------- feed-forward

// denseActDense is T5DenseActDense (v1.0: wo(relu(wi x))) or
// T5DenseGatedActDense (v1.1: wo(gelu_new(wi_0 x) ⊙ wi_1 x)).
func (b *builder) denseActDense(x *G.Node, prefix string) *G.Node {
	if b.cfg.Gated() {
		gate := b.apply(newGeluNew(), b.linear(x, prefix+".wi_0.weight"))
		h := b.mul(gate, b.linear(x, prefix+".wi_1.weight"))
		return b.linear(h, prefix+".wo.weight")
	}
	h := b.call(func() (*G.Node, error) { return G.Rectify(b.linear(x, prefix+".wi.weight")) })
	return b.linear(h, prefix+".wo.weight")
}

// layerFF is T5LayerFF: x + DenseReluDense(layer_norm(x)).
func (b *builder) layerFF(x *G.Node, prefix string) *G.Node {
	h := b.layerNorm(x, prefix+".layer_norm.weight")
	return b.add(x, b.denseActDense(h, prefix+".DenseReluDense"))
}

// ---------------------------------------------------------------- attention

// splitHeads turns [n·s, H·d_kv] into [n·H, s, d_kv].
func (b *builder) splitHeads(x *G.Node, n, s int) *G.Node {
	h, d := b.cfg.NumHeads, b.cfg.DKV
	return b.apply(newPermute([4]int{n, s, h, d}, [4]int{0, 2, 1, 3}, tensor.Shape{n * h, s, d}), x)
}

// mergeHeads turns [n·H, s, d_kv] back into [n·s, H·d_kv].
func (b *builder) mergeHeads(x *G.Node, n, s int) *G.Node {
	h, d := b.cfg.NumHeads, b.cfg.DKV
	return b.apply(newPermute([4]int{n, h, s, d}, [4]int{0, 2, 1, 3}, tensor.Shape{n * s, h * d}), x)
}

// attend is T5's scaled-dot-product attention without the scaling: softmax(q
// kᵀ + bias) v for q [n·H, s, d_kv], k and v [n·H, t, d_kv] and the additive
// bias [n·H, s, t] (relative-position bias plus mask).
func (b *builder) attend(q, k, v, bias *G.Node) *G.Node {
	scores := b.add(b.bmm(q, k, true), bias)
	weights := b.apply(newSoftmax(), scores)
	return b.bmm(weights, v, false)
}

// positionBias is T5Attention.compute_bias plus the mask: the bias [n·H, s, t]
// from relative_attention_bias of block 0, looked up by bucket [s·t], with
// the additive mask [n, s, t] added.
func (b *builder) positionBias(table string, buckets, mask *G.Node, n, s, t int) *G.Node {
	return b.apply(newRelBias(n, b.cfg.NumHeads, s, t), b.param(table), buckets, mask)
}

// attention is T5Attention over full sequences: queries from x [n·s, d_model],
// keys and values from kv [n·t, d_model], output [n·s, d_model].
func (b *builder) attention(x, kv, bias *G.Node, prefix string, n, s, t int) *G.Node {
	q := b.splitHeads(b.linear(x, prefix+".q.weight"), n, s)
	k := b.splitHeads(b.linear(kv, prefix+".k.weight"), n, t)
	v := b.splitHeads(b.linear(kv, prefix+".v.weight"), n, t)
	return b.linear(b.mergeHeads(b.attend(q, k, v, bias), n, s), prefix+".o.weight")
}

// selfAttentionLayer is T5LayerSelfAttention: x + SelfAttention(layer_norm(x)).
func (b *builder) selfAttentionLayer(x, bias *G.Node, prefix string, n, s int) *G.Node {
	h := b.layerNorm(x, prefix+".layer_norm.weight")
	return b.add(x, b.attention(h, h, bias, prefix+".SelfAttention", n, s, s))
}

// crossAttentionLayer is T5LayerCrossAttention: x + EncDecAttention(layer_norm(x), encoder output).
func (b *builder) crossAttentionLayer(x, enc, bias *G.Node, prefix string, n, s, t int) *G.Node {
	h := b.layerNorm(x, prefix+".layer_norm.weight")
	return b.add(x, b.attention(h, enc, bias, prefix+".EncDecAttention", n, s, t))
}

// ---------------------------------------------------------------- stacks

// encoderStack is the T5Stack encoder over embeddings x [n·s, d_model] with
// the self-attention bias [n·H, s, s] that block 0 computes and all blocks share.
func (b *builder) encoderStack(x, bias *G.Node, n, s int) *G.Node {
	for i := 0; i < b.cfg.NumLayers; i++ {
		p := fmt.Sprintf("encoder.block.%d.layer.", i)
		x = b.selfAttentionLayer(x, bias, p+"0", n, s)
		x = b.layerFF(x, p+"1")
	}
	return b.layerNorm(x, "encoder.final_layer_norm.weight")
}

// decoderStack is the T5Stack decoder over embeddings y [n·t, d_model]
// attending to the encoder output enc [n·s, d_model].
func (b *builder) decoderStack(y, enc, selfBias, crossBias *G.Node, n, t, s int) *G.Node {
	for i := 0; i < b.cfg.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.layer.", i)
		y = b.selfAttentionLayer(y, selfBias, p+"0", n, t)
		y = b.crossAttentionLayer(y, enc, crossBias, p+"1", n, t, s)
		y = b.layerFF(y, p+"2")
	}
	return b.layerNorm(y, "decoder.final_layer_norm.weight")
}

// lmHead maps decoder states [N, d_model] to logits [N, vocab]; tied
// embeddings (T5 v1.0) first rescale by d_model^-0.5.
func (b *builder) lmHead(h *G.Node) *G.Node {
	if b.cfg.TieWordEmbeddings {
		h = b.scale(h, float32(math.Pow(float64(b.cfg.DModel), -0.5)))
	}
	return b.linear(h, "lm_head.weight")
}

// ---------------------------------------------------------------- decoding

// crossKV projects the encoder output enc [n·s, d_model] to one decoder
// layer's cross-attention keys and values [n·H, s, d_kv].
func (b *builder) crossKV(enc *G.Node, layer, n, s int) (k, v *G.Node) {
	p := fmt.Sprintf("decoder.block.%d.layer.1.EncDecAttention", layer)
	return b.splitHeads(b.linear(enc, p+".k.weight"), n, s), b.splitHeads(b.linear(enc, p+".v.weight"), n, s)
}
