package t5

// The model, in the order modeling_t5.py defines it: T5LayerNorm, the
// feed-forward blocks, T5Attention with its relative-position bias, the
// self-/cross-attention and feed-forward layers, T5Block, T5Stack and
// T5ForConditionalGeneration. Every function adds nodes to a gorgonia graph
// under construction (see graphs.go for the compiled, cached graphs).
//
// A builder makes one of two kinds of graph. Training graphs (infer false)
// use differentiable ops only, each returning a fresh output that the
// backward pass can read. Inference graphs (infer true) fuse each sublayer
// into forward-only ops (infer_ops.go) that run straight on internal/gemm
// and write into the Model's reusable workspace (workspace.go): the q, k and
// v projections in one product, attention without splitting or merging
// heads, the ReLU or gated gelu_new in the product that feeds it, and the
// residual sum in the output projection. Both compute the arithmetic of
// modeling_t5.py; the tests hold both to the same fixtures.

import (
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/nn"
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

	infer bool   // an inference graph: fused forward-only ops on workspace buffers
	stack string // the stack being built ("enc", "dec"), which prefixes buffer roles
	turn  int    // which of the stack's two residual-stream buffers comes next
}

func newBuilder(m *Model, infer bool) *builder {
	return &builder{g: G.NewGraph(), m: m, cfg: m.cfg, params: map[string]*G.Node{}, infer: infer}
}

// out returns where an op writes: in inference graphs the workspace buffer
// of role, which must be unique to the node unless the graph orders every
// reader of the previous value before the next write (see role and
// nextResidual); in training graphs a fresh slice per run.
func (b *builder) out(role string) outBuf {
	if !b.infer {
		return outBuf{}
	}
	return outBuf{b.m.workspace(), role}
}

// role names a buffer shared by the same step of every sublayer of the
// current stack: each sublayer consumes the previous one's output, so the
// readers of one layer's value all run before the next layer writes it.
func (b *builder) role(name string) string { return b.stack + "." + name }

// nextResidual returns the role of the next residual-stream value of the
// current stack. Two buffers alternate: a sublayer reads x from one and
// writes x + f(x) to the other, after which nothing reads the first until
// the next sublayer overwrites it.
func (b *builder) nextResidual() string {
	b.turn ^= 1
	return fmt.Sprintf("%s.x%d", b.stack, b.turn)
}

// project is the inference graphs' fused linear layer: x [N, in] times the
// named weights side by side, times alpha, with act applied and, when
// residual is not nil, residual added; written to the buffer of role.
func (b *builder) project(x, residual *G.Node, alpha float32, act activation, role string, names ...string) *G.Node {
	var ws []*G.Node
	for _, name := range names {
		ws = append(ws, b.param(name))
	}
	return b.fusedLinear(alpha, act, b.out(role), x, residual, ws...)
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
	return b.call(func() (*G.Node, error) { return nn.MatMul(x, y, false, transB) })
}

// embed looks up token ids [N] in shared.weight: [N, d_model].
func (b *builder) embed(ids *G.Node, role string) *G.Node {
	return b.gather(b.out(role), b.param("shared.weight"), ids)
}

// ---------------------------------------------------------------- T5LayerNorm

// layerNorm is T5LayerNorm: RMS norm with a weight and no bias.
func (b *builder) layerNorm(x *G.Node, name, role string) *G.Node {
	return b.rmsNorm(b.cfg.LayerNormEpsilon, b.out(role), x, b.param(name))
}

// linear is a bias-free nn.Linear over x [N, in]; the weight is stored
// transposed to (in, out) so the product needs no transpose.
func (b *builder) linear(x *G.Node, name string) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.MatMul(x, b.param(name), false, false) })
}

// ---------------------------------------------------------------- feed-forward

// denseActDense is T5DenseActDense (v1.0: wo(relu(wi x))) or
// T5DenseGatedActDense (v1.1: wo(gelu_new(wi_0 x) ⊙ wi_1 x)).
func (b *builder) denseActDense(x *G.Node, prefix string) *G.Node {
	if b.cfg.Gated() {
		gate := b.geluNew(b.linear(x, prefix+".wi_0.weight"))
		h := b.mul(gate, b.linear(x, prefix+".wi_1.weight"))
		return b.linear(h, prefix+".wo.weight")
	}
	h := b.call(func() (*G.Node, error) { return G.Rectify(b.linear(x, prefix+".wi.weight")) })
	return b.linear(h, prefix+".wo.weight")
}

// layerFF is T5LayerFF: x + DenseReluDense(layer_norm(x)).
func (b *builder) layerFF(x *G.Node, prefix string) *G.Node {
	h := b.layerNorm(x, prefix+".layer_norm.weight", b.role("h"))
	if !b.infer {
		return b.add(x, b.denseActDense(h, prefix+".DenseReluDense"))
	}
	p := prefix + ".DenseReluDense"
	var f *G.Node
	if b.cfg.Gated() {
		f = b.project(h, nil, 1, actGatedGelu, b.role("ff"), p+".wi_0.weight", p+".wi_1.weight")
	} else {
		f = b.project(h, nil, 1, actReLU, b.role("ff"), p+".wi.weight")
	}
	return b.project(f, x, 1, actNone, b.nextResidual(), p+".wo.weight")
}

// ---------------------------------------------------------------- attention

// splitHeads turns [n·s, H·d_kv] into [n·H, s, d_kv].
func (b *builder) splitHeads(x *G.Node, n, s int) *G.Node {
	h, d := b.cfg.NumHeads, b.cfg.DKV
	return b.permute([4]int{n, s, h, d}, [4]int{0, 2, 1, 3}, tensor.Shape{n * h, s, d}, x)
}

// mergeHeads turns [n·H, s, d_kv] back into [n·s, H·d_kv].
func (b *builder) mergeHeads(x *G.Node, n, s int) *G.Node {
	h, d := b.cfg.NumHeads, b.cfg.DKV
	return b.permute([4]int{n, h, s, d}, [4]int{0, 2, 1, 3}, tensor.Shape{n * s, h * d}, x)
}

// attend is T5's scaled-dot-product attention without the scaling: softmax(q
// kᵀ + bias) v for q [n·H, s, d_kv], k and v [n·H, t, d_kv] and the additive
// bias [n·H, s, t] (relative-position bias plus mask).
func (b *builder) attend(q, k, v, bias *G.Node) *G.Node {
	scores := b.add(b.bmm(q, k, true), bias)
	weights := b.softmax(scores)
	return b.bmm(weights, v, false)
}

// positionBias is T5Attention.compute_bias plus the mask: the bias [n·H, s, t]
// from relative_attention_bias of block 0, looked up by bucket [s·t], with
// the additive mask [n, s, t] added.
func (b *builder) positionBias(table string, buckets, mask *G.Node, n, s, t int, role string) *G.Node {
	return b.relBias(b.out(role), b.param(table), buckets, mask)
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
	h := b.layerNorm(x, prefix+".layer_norm.weight", b.role("h"))
	if !b.infer {
		return b.add(x, b.attention(h, h, bias, prefix+".SelfAttention", n, s, s))
	}
	p, inner := prefix+".SelfAttention", b.cfg.InnerDim()
	qkv := b.project(h, nil, 1, actNone, b.role("qkv"), p+".q.weight", p+".k.weight", p+".v.weight")
	ctx := b.fusedAttention(n, b.cfg.NumHeads, s, s, b.cfg.DKV, 0, inner, 2*inner, b.out(b.role("ctx")), qkv, qkv, bias)
	return b.project(ctx, x, 1, actNone, b.nextResidual(), p+".o.weight")
}

// crossAttentionLayer is T5LayerCrossAttention: x + EncDecAttention(layer_norm(x), encoder output).
func (b *builder) crossAttentionLayer(x, enc, bias *G.Node, prefix string, n, s, t int) *G.Node {
	h := b.layerNorm(x, prefix+".layer_norm.weight", b.role("h"))
	if !b.infer {
		return b.add(x, b.attention(h, enc, bias, prefix+".EncDecAttention", n, s, t))
	}
	p, inner := prefix+".EncDecAttention", b.cfg.InnerDim()
	q := b.project(h, nil, 1, actNone, b.role("q"), p+".q.weight")
	// The keys and values depend on the encoder output alone, so the tape
	// may compute them at any point: their buffer is theirs alone.
	kv := b.project(enc, nil, 1, actNone, p+".kv", p+".k.weight", p+".v.weight")
	ctx := b.fusedAttention(n, b.cfg.NumHeads, s, t, b.cfg.DKV, 0, 0, inner, b.out(b.role("ctx")), q, kv, bias)
	return b.project(ctx, x, 1, actNone, b.nextResidual(), p+".o.weight")
}

// ---------------------------------------------------------------- stacks

// encoderStack is the T5Stack encoder over embeddings x [n·s, d_model] with
// the self-attention bias [n·H, s, s] that block 0 computes and all blocks share.
func (b *builder) encoderStack(x, bias *G.Node, n, s int) *G.Node {
	b.stack = "enc"
	for i := 0; i < b.cfg.NumLayers; i++ {
		p := fmt.Sprintf("encoder.block.%d.layer.", i)
		x = b.selfAttentionLayer(x, bias, p+"0", n, s)
		x = b.layerFF(x, p+"1")
	}
	return b.layerNorm(x, "encoder.final_layer_norm.weight", "enc.final")
}

// decoderStack is the T5Stack decoder over embeddings y [n·t, d_model]
// attending to the encoder output enc [n·s, d_model].
func (b *builder) decoderStack(y, enc, selfBias, crossBias *G.Node, n, t, s int) *G.Node {
	b.stack = "dec"
	for i := 0; i < b.cfg.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.layer.", i)
		y = b.selfAttentionLayer(y, selfBias, p+"0", n, t)
		y = b.crossAttentionLayer(y, enc, crossBias, p+"1", n, t, s)
		y = b.layerFF(y, p+"2")
	}
	return b.layerNorm(y, "decoder.final_layer_norm.weight", "dec.final")
}

// lmHead maps decoder states [N, d_model] to logits [N, vocab]; tied
// embeddings (T5 v1.0) first rescale by d_model^-0.5.
func (b *builder) lmHead(h *G.Node) *G.Node {
	scale := float32(1)
	if b.cfg.TieWordEmbeddings {
		scale = float32(math.Pow(float64(b.cfg.DModel), -0.5))
	}
	if b.infer {
		return b.project(h, nil, scale, actNone, "logits", "lm_head.weight")
	}
	if b.cfg.TieWordEmbeddings {
		h = b.scale(h, scale)
	}
	return b.linear(h, "lm_head.weight")
}

// ---------------------------------------------------------------- decoding

// crossKV projects the encoder output enc [n·s, d_model] to one decoder
// layer's cross-attention keys and values side by side, [n·s, 2·inner]
// (keys in the first inner columns), for the decoder step.
func (b *builder) crossKV(enc *G.Node, layer int) *G.Node {
	p := fmt.Sprintf("decoder.block.%d.layer.1.EncDecAttention", layer)
	if !b.infer {
		return b.concat(1, b.linear(enc, p+".k.weight"), b.linear(enc, p+".v.weight"))
	}
	return b.project(enc, nil, 1, actNone, fmt.Sprintf("enc.ckv%d", layer), p+".k.weight", p+".v.weight")
}
