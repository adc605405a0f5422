package encoder

import (
	"errors"
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Graph is a Model inside a caller's gorgonia ExprGraph: one float32 node per
// weight of the transformer, bound to the Model's own tensors, which every
// forward pass built on the Graph (Forward: a query tower, a passage tower,
// ...) shares. Put any loss on the towers' Embedding nodes, differentiate it
// with gorgonia.Grad with respect to Params' nodes, run a TapeMachine and
// update the weights with any optimizer; Commit then makes the Model's
// Encode, Save and Fit see the new values.
//
// An optimizer that updates the nodes' values in place (gorgonia's solvers
// do) updates the Model's weights directly; while it does, do not call the
// Model's methods from other goroutines.
//
// Besides Params, each layer's forward pass reads a leaf node of its query,
// key and value weights stacked (named after the query weight, plus
// "+k+v"): the memory the three parameters are views of, so that the three
// projections run as one product. It is no parameter and gets no gradient.
type Graph struct {
	m      *Model
	b      *builder
	params []Param
	towers int
}

// Param is one weight of a Graph.
type Param struct {
	// Name is the weight's checkpoint key without the model prefix, as
	// PyTorch's named_parameters names it (e.g.
	// "transformer.layer.0.attention.q_lin.weight").
	Name string
	// Node is the float32 leaf node holding the weight, in PyTorch's
	// (out, in) layout for linear layers.
	Node *G.Node
}

// GraphOption changes how Model.Graph builds a Graph.
type GraphOption func(*graphOptions)

// graphOptions are the settings of a Graph; the unexported ones are the
// package's own graphs'.
type graphOptions struct {
	prefix  string
	dropout bool
	seed    uint64

	hidden, attn *nn.Dropout // dropout sources (Fit's), overriding dropout/seed
	fused        bool        // bind the fused q/k/v weights (inference graphs: no per-part nodes)
	packed       *nn.Weights // linear layers keep their weights packed (LinearPacked; CPU inference)
	share        bool        // layers share their intermediate buffers (CPU inference)
	gatherWords  bool        // word embeddings come in as inputs gathered outside the graph (Fit)
}

// WithNodePrefix prefixes the names of the Graph's nodes, so that two models
// (a student and a teacher, say) can live in one ExprGraph: gorgonia merges
// leaf nodes of equal name and shape.
func WithNodePrefix(prefix string) GraphOption { return func(o *graphOptions) { o.prefix = prefix } }

// WithDropout builds the Graph in train mode: dropout on the hidden states
// and the attention probabilities with the probabilities of the model's
// config, as torch's model.train() does (the masks do not reproduce
// PyTorch's random stream). Each run draws new masks from a generator
// seeded with seed; Reseed restarts it. Without it a Graph is in eval mode.
func WithDropout(seed uint64) GraphOption {
	return func(o *graphOptions) { o.dropout, o.seed = true, seed }
}

// Graph adds the Model's weights to g as leaf nodes (Params) and returns the
// Graph through which forward passes are built on them (Forward). The nodes
// are bound to the Model's tensors: no weight is copied.
func (m *Model) Graph(g *G.ExprGraph, opts ...GraphOption) (*Graph, error) {
	if g == nil {
		return nil, errors.New("encoder: Graph needs an ExprGraph (gorgonia.NewGraph())")
	}
	var o graphOptions
	for _, f := range opts {
		f(&o)
	}
	if o.dropout {
		o.hidden = nn.NewDropout(m.cfg.HiddenDropout, o.seed)
		o.attn = nn.NewDropout(m.cfg.AttentionDropout, attnSeed(o.seed))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.graph(g, o)
}

// attnSeed derives the attention dropout's seed from a Graph's seed.
func attnSeed(seed uint64) uint64 { return seed ^ 0x9e3779b97f4a7c15 }

// graph builds a Graph with the given options. m.mu must be held.
func (m *Model) graph(g *G.ExprGraph, o graphOptions) (gr *Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			gr, err = nil, fmt.Errorf("encoder: adding the weights to the graph: %v", r)
		}
	}()
	b := &builder{g: g, nodes: map[*param]*G.Node{}, stacks: map[*param]*G.Node{}, prefix: o.prefix,
		hidden: o.hidden, attnDrp: o.attn, fused: o.fused, packed: o.packed, gatherWords: o.gatherWords}
	if o.share {
		b.buffers = map[string]*nn.Buffer{}
	}
	gr = &Graph{m: m, b: b}
	if o.fused {
		return gr, nil // nodes are made as the forward pass needs them
	}
	for _, p := range m.body.params() {
		if o.gatherWords && p == m.body.words() { // gathered outside the graph
			b.gathered = p
			continue
		}
		name := b.prefix + p.name
		if len(g.ByName(name)) > 0 {
			return nil, fmt.Errorf("encoder: the graph already holds a node named %q: build every tower on one Graph (Forward), or give each model's Graph its own WithNodePrefix", name)
		}
		gr.params = append(gr.params, Param{Name: p.name, Node: b.node(p)})
	}
	return gr, nil
}

// Params lists the weights the forward pass uses with their nodes, in the
// order of PyTorch's named_parameters (BERT's unused pooler is left out).
func (gr *Graph) Params() []Param { return append([]Param(nil), gr.params...) }

// Reseed restarts a train-mode Graph's dropout generators from seed, so
// that the masks of the following runs depend only on seed. It does
// nothing in eval mode.
func (gr *Graph) Reseed(seed uint64) {
	gr.b.hidden.Reseed(seed)
	gr.b.attnDrp.Reseed(attnSeed(seed))
}

// Commit writes the values the Params' nodes hold now into the Model
// (where an optimizer gave a node a new tensor instead of updating it in
// place) and tells the Model that its weights changed, so that Encode,
// Save and Fit use the learned values.
func (gr *Graph) Commit() error {
	m := gr.m
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.packs().Changed()
	for p, n := range gr.b.nodes {
		v, ok := n.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("encoder: Commit: node %s holds no dense tensor", n.Name())
		}
		d, ok := v.Data().([]float32)
		want := p.data()
		if !ok || len(d) != len(want) {
			return fmt.Errorf("encoder: Commit: node %s holds %v %v, want float32 %v", n.Name(), v.Dtype(), v.Shape(), p.t.Shape())
		}
		if len(d) > 0 && &d[0] != &want[0] {
			copy(want, d)
		}
	}
	return nil
}

// Tower is one forward pass of a Graph over a batch of Batch sequences of
// SeqLen tokens: its input nodes and what the model computes from them.
// Set the inputs with Bind or BindTexts before each run.
type Tower struct {
	// IDs are the token ids [Batch·SeqLen] (int), row after row.
	IDs *G.Node
	// Mask is the attention mask [Batch, SeqLen] (float32): 1 for a token,
	// 0 for padding.
	Mask *G.Node
	// TypeIDs are BERT's token type ids [Batch·SeqLen] (int); nil for DistilBERT.
	TypeIDs *G.Node
	// Tokens are the token embeddings (the transformer's last hidden
	// state) [Batch·SeqLen, Hidden], padding positions included.
	Tokens *G.Node
	// Embedding are the sentence embeddings [Batch, Model.Dim()]: the
	// pooled tokens, normalized when the model has a Normalize module.
	Embedding *G.Node

	m      *Model
	in     *batchNodes
	pooled *G.Node // before the Normalize module
}

// Forward builds the model's forward pass over batch sequences of seqLen
// tokens on the Graph's weights and returns its nodes.
func (gr *Graph) Forward(batch, seqLen int) (*Tower, error) {
	tw, err := gr.forward(batch, seqLen, fmt.Sprintf("%stower%d.", gr.b.prefix, gr.towers))
	if err == nil {
		gr.towers++
	}
	return tw, err
}

// forward is Forward with the prefix of the input nodes' names.
func (gr *Graph) forward(batch, seqLen int, tag string) (tw *Tower, err error) {
	defer func() {
		if r := recover(); r != nil {
			tw, err = nil, fmt.Errorf("encoder: building the forward pass of %d × %d tokens: %v", batch, seqLen, r)
		}
	}()
	if batch <= 0 || seqLen <= 0 {
		return nil, fmt.Errorf("encoder: a forward pass needs a positive batch size and length, got %d × %d", batch, seqLen)
	}
	m := gr.m
	in, err := gr.b.inputs(batch, seqLen, m.cfg.ModelType == "bert", tag)
	if err != nil {
		return nil, err
	}
	x, err := m.body.forward(gr.b, in)
	if err != nil {
		return nil, err
	}
	pooled, err := m.pooling.Pool(x, in.poolMask)
	if err != nil {
		return nil, err
	}
	emb := pooled
	if m.normalize {
		if emb, err = nn.Normalize(pooled); err != nil {
			return nil, err
		}
	}
	return &Tower{IDs: in.ids, Mask: in.poolMask, TypeIDs: in.types, Tokens: x, Embedding: emb,
		m: m, in: in, pooled: pooled}, nil
}

// Batch is the number of sequences of the forward pass.
func (t *Tower) Batch() int { return t.in.b }

// SeqLen is the number of tokens of each sequence.
func (t *Tower) SeqLen() int { return t.in.t }

// Bind sets the inputs: the token ids, the 0/1 attention mask and BERT's
// token type ids (nil: all 0), Batch rows each, every row of at most SeqLen
// tokens; shorter rows are padded (id 0, mask 0). An id outside the
// vocabulary (or a type id outside type_vocab_size, a mask value other than
// 0 and 1) is an error that names it.
func (t *Tower) Bind(ids, mask, typeIDs [][]int) error {
	if err := t.m.checkIDs(ids, mask, typeIDs); err != nil {
		return err
	}
	return t.in.bind(ids, typeIDs, mask)
}

// BindTexts tokenizes texts as Encode does (strip, the model's lowercasing,
// the model's tokenizer with truncation at MaxSeqLength) and binds them. It
// needs Batch texts whose tokens fit in SeqLen.
func (t *Tower) BindTexts(texts []string) error {
	t.m.mu.Lock()
	enc, err := t.m.tokenize(texts)
	t.m.mu.Unlock()
	if err != nil {
		return err
	}
	return t.in.bind(enc.ids, enc.types, enc.mask)
}

// batchNodes are the input nodes of one tokenized batch of B sequences of T tokens.
type batchNodes struct {
	b, t     int
	ids      *G.Node // [B·T] token ids
	types    *G.Node // [B·T] token type ids (BERT)
	pos      *G.Node // [B·T] position ids 0..T-1 per sequence, bound once
	poolMask *G.Node // [B, T] 0/1 attention mask
	addMask  *G.Node // [B, T] additive attention mask, computed from poolMask

	// words, in Fit's graphs, is the [B·T, D] input of the word
	// embeddings, gathered from table outside the graph by bind (so that
	// their gradient is B·T rows, not a dense [V, D] tensor); flatIDs are the
	// ids of the last bind.
	words    *G.Node
	table    *param
	wordsBuf *tensor.Dense
	flatIDs  []int
}

// builder builds a Graph: it creates each weight's node once, however many
// towers the graph holds.
type builder struct {
	g       *G.ExprGraph
	prefix  string
	nodes   map[*param]*G.Node
	stacks  map[*param]*G.Node // stacked q/k/v nodes, by the fused weight
	hidden  *nn.Dropout        // nil in eval mode
	attnDrp *nn.Dropout

	fused       bool        // the fused q/k/v weights are the nodes
	packed      *nn.Weights // linear layers keep their weights packed (LinearPacked)
	gatherWords bool        // word embeddings come in as inputs
	gathered    *param      // the word-embedding table they are gathered from

	// CPU inference graphs: the output buffers that the same step of every
	// layer shares (see into); nil elsewhere.
	buffers map[string]*nn.Buffer
	turn    int // which of the two residual-stream buffers comes next
}

// into makes n, the output of one step of a layer, write into the buffer of
// role that the same step of every layer shares, in graphs that share
// buffers (and leaves n alone elsewhere). Each layer's readers of such a
// value are ancestors of the layer's output, which every op of the next
// layer depends on, so a value is dead before the next layer overwrites it.
// It panics on error, like G.Must, for the layers' recover.
func (b *builder) into(role string, n *G.Node) *G.Node {
	if b.buffers == nil {
		return n
	}
	buf, ok := b.buffers[role]
	if !ok {
		buf = new(nn.Buffer)
		b.buffers[role] = buf
	}
	if err := nn.ShareOutput(n, buf); err != nil {
		panic(fmt.Errorf("encoder: sharing the %s buffer: %w", role, err))
	}
	return n
}

// residual is into for the residual stream, which alternates between two
// buffers: a layer's block reads x from one and writes its output, the next
// x, to the other.
func (b *builder) residual(n *G.Node) *G.Node {
	b.turn ^= 1
	return b.into(fmt.Sprintf("x%d", b.turn), n)
}

// node returns the graph node bound to p.
func (b *builder) node(p *param) *G.Node {
	n, ok := b.nodes[p]
	if !ok {
		s := p.t.Shape()
		n = G.NewTensor(b.g, tensor.Float32, s.Dims(), G.WithShape(s.Clone()...), G.WithValue(p.t), G.WithName(b.prefix+p.name))
		b.nodes[p] = n
	}
	return n
}

// linear applies the (out, in) weight w and bias bias.
func (b *builder) linear(x *G.Node, w, bias *param) (*G.Node, error) {
	if b.packed != nil {
		return nn.LinearPacked(x, b.node(w), b.node(bias), b.packed)
	}
	return nn.Linear(x, b.node(w), b.node(bias))
}

// fusedLinear applies the projections parts, whose weights fused stacks, as
// one product: over the fused weights' nodes in fused graphs, else over the
// parts' nodes stacked in the graph (so that each part has its gradient;
// nn.Stack reads them in place as long as they are views of the fused
// weights).
func (b *builder) fusedLinear(x *G.Node, fused linear, parts ...linear) (*G.Node, error) {
	if b.fused {
		return b.linear(x, fused.weight, fused.bias)
	}
	stack := func(whole *param, pick func(linear) *param) (*G.Node, error) {
		if n, ok := b.stacks[whole]; ok {
			return n, nil
		}
		ns := make([]*G.Node, len(parts))
		for i, p := range parts {
			ns[i] = b.node(pick(p))
		}
		n, err := nn.Stack(b.node(whole), ns...)
		if err != nil {
			return nil, fmt.Errorf("encoder: stacking %s: %w", whole.name, err)
		}
		b.stacks[whole] = n
		return n, nil
	}
	w, err := stack(fused.weight, func(l linear) *param { return l.weight })
	if err != nil {
		return nil, err
	}
	bias, err := stack(fused.bias, func(l linear) *param { return l.bias })
	if err != nil {
		return nil, err
	}
	return nn.Linear(x, w, bias)
}

// wordEmbeddings returns the word embeddings [B·T, D] of a batch's ids in
// table: an Embedding lookup in the graph, or, with gatherWords, an input
// node that bind fills from table, whose gradient the caller scatters into
// the table's (see wordGrad).
func (b *builder) wordEmbeddings(table embedding, in *batchNodes) (*G.Node, error) {
	if !b.gatherWords {
		return table.forward(b, in.ids)
	}
	d := table.weight.t.Shape()[1]
	in.words = G.NewMatrix(b.g, tensor.Float32, G.WithShape(in.b*in.t, d), G.WithName(b.prefix+"word_embeddings"+in.tag()))
	in.table = table.weight
	in.wordsBuf = tensor.New(tensor.WithShape(in.b*in.t, d), tensor.Of(tensor.Float32))
	return in.words, nil
}

// tag is the suffix that tells a batch's word-embedding input apart.
func (in *batchNodes) tag() string { return "(" + in.ids.Name() + ")" }

// inputs creates the input nodes of a batch of B sequences of T tokens,
// their names prefixed with tag.
func (b *builder) inputs(batch, t int, withTypes bool, tag string) (*batchNodes, error) {
	for _, n := range []string{"input_ids", "attention_mask", "position_ids", "token_type_ids"} {
		if len(b.g.ByName(tag+n)) > 0 {
			return nil, fmt.Errorf("encoder: the graph already holds a node named %q", tag+n)
		}
	}
	pos := make([]int, batch*t)
	for i := range pos {
		pos[i] = i % t
	}
	in := &batchNodes{b: batch, t: t,
		ids:      G.NewVector(b.g, tensor.Int, G.WithShape(batch*t), G.WithName(tag+"input_ids")),
		pos:      G.NewVector(b.g, tensor.Int, G.WithShape(batch*t), G.WithName(tag+"position_ids"), G.WithValue(tensor.New(tensor.WithShape(batch*t), tensor.WithBacking(pos)))),
		poolMask: G.NewMatrix(b.g, tensor.Float32, G.WithShape(batch, t), G.WithName(tag+"attention_mask")),
	}
	if withTypes {
		in.types = G.NewVector(b.g, tensor.Int, G.WithShape(batch*t), G.WithName(tag+"token_type_ids"))
	}
	var err error
	if in.addMask, err = AdditiveMask(in.poolMask); err != nil {
		return nil, err
	}
	return in, nil
}

// AdditiveMask turns a 0/1 attention mask [B, T] (float32 or float64) into
// the additive mask Attention takes: 0 where mask is 1, the most negative
// float32 where it is 0, so that a padding key gets probability 0
// (transformers' extended attention mask).
func AdditiveMask(mask *G.Node) (*G.Node, error) {
	one, big := G.NewConstant(float32(1)), G.NewConstant(float32(math.MaxFloat32))
	if mask.Dtype() == tensor.Float64 {
		one, big = G.NewConstant(1.0), G.NewConstant(math.MaxFloat32)
	}
	d, err := G.Sub(mask, one)
	if err != nil {
		return nil, fmt.Errorf("encoder: additive mask: %w", err)
	}
	add, err := G.Mul(d, big)
	if err != nil {
		return nil, fmt.Errorf("encoder: additive mask: %w", err)
	}
	return add, nil
}

// bind sets a batch's input values: ids, type ids (may be nil) and the 0/1
// attention mask, each B rows of at most T.
func (in *batchNodes) bind(ids, types, mask [][]int) error {
	if len(ids) != in.b || len(mask) != in.b {
		return fmt.Errorf("encoder: %d rows of ids and %d of mask bound to a forward pass of %d sequences", len(ids), len(mask), in.b)
	}
	flat := func(what string, rows [][]int) ([]int, error) {
		out := make([]int, 0, in.b*in.t)
		for i, r := range rows {
			if len(r) > in.t {
				return nil, fmt.Errorf("encoder: row %d of %s has %d tokens; the forward pass takes %d (build one for longer sequences)", i, what, len(r), in.t)
			}
			out = append(out, r...)
			for range in.t - len(r) {
				out = append(out, 0)
			}
		}
		return out, nil
	}
	idv, err := flat("ids", ids)
	if err != nil {
		return err
	}
	mv, err := flat("mask", mask)
	if err != nil {
		return err
	}
	pm := make([]float32, in.b*in.t)
	for i, v := range mv {
		if v != 0 {
			pm[i] = 1
		}
	}
	lets := []struct {
		n *G.Node
		v *tensor.Dense
	}{
		{in.ids, tensor.New(tensor.WithShape(in.b*in.t), tensor.WithBacking(idv))},
		{in.poolMask, tensor.New(tensor.WithShape(in.b, in.t), tensor.WithBacking(pm))},
	}
	if in.types != nil {
		tv := make([]int, in.b*in.t)
		if types != nil {
			if len(types) != in.b {
				return fmt.Errorf("encoder: %d rows of token type ids bound to a forward pass of %d sequences", len(types), in.b)
			}
			if tv, err = flat("token type ids", types); err != nil {
				return err
			}
		}
		lets = append(lets, struct {
			n *G.Node
			v *tensor.Dense
		}{in.types, tensor.New(tensor.WithShape(in.b*in.t), tensor.WithBacking(tv))})
	}
	in.flatIDs = idv
	if in.words != nil {
		if err := in.gather(); err != nil {
			return err
		}
		lets = append(lets, struct {
			n *G.Node
			v *tensor.Dense
		}{in.words, in.wordsBuf})
	}
	for _, l := range lets {
		if err := G.Let(l.n, l.v); err != nil {
			return fmt.Errorf("encoder: binding %s: %w", l.n.Name(), err)
		}
	}
	return nil
}

// gather copies the word embeddings of the bound ids from the table into
// the words input.
func (in *batchNodes) gather() error {
	table, out := in.table.data(), in.wordsBuf.Data().([]float32)
	v, d := in.table.t.Shape()[0], in.table.t.Shape()[1]
	for i, id := range in.flatIDs {
		if id < 0 || id >= v {
			return fmt.Errorf("encoder: token id %d at position %d is outside the vocabulary [0, %d) of %s", id, i, v, in.table.name)
		}
		copy(out[i*d:(i+1)*d], table[id*d:(id+1)*d])
	}
	return nil
}
