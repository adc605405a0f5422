package encoder

import (
	"errors"
	"fmt"

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
	// stacked) whose values this one's are a view of, from element off on:
	// graphs bind whole, the optimizer and checkpoints see the parts.
	whole *param
	off   int
}

// data returns the parameter's values.
func (p *param) data() []float32 { return p.t.Data().([]float32) }

// fuse stacks parts along their first axis into one new parameter and makes
// each part a view of its rows, so that an update of a part (AdamW, a
// resumed checkpoint) is an update of the fused tensor and the reverse.
// The parts must have the same shape after the first axis.
func fuse(name string, parts ...*param) *param {
	shape := parts[0].t.Shape().Clone()
	var all []float32
	for _, p := range parts {
		all = append(all, p.data()...)
	}
	shape[0] = 0
	for _, p := range parts {
		shape[0] += p.t.Shape()[0]
	}
	whole := &param{name: name, t: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(all))}
	off := 0
	for _, p := range parts {
		n := p.t.Shape().TotalSize()
		p.t = tensor.New(tensor.WithShape(p.t.Shape().Clone()...), tensor.WithBacking(all[off:off+n:off+n]))
		p.whole, p.off = whole, off
		off += n
	}
	return whole
}

// transformer is a BERT or DistilBERT body: it maps a tokenized batch to
// token embeddings (the last hidden state).
type transformer interface {
	// params lists the trainable weights the forward pass uses, in the order
	// of PyTorch's named_parameters.
	params() []*param
	// extras lists weights that are loaded and saved but unused (BERT's pooler).
	extras() []*param
	// forward builds the token embeddings [B·T, D] of one tokenized batch.
	forward(b *builder, in *batchNodes) (*G.Node, error)
}

// batchNodes are the input nodes of one tokenized batch of B sequences of T tokens.
type batchNodes struct {
	b, t     int
	ids      *G.Node // [B·T] token ids
	types    *G.Node // [B·T] token type ids (BERT)
	pos      *G.Node // [B·T] position ids 0..T-1 per sequence
	addMask  *G.Node // [B, T] additive attention mask
	poolMask *G.Node // [B, T] 0/1 mask for pooling
	tag      string  // prefix of the nodes' names

	// words, in training graphs, is the [B·T, D] input of the word
	// embeddings, gathered from table outside the graph by bind (so that
	// their gradient is B·T rows, not a dense [V, D] tensor); flatIDs are the
	// ids of the last bind.
	words    *G.Node
	table    *param
	wordsBuf *tensor.Dense
	flatIDs  []int
}

// builder builds one graph: it creates each weight's node once, however many
// batches (query and passage towers) the graph holds.
type builder struct {
	g       *G.ExprGraph
	nodes   map[*param]*G.Node
	hidden  *nn.Dropout // nil in inference graphs
	attnDrp *nn.Dropout

	packed      *nn.Weights // inference graphs: linear layers keep their weights packed (LinearPacked)
	gatherWords bool        // word embeddings come in as inputs (training graphs)
	gathered    *param      // the word-embedding table they were gathered from

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

func newBuilder(g *G.ExprGraph) *builder {
	return &builder{g: g, nodes: map[*param]*G.Node{}}
}

// node returns the graph node bound to p.
func (b *builder) node(p *param) *G.Node {
	n, ok := b.nodes[p]
	if !ok {
		s := p.t.Shape()
		n = G.NewTensor(b.g, tensor.Float32, s.Dims(), G.WithShape(s.Clone()...), G.WithValue(p.t), G.WithName(p.name))
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

// wordEmbeddings returns the word embeddings [B·T, D] of a batch's ids in
// table: an Embedding lookup in the graph, or, with gatherWords, an input
// node that bind fills from table, whose gradient the caller scatters into
// the table's (see wordGrad).
func (b *builder) wordEmbeddings(table *param, in *batchNodes) (*G.Node, error) {
	if !b.gatherWords {
		return nn.Embedding(b.node(table), in.ids)
	}
	d := table.t.Shape()[1]
	in.words = G.NewMatrix(b.g, tensor.Float32, G.WithShape(in.b*in.t, d), G.WithName(in.tag+"word_embeddings"))
	in.table = table
	in.wordsBuf = tensor.New(tensor.WithShape(in.b*in.t, d), tensor.Of(tensor.Float32))
	b.gathered = table
	return in.words, nil
}

// addNorm applies a layer norm with weight w, bias bias and eps to x + res.
func (b *builder) addNorm(x, res *G.Node, w, bias *param, eps float64) (*G.Node, error) {
	return nn.AddLayerNorm(x, res, b.node(w), b.node(bias), eps)
}

// inputs creates the input nodes of a batch of B sequences of T tokens.
func (b *builder) inputs(batch, t int, withTypes bool, tag string) *batchNodes {
	vec := func(name string) *G.Node {
		return G.NewVector(b.g, tensor.Int, G.WithShape(batch*t), G.WithName(tag+name))
	}
	mat := func(name string) *G.Node {
		return G.NewMatrix(b.g, tensor.Float32, G.WithShape(batch, t), G.WithName(tag+name))
	}
	in := &batchNodes{b: batch, t: t, ids: vec("input_ids"), pos: vec("position_ids"),
		addMask: mat("additive_mask"), poolMask: mat("attention_mask"), tag: tag}
	if withTypes {
		in.types = vec("token_type_ids")
	}
	return in
}

// bind sets a batch's input values: ids, type ids (may be nil) and the 0/1
// attention mask, each B rows of T.
func (in *batchNodes) bind(ids, types, mask [][]int) error {
	if len(ids) != in.b || len(mask) != in.b {
		return fmt.Errorf("encoder: batch of %d rows bound to a graph for %d", len(ids), in.b)
	}
	flat := func(rows [][]int) ([]int, error) {
		out := make([]int, 0, in.b*in.t)
		for _, r := range rows {
			if len(r) > in.t {
				return nil, fmt.Errorf("encoder: row of %d tokens bound to a graph for %d", len(r), in.t)
			}
			out = append(out, r...)
			for range in.t - len(r) {
				out = append(out, 0)
			}
		}
		return out, nil
	}
	idv, err := flat(ids)
	if err != nil {
		return err
	}
	mv, err := flat(mask)
	if err != nil {
		return err
	}
	pos := make([]int, in.b*in.t)
	add := make([]float32, in.b*in.t)
	pm := make([]float32, in.b*in.t)
	for i := range pos {
		pos[i] = i % in.t
		if mv[i] != 0 {
			pm[i] = 1
		} else {
			add[i] = nn.MaskedValue
		}
	}
	lets := []struct {
		n *G.Node
		v *tensor.Dense
	}{
		{in.ids, tensor.New(tensor.WithShape(in.b*in.t), tensor.WithBacking(idv))},
		{in.pos, tensor.New(tensor.WithShape(in.b*in.t), tensor.WithBacking(pos))},
		{in.addMask, tensor.New(tensor.WithShape(in.b, in.t), tensor.WithBacking(add))},
		{in.poolMask, tensor.New(tensor.WithShape(in.b, in.t), tensor.WithBacking(pm))},
	}
	if in.types != nil {
		tv := make([]int, in.b*in.t)
		if types != nil {
			if tv, err = flat(types); err != nil {
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

// loader reads a transformer's weights by hub name, with or without the
// model-type prefix ("bert.", "distilbert.") that task-head checkpoints use.
type loader struct {
	w      *checkpoint.Weights
	prefix string
	errs   []error
}

// get returns the named weight with the given shape, recording an error
// (missing tensor, wrong shape) for err.
func (l *loader) get(name string, shape ...int) *param {
	t, err := l.w.Get(shape, name, l.prefix+name)
	if err != nil {
		l.errs = append(l.errs, err)
		return nil
	}
	data := append([]float32{}, t.F32...)
	return &param{name: name, t: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))}
}

// optional returns the named weight, or nil when the checkpoint lacks it.
func (l *loader) optional(name string, shape ...int) *param {
	if _, ok := l.w.Tensors[name]; !ok {
		if _, ok := l.w.Tensors[l.prefix+name]; !ok {
			return nil
		}
	}
	return l.get(name, shape...)
}

// err reports every missing or misshapen weight at once.
func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return fmt.Errorf("encoder: %d weight(s) missing or misshapen in %s:\n%w", len(l.errs), l.w.Source, errors.Join(l.errs...))
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
