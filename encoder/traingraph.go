package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/devopt"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/loss"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainGraph is a compiled training graph for one shape (batch size and the
// padded length of each text column), built through the public path
// (Model.Graph, one Forward per column): the towers share the weights, the
// loss follows their sentence embeddings, and the gradient of every weight
// the forward pass uses is read out after a run.
type trainGraph struct {
	vm     G.VM
	cols   []*batchNodes // one per text column: anchors, positives, hard negatives
	loss   G.Value
	scores G.Value   // the loss's score matrix (nil for a loss without one)
	params []*param  // the weights with a gradient, in params() order
	grads  []G.Value // their gradients (nil for the word embeddings: see words)

	// the nodes whose values loss, scores and grads take after a run (read
	// from the nodes rather than through gorgonia.Read, which copies them)
	lossNode, scoresNode *G.Node
	gradNodes            []*G.Node    // aligned with params; nil for the word embeddings
	reads                *cuda.Reader // on a GPU, host copies of loss, wordNodes and grads (see cuda.ReadBack)
	scoresRead           *cuda.Reader // and of the scores

	// the word embeddings' gradient, scattered from the gradients of the
	// towers' gathered rows (wordNodes, one per column) after each run
	words     *wordGrad
	wordNodes []*G.Node

	// labels is the [B, L] float32 input of the examples' labels (nil for
	// a loss trained without them).
	labels *G.Node
	// keepWords makes step add into words without resetting it first (the
	// gradient-caching graphs, which share one accumulator).
	keepWords bool
	// dev, when not nil, takes the gradients on the device (see
	// devopt.Optimizer.Feed): a run then reads back only the loss.
	dev *devopt.Optimizer
}

// scorer is a loss that also exposes its score matrix (MNRL).
type scorer interface {
	Scores(anchors *G.Node, candidates ...*G.Node) (*G.Node, error)
}

// buildTrain builds and compiles the training graph for batches of b
// examples whose text columns are padded to lens tokens (lens[0] the
// anchors, lens[1] the positives, …), trained with l without labels.
// hidden and attn are the dropout sources (nil to train without dropout).
func (m *Model) buildTrain(b int, lens []int, l loss.Loss, hidden, attn *nn.Dropout) (*trainGraph, error) {
	return m.buildTrainLabeled(b, lens, l, 0, hidden, attn, nil)
}

// buildTrainLabeled is buildTrain for examples with nlabels labels each
// (0: none): the graph gets a [b, nlabels] labels input that the loss takes.
// dev, when not nil, takes the gradients on the device.
func (m *Model) buildTrainLabeled(b int, lens []int, l loss.Loss, nlabels int, hidden, attn *nn.Dropout, dev *devopt.Optimizer) (*trainGraph, error) {
	var labels *G.Node
	tg, err := m.buildTrainGraph(b, lens, func(emb []*G.Node) (cost, scores *G.Node, err error) {
		if nlabels > 0 {
			labels = G.NewMatrix(emb[0].Graph(), tensor.Float32, G.WithShape(b, nlabels), G.WithName("labels"))
		}
		if s, ok := l.(scorer); ok && len(emb) >= 2 {
			if scores, err = s.Scores(emb[0], emb[1:]...); err != nil {
				return nil, nil, err
			}
		}
		if cost, err = l.Compute(emb, labels); err != nil {
			return nil, nil, err
		}
		if !cost.IsScalar() {
			return nil, nil, fmt.Errorf("encoder: the loss %T returned a node of shape %v; want a scalar", l, cost.Shape())
		}
		return cost, scores, nil
	}, hidden, attn, nil, dev)
	if err != nil {
		return nil, err
	}
	tg.labels = labels
	return tg, nil
}

// objective builds a training loss on the sentence embeddings of each text
// column, and optionally the score matrix to read after each run.
type objective func(embeddings []*G.Node) (cost, scores *G.Node, err error)

// buildTrainGraph builds and compiles the training graph for batches of b
// examples whose text columns are padded to lens tokens (lens[0] the
// anchors, lens[1] the positives, …), trained on obj. hidden and attn are
// the dropout sources (nil to train without dropout). words, when not nil,
// is the accumulator of the word embeddings' gradient the graph adds into
// (by default it gets its own). dev, when not nil, takes the gradients on
// the device instead (see trainGraph.dev).
func (m *Model) buildTrainGraph(b int, lens []int, obj objective, hidden, attn *nn.Dropout, words *wordGrad, dev *devopt.Optimizer) (tg *trainGraph, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoder: building the training graph for %d examples × %v tokens: %v", b, lens, r)
		}
	}()
	gr, err := m.graph(G.NewGraph(), graphOptions{hidden: hidden, attn: attn, gatherWords: true})
	if err != nil {
		return nil, err
	}
	tg = &trainGraph{}
	emb := make([]*G.Node, len(lens))
	for i, t := range lens {
		tw, err := gr.forward(b, t, columnTag(i))
		if err != nil {
			return nil, err
		}
		tg.cols, emb[i] = append(tg.cols, tw.in), tw.Embedding
	}
	cost, scores, err := obj(emb)
	if err != nil {
		return nil, err
	}
	if scores != nil {
		// Read back at once: on a GPU the copy then runs before gorgonia's
		// CUDA machine frees the scores' device memory (it frees a reshape of
		// them after the log-softmax reads it).
		if tg.scoresRead, err = cuda.ReadBack(scores); err != nil {
			return nil, fmt.Errorf("encoder: %w", err)
		}
	}
	var wrt G.Nodes
	node := map[string]*G.Node{}
	for _, p := range gr.Params() {
		node[p.Name] = p.Node
	}
	for _, p := range m.body.params() {
		tg.params = append(tg.params, p)
		if p == gr.b.gathered {
			continue
		}
		n, ok := node[p.name]
		if !ok {
			return nil, fmt.Errorf("encoder: weight %s has no node", p.name)
		}
		wrt = append(wrt, n)
	}
	nparams := len(wrt)
	if gr.b.gathered != nil {
		for _, in := range tg.cols {
			wrt = append(wrt, in.words)
		}
		s := gr.b.gathered.t.Shape()
		if tg.words = words; words == nil {
			tg.words = newWordGrad(s[0], s[1])
		}
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		return nil, fmt.Errorf("encoder: differentiating the loss: %w", err)
	}
	tg.wordNodes = make([]*G.Node, len(tg.cols))
	if gr.b.gathered != nil {
		copy(tg.wordNodes, grads[nparams:])
	}
	tg.gradNodes = make([]*G.Node, len(tg.params))
	for i, j := 0, 0; i < len(tg.params); i++ {
		if tg.params[i] != gr.b.gathered {
			tg.gradNodes[i] = grads[j]
			j++
		}
	}
	tg.lossNode, tg.scoresNode = cost, scores
	tg.grads = make([]G.Value, len(tg.params))
	if tg.dev = dev; dev != nil {
		if err := tg.feed(gr.b.gathered); err != nil {
			return nil, err
		}
	}
	if tg.reads, err = cuda.ReadBack(tg.readNodes()...); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if tg.vm, err = cuda.NewMachine(gr.b.g); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return tg, nil
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

// feed hands every gradient to tg.dev on the device; gathered is the word
// embeddings, whose gradient comes as the columns' gathered rows.
func (tg *trainGraph) feed(gathered *param) error {
	for i, n := range tg.wordNodes {
		if n != nil {
			in := tg.cols[i]
			if err := tg.dev.FeedRows(n, gathered.name, func() []int { return in.flatIDs }); err != nil {
				return fmt.Errorf("encoder: %w", err)
			}
		}
	}
	for i, n := range tg.gradNodes {
		if n != nil {
			if err := tg.dev.Feed(n, tg.params[i].name); err != nil {
				return fmt.Errorf("encoder: %w", err)
			}
		}
	}
	return nil
}

// readNodes lists the nodes a step reads after each run, in the order of
// tg.reads: the loss, the word-embedding gradient of each column (nil
// without them) and the gradients of the other weights; only the loss when
// the gradients go to a device optimizer.
func (tg *trainGraph) readNodes() []*G.Node {
	if tg.dev != nil {
		return []*G.Node{tg.lossNode}
	}
	nodes := append([]*G.Node{tg.lossNode}, tg.wordNodes...)
	for _, n := range tg.gradNodes {
		if n != nil {
			nodes = append(nodes, n)
		}
	}
	return nodes
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
	if tg.dev != nil {
		return nil
	}
	if tg.words != nil {
		if !tg.keepWords {
			tg.words.reset()
		}
		for i, in := range tg.cols {
			v := tg.reads.Value(nodes, 1+i)
			if v == nil {
				return fmt.Errorf("encoder: the graph left the gradient of %s unset", in.words.Name())
			}
			tg.words.add(in.flatIDs, v.Data().([]float32))
		}
	}
	k := 1 + len(tg.cols)
	for i, n := range tg.gradNodes {
		if n == nil {
			continue
		}
		if tg.grads[i] = tg.reads.Value(nodes, k); tg.grads[i] == nil {
			return fmt.Errorf("encoder: the graph left the gradient of %s unset", n.Name())
		}
		k++
	}
	return nil
}

// setLabels binds the labels of the batch's examples, one row per example,
// to a graph built for labels; a graph without labels takes none.
func (tg *trainGraph) setLabels(labels [][]float64) error {
	if tg.labels == nil {
		if len(labels) > 0 {
			return fmt.Errorf("encoder: labels bound to a training graph built without them")
		}
		return nil
	}
	s := tg.labels.Shape()
	if len(labels) != s[0] {
		return fmt.Errorf("encoder: %d rows of labels bound to a training graph for batches of %d", len(labels), s[0])
	}
	v := make([]float32, 0, s[0]*s[1])
	for i, r := range labels {
		if len(r) != s[1] {
			return fmt.Errorf("encoder: example %d of the batch has %d labels; the graph takes %d", i, len(r), s[1])
		}
		for _, x := range r {
			v = append(v, float32(x))
		}
	}
	if err := G.Let(tg.labels, tensor.New(tensor.WithShape(s...), tensor.WithBacking(v))); err != nil {
		return fmt.Errorf("encoder: binding the labels: %w", err)
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
	out := make([][]float32, len(tg.params))
	for i, g := range tg.grads {
		if g == nil {
			out[i] = tg.words.data
			continue
		}
		out[i] = g.Data().([]float32)
	}
	return out
}
