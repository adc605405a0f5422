package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/loss"
	G "gorgonia.org/gorgonia"
)

// trainGraph is a compiled training graph for one shape (batch size and the
// padded length of each text column): one tower per column, all sharing the
// weights, the loss over the pooled (and optionally normalized) embeddings,
// and the gradient of every weight the forward pass uses read out after a run.
type trainGraph struct {
	vm     G.VM
	cols   []*batchNodes // one per text column: anchors, positives, hard negatives
	loss   G.Value
	scores G.Value    // MNRL's scores (nil for a loss without Scores)
	params []*param   // the weights with a gradient, in params() order
	slots  []gradSlot // where each one's gradient lies, aligned with params
	grads  []G.Value  // the gradients of the bound (possibly fused) weights

	// the nodes whose values loss, scores and grads take after a run (read
	// from the nodes rather than through gorgonia.Read, which copies them)
	lossNode, scoresNode *G.Node
	gradNodes            []*G.Node
	reads                *cuda.Reader // on a GPU, host copies of loss, wordNodes and grads (see cuda.ReadBack)
	scoresRead           *cuda.Reader // and of the scores

	// the word embeddings' gradient, scattered from the gradients of the
	// towers' gathered rows (wordNodes, one per column) after each run
	words     *wordGrad
	wordNodes []*G.Node
}

// scorer is a loss that also exposes its score matrix (MNRL).
type scorer interface {
	Scores(anchors *G.Node, candidates ...*G.Node) (*G.Node, error)
}

// buildTrain builds and compiles the training graph for batches of b
// examples whose text columns are padded to lens tokens (lens[0] the
// anchors, lens[1] the positives, …), trained with l. hidden and attn are the
// dropout sources (nil to train without dropout).
func (m *Model) buildTrain(b int, lens []int, l loss.Loss, hidden, attn *nn.Dropout) (tg *trainGraph, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoder: building the training graph for %d examples × %v tokens: %v", b, lens, r)
		}
	}()
	bld := newBuilder(G.NewGraph())
	bld.hidden, bld.attnDrp = hidden, attn
	bld.gatherWords = true
	bert := m.cfg.ModelType == "bert"
	tg = &trainGraph{}
	for i, t := range lens {
		tg.cols = append(tg.cols, bld.inputs(b, t, bert, columnTag(i)))
	}
	emb := make([]*G.Node, len(lens))
	for i, in := range tg.cols {
		x, err := m.body.forward(bld, in)
		if err != nil {
			return nil, err
		}
		if emb[i], err = m.pooling.pool(x, in.poolMask); err != nil {
			return nil, err
		}
		if m.normalize {
			if emb[i], err = nn.Normalize(emb[i]); err != nil {
				return nil, err
			}
		}
	}
	var scores *G.Node
	if s, ok := l.(scorer); ok && len(emb) >= 2 {
		if scores, err = s.Scores(emb[0], emb[1:]...); err != nil {
			return nil, err
		}
		// Read back at once: on a GPU the copy then runs before gorgonia's CUDA
		// machine frees the scores' device memory (it frees a reshape of them
		// after the log-softmax reads it).
		if tg.scoresRead, err = cuda.ReadBack(scores); err != nil {
			return nil, fmt.Errorf("encoder: %w", err)
		}
	}
	cost, err := l.Compute(emb, nil)
	if err != nil {
		return nil, err
	}
	if !cost.IsScalar() {
		return nil, fmt.Errorf("encoder: the loss %T returned a node of shape %v; want a scalar", l, cost.Shape())
	}
	var wrt G.Nodes
	index := map[*G.Node]int{}
	for _, p := range m.body.params() {
		if p == bld.gathered {
			tg.params = append(tg.params, p)
			tg.slots = append(tg.slots, gradSlot{node: -1, n: p.t.Shape().TotalSize()})
			continue
		}
		bound := p
		if p.whole != nil {
			bound = p.whole
		}
		n, ok := bld.nodes[bound]
		if !ok {
			continue
		}
		i, seen := index[n]
		if !seen {
			i = len(wrt)
			index[n] = i
			wrt = append(wrt, n)
		}
		tg.params = append(tg.params, p)
		tg.slots = append(tg.slots, gradSlot{node: i, off: p.off, n: p.t.Shape().TotalSize()})
	}
	nparams := len(wrt)
	if bld.gathered != nil {
		for _, in := range tg.cols {
			wrt = append(wrt, in.words)
		}
		s := bld.gathered.t.Shape()
		tg.words = newWordGrad(s[0], s[1])
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		return nil, fmt.Errorf("encoder: differentiating the loss: %w", err)
	}
	if bld.gathered != nil {
		tg.wordNodes = grads[nparams:]
	} else {
		tg.wordNodes = make([]*G.Node, len(tg.cols))
	}
	grads = grads[:nparams]
	tg.lossNode, tg.scoresNode, tg.gradNodes = cost, scores, grads
	tg.grads = make([]G.Value, len(grads))
	if tg.reads, err = cuda.ReadBack(tg.readNodes()...); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if tg.vm, err = cuda.NewMachine(bld.g); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return tg, nil
}

// readNodes lists the nodes a step reads after each run, in the order of
// tg.reads: the loss, the word-embedding gradients of each column (nil
// without them) and the gradients.
func (tg *trainGraph) readNodes() []*G.Node {
	return append(append([]*G.Node{tg.lossNode}, tg.wordNodes...), tg.gradNodes...)
}

// step runs the training graph on one batch, a tokenized batch per column.
func (tg *trainGraph) step(cols ...tokenized) error {
	if len(cols) != len(tg.cols) {
		return fmt.Errorf("encoder: %d text columns bound to a training graph for %d", len(cols), len(tg.cols))
	}
	for i, c := range cols {
		if err := tg.cols[i].bind(c.ids, c.types, c.mask); err != nil {
			return err
		}
	}
	if err := run(tg.vm); err != nil {
		return err
	}
	nodes := tg.readNodes()
	tg.loss = tg.reads.Value(nodes, 0)
	if tg.scoresNode != nil {
		tg.scores = tg.scoresRead.Value([]*G.Node{tg.scoresNode}, 0)
	}
	if tg.words != nil {
		tg.words.reset()
		for i, in := range tg.cols {
			v := tg.reads.Value(nodes, 1+i)
			if v == nil {
				return fmt.Errorf("encoder: the graph left the gradient of %s unset", in.words.Name())
			}
			tg.words.add(in.flatIDs, v.Data().([]float32))
		}
	}
	for i, n := range tg.gradNodes {
		if tg.grads[i] = tg.reads.Value(nodes, 1+len(tg.cols)+i); tg.grads[i] == nil {
			return fmt.Errorf("encoder: the graph left the gradient of %s unset", n.Name())
		}
	}
	return nil
}

// lossValue is the loss of the last run.
func (tg *trainGraph) lossValue() float64 {
	switch v := tg.loss.Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// gradData returns the gradients of the last run, aligned with tg.params.
func (tg *trainGraph) gradData() [][]float32 {
	out := make([][]float32, len(tg.slots))
	for i, s := range tg.slots {
		if s.node < 0 {
			out[i] = tg.words.data
			continue
		}
		out[i] = tg.grads[s.node].Data().([]float32)[s.off : s.off+s.n : s.off+s.n]
	}
	return out
}

// columnTag names the input nodes of text column i: "anchor.", "positive.",
// then "negative1.", "negative2.", ….
func columnTag(i int) string {
	switch i {
	case 0:
		return "anchor."
	case 1:
		return "positive."
	}
	return fmt.Sprintf("negative%d.", i-1)
}

// gradSlot locates a weight's gradient: elements [off, off+n) of the
// gradient of bound node number node (off 0 and the whole gradient, unless
// the weight is part of a fused one); node -1 is the word embeddings' wordGrad.
type gradSlot struct {
	node, off, n int
}
