package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/loss"
	G "gorgonia.org/gorgonia"
)

// trainGraph is a compiled training graph for one (batch, query length,
// passage length) shape: both towers share the weights, the MNRL loss
// follows the pooled (and optionally normalized) embeddings, and the
// gradient of every weight the forward pass uses is read out after a run.
type trainGraph struct {
	vm     G.VM
	q, p   *batchNodes
	loss   G.Value
	scores G.Value
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
	// query and passage towers' gathered rows (wordNodes) after each run
	words     *wordGrad
	wordNodes [2]*G.Node
}

// buildTrain builds and compiles the training graph for b pairs with query
// and passage lengths tq and tp. hidden and attn are the dropout sources
// (nil to train without dropout).
func (m *Model) buildTrain(b, tq, tp int, mnrl loss.MNRL, hidden, attn *nn.Dropout) (tg *trainGraph, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoder: building the training graph for %d pairs × (%d, %d) tokens: %v", b, tq, tp, r)
		}
	}()
	bld := newBuilder(G.NewGraph())
	bld.hidden, bld.attnDrp = hidden, attn
	bld.gatherWords = true
	bert := m.cfg.ModelType == "bert"
	tg = &trainGraph{q: bld.inputs(b, tq, bert, "query."), p: bld.inputs(b, tp, bert, "passage.")}
	var emb [2]*G.Node
	for i, in := range []*batchNodes{tg.q, tg.p} {
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
	scores, err := mnrl.Scores(emb[0], emb[1])
	if err != nil {
		return nil, err
	}
	// Read back at once: on a GPU the copy then runs before gorgonia's CUDA
	// machine frees the scores' device memory (it frees a reshape of them
	// after the log-softmax reads it).
	if tg.scoresRead, err = cuda.ReadBack(scores); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	cost, err := mnrl.Loss(emb[0], emb[1])
	if err != nil {
		return nil, err
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
		wrt = append(wrt, tg.q.words, tg.p.words)
		s := bld.gathered.t.Shape()
		tg.words = newWordGrad(s[0], s[1])
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		return nil, fmt.Errorf("encoder: differentiating the loss: %w", err)
	}
	if bld.gathered != nil {
		tg.wordNodes = [2]*G.Node{grads[nparams], grads[nparams+1]}
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
// tg.reads: the loss, the word-embedding gradients (nil without them) and
// the gradients.
func (tg *trainGraph) readNodes() []*G.Node {
	return append([]*G.Node{tg.lossNode, tg.wordNodes[0], tg.wordNodes[1]}, tg.gradNodes...)
}

// step runs the training graph on one batch of tokenized queries and passages.
func (tg *trainGraph) step(q, p tokenized) error {
	if err := tg.q.bind(q.ids, q.types, q.mask); err != nil {
		return err
	}
	if err := tg.p.bind(p.ids, p.types, p.mask); err != nil {
		return err
	}
	if err := run(tg.vm); err != nil {
		return err
	}
	nodes := tg.readNodes()
	tg.loss, tg.scores = tg.reads.Value(nodes, 0), tg.scoresRead.Value([]*G.Node{tg.scoresNode}, 0)
	if tg.words != nil {
		tg.words.reset()
		for i, in := range []*batchNodes{tg.q, tg.p} {
			v := tg.reads.Value(nodes, 1+i)
			if v == nil {
				return fmt.Errorf("encoder: the graph left the gradient of %s unset", in.words.Name())
			}
			tg.words.add(in.flatIDs, v.Data().([]float32))
		}
	}
	for i, n := range tg.gradNodes {
		if tg.grads[i] = tg.reads.Value(nodes, 3+i); tg.grads[i] == nil {
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

// gradSlot locates a weight's gradient: elements [off, off+n) of the
// gradient of bound node number node (off 0 and the whole gradient, unless
// the weight is part of a fused one); node -1 is the word embeddings' wordGrad.
type gradSlot struct {
	node, off, n int
}
