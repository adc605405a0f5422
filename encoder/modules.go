package encoder

import (
	"fmt"
	"strings"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// param is one weight tensor of the transformer under its hub name (without
// a "bert." / "distilbert." prefix). Every graph binds the same tensor, so an
// optimizer step updates all of them at once.
type param struct {
	name string
	t    *tensor.Dense // float32

	// whole, when set, is the fused parameter (the q, k and v projections
	// stacked) whose values this one's are a view of: inference graphs bind
	// whole, differentiable graphs, the optimizer and checkpoints the parts.
	whole *param
}

// data returns the parameter's values.
func (p *param) data() []float32 { return p.t.Data().([]float32) }

// fuse stacks parts along their first axis into one new parameter and makes
// each part a view of its rows, so that an update of a part (AdamW, a
// resumed checkpoint) is an update of the fused tensor and the reverse.
// The parts must have the same shape after the first axis.
func fuse(name string, parts ...*param) *param {
	shape := parts[0].t.Shape().Clone()
	shape[0] = 0
	total := 0
	for _, p := range parts {
		total += len(p.data())
	}
	all := make([]float32, 0, total) // exactly once: no growth garbage beside the model's weights
	for _, p := range parts {
		all = append(all, p.data()...)
		shape[0] += p.t.Shape()[0]
	}
	whole := &param{name: name, t: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(all))}
	off := 0
	for _, p := range parts {
		n := p.t.Shape().TotalSize()
		p.t = tensor.New(tensor.WithShape(p.t.Shape().Clone()...), tensor.WithBacking(all[off:off+n:off+n]))
		p.whole = whole
		off += n
	}
	return whole
}

// vars reaches a transformer's weights by their place in the checkpoint's
// key tree, as the modules of transformers do by attribute path (candle's
// VarBuilder): each module loads its own leaves below the path it is given.
// Every weight taken is appended to the shared list in load order, which is
// the order of PyTorch's named_parameters when modules load their weights
// in the order they declare them.
type vars struct {
	w    *checkpoint.Weights // nil with init
	path checkpoint.Path
	name string    // key prefix below the model's root ("" at the root)
	list *[]*param // weights taken so far
	// init, when set, makes each weight (values for name and shape)
	// instead of reading it: models with made-up weights (tests, benchmarks).
	init func(name string, shape []int) []float32
}

// newVars returns the vars of a transformer checkpoint whose keys may carry
// the model-type prefix of task-head checkpoints ("bert.", "distilbert.").
func newVars(w *checkpoint.Weights, prefix string) vars {
	root := w.Root()
	for k := range w.Tensors {
		if strings.HasPrefix(k, prefix+".") {
			root = root.Pp(prefix)
			break
		}
	}
	return vars{w: w, path: root, list: new([]*param)}
}

// initVars returns vars that make every weight with init and leave out the
// optional ones.
func initVars(init func(name string, shape []int) []float32) vars {
	return vars{list: new([]*param), init: init}
}

// err reports every missing or misshapen weight the checkpoint lacked.
func (v vars) err() error {
	if v.w == nil {
		return nil
	}
	return v.w.Err()
}

// pp returns the vars one module below v.
func (v vars) pp(name string) vars {
	n := name
	if v.name != "" {
		n = v.name + "." + name
	}
	return vars{w: v.w, path: v.path.Pp(name), name: n, list: v.list, init: v.init}
}

// index returns the vars of the i-th element of a module list below v.
func (v vars) index(i int) vars { return v.pp(fmt.Sprint(i)) }

// get takes the weight leaf below v, checked against shape. A missing or
// misshapen tensor gives nil; the checkpoint's Err reports it.
func (v vars) get(leaf string, shape ...int) *param {
	name := leaf
	if v.name != "" {
		name = v.name + "." + leaf
	}
	var data []float32
	if v.init != nil {
		data = v.init(name, shape)
	} else if t := v.path.Get(leaf, shape...); t != nil {
		data = t.F32
	} else {
		return nil
	}
	p := &param{name: name, t: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))}
	*v.list = append(*v.list, p)
	return p
}

// optional is get for a leaf the checkpoint may lack (nil then).
func (v vars) optional(leaf string, shape ...int) *param {
	if v.init != nil || !v.path.Has(leaf) {
		return nil
	}
	return v.get(leaf, shape...)
}

// linear is torch.nn.Linear: weight (out, in) and bias (out).
type linear struct {
	weight, bias *param
}

func loadLinear(v vars, in, out int) linear {
	return linear{weight: v.get("weight", out, in), bias: v.get("bias", out)}
}

func (l linear) forward(b *builder, x *G.Node) (*G.Node, error) {
	return b.linear(x, l.weight, l.bias)
}

// layerNorm is torch.nn.LayerNorm over the last axis.
type layerNorm struct {
	weight, bias *param
	eps          float64
}

func loadLayerNorm(v vars, d int, eps float64) layerNorm {
	return layerNorm{weight: v.get("weight", d), bias: v.get("bias", d), eps: eps}
}

// addForward is the layer norm of x + res.
func (l layerNorm) addForward(b *builder, x, res *G.Node) (*G.Node, error) {
	return nn.AddLayerNorm(x, res, b.node(l.weight), b.node(l.bias), l.eps)
}

// embedding is torch.nn.Embedding: a [vocab, dim] table.
type embedding struct {
	weight *param
}

func loadEmbedding(v vars, n, d int) embedding { return embedding{weight: v.get("weight", n, d)} }

func (e embedding) forward(b *builder, ids *G.Node) (*G.Node, error) {
	return nn.Embedding(b.node(e.weight), ids)
}

// projections are the query, key and value projections of a self-attention
// module, fused (see fuse) into one [3·D, D] product after loading.
type projections struct {
	q, k, v linear
	fused   linear
}

// fuse stacks the three projections; call it once all weights are loaded.
func (p *projections) fuse() {
	p.fused = linear{
		weight: fuse(p.q.weight.name+"+k+v", p.q.weight, p.k.weight, p.v.weight),
		bias:   fuse(p.q.bias.name+"+k+v", p.q.bias, p.k.bias, p.v.bias),
	}
}

// forward returns the fused projection [B·T, 3·D] of x.
func (p *projections) forward(b *builder, x *G.Node) (*G.Node, error) {
	return b.fusedLinear(x, p.fused, p.q, p.k, p.v)
}

// block is what BERT's and DistilBERT's layers share: a post-LN transformer
// block. BertLayer and DistilBERT's TransformerBlock differ only in their
// modules' names and in BERT's dropout after the attention's output
// projection.
type block struct {
	qkv                  *projections
	attnOut              linear
	attnNorm             layerNorm
	ff1, ff2             linear
	outNorm              layerNorm
	heads                int
	dropAfterAttnOutProj bool
}

// forward is the block's forward pass: h = attnNorm(drop(attnOut(attention))
// + x), then outNorm(drop(ff2(gelu(ff1(h)))) + h).
func (y block) forward(b *builder, x *G.Node, in *batchNodes) (_ *G.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // G.Must
			err = fmt.Errorf("%v", r)
		}
	}()
	qkv := b.into("qkv", G.Must(y.qkv.forward(b, x)))
	ctx := b.into("ctx", G.Must(nn.SelfAttention(qkv, in.addMask, nn.AttentionConfig{Batch: in.b, Heads: y.heads, Dropout: b.attnDrp})))
	a := b.into("o", G.Must(y.attnOut.forward(b, ctx)))
	if y.dropAfterAttnOutProj {
		a = G.Must(nn.DropoutOp(a, b.hidden))
	}
	h := b.residual(G.Must(y.attnNorm.addForward(b, a, x)))
	f := b.into("gelu", G.Must(nn.GELU(b.into("ff1", G.Must(y.ff1.forward(b, h))))))
	o := G.Must(nn.DropoutOp(b.into("ff2", G.Must(y.ff2.forward(b, f))), b.hidden))
	return b.residual(G.Must(y.outNorm.addForward(b, o, h))), nil
}

// embed is the embeddings module BERT and DistilBERT share: the LayerNorm of
// the word embeddings (plus the token-type embeddings when typ is not nil)
// plus the position embeddings, then the hidden dropout. It first rejects
// batches longer than the position table.
func embed(b *builder, cfg *Config, in *batchNodes, word, pos embedding, typ *embedding, norm layerNorm) (*G.Node, error) {
	if err := checkLength(cfg, in.t); err != nil {
		return nil, err
	}
	x, err := b.wordEmbeddings(word, in)
	if err != nil {
		return nil, err
	}
	var t *G.Node
	if typ != nil {
		if t, err = typ.forward(b, in.types); err != nil {
			return nil, err
		}
	}
	p, err := pos.forward(b, in.pos)
	if err != nil {
		return nil, err
	}
	if t != nil {
		if x, err = G.Add(x, t); err != nil {
			return nil, err
		}
	}
	if x, err = norm.addForward(b, x, p); err != nil {
		return nil, err
	}
	return nn.DropoutOp(x, b.hidden)
}

// loaded ends the loading of a model called name: it returns the weights'
// collected errors, or else fuses the q/k/v projections of every layer.
func loaded(v vars, name string, qkv func(i int) *projections, layers int) error {
	if err := v.err(); err != nil {
		return fmt.Errorf("encoder: loading the %s weights: %w", name, err)
	}
	for i := 0; i < layers; i++ {
		qkv(i).fuse()
	}
	return nil
}

// layers runs x through blocks.
func layers(b *builder, blocks []block, x *G.Node, in *batchNodes) (*G.Node, error) {
	var err error
	for i, y := range blocks {
		if x, err = y.forward(b, x, in); err != nil {
			return nil, fmt.Errorf("encoder: layer %d: %w", i, err)
		}
	}
	return x, nil
}

// checkLength rejects sequences longer than the position table.
func checkLength(cfg *Config, t int) error {
	if t > cfg.MaxPositions {
		return fmt.Errorf("encoder: %d tokens exceed max_position_embeddings %d", t, cfg.MaxPositions)
	}
	return nil
}

// transformer is a BERT or DistilBERT body: it maps a tokenized batch to
// token embeddings (the last hidden state).
type transformer interface {
	// params lists the weights the forward pass uses, in the order of
	// PyTorch's named_parameters.
	params() []*param
	// words is the word-embedding table (one of params).
	words() *param
	// extras lists weights that are loaded and saved but unused (BERT's pooler).
	extras() []*param
	// forward builds the token embeddings [B·T, D] of one tokenized batch.
	forward(b *builder, in *batchNodes) (*G.Node, error)
}
