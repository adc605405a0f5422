package encoder

import (
	"fmt"
	"math"
	"strconv"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/loss"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCache is what a Fit run with a loss.GradCached loss (CachedMNRL)
// carries from step to step: the graphs of one mini-batch of one text
// column, compiled once per shape, and the gradient accumulators.
//
// A step runs GradCache (Gao et al. 2021) as sentence-transformers'
// CachedMultipleNegativesRankingLoss does: every column is embedded in
// mini-batches by forward-only graphs; the loss and its gradient with
// respect to the batch's embeddings come from loss.EmbeddingGradients; then
// each mini-batch runs again through a training graph whose objective is
// Σ embedding ⊙ cached gradient, whose weight gradients are the loss's
// share from that mini-batch, and they add up. Both runs of a mini-batch
// draw the same dropout masks (the dropout sources are reseeded alike), as
// sentence-transformers' RandContext replays the random state. Memory does
// not grow with the batch size: per column, a forward-only graph (its layers
// sharing buffers) and a training graph of one mini-batch (and of a shorter
// last one), plus one accumulator per weight.
type gradCache struct {
	miniBatch int
	forward   map[string]*cacheForward
	train     map[string]*cacheTrain
	words     *wordGrad   // the word embeddings' gradient, shared by the training graphs
	accum     [][]float32 // the other weights' gradients, aligned with params(); nil for the words
}

// cacheForward is a compiled forward-only graph of one mini-batch shape.
type cacheForward struct {
	vm    G.VM
	in    *batchNodes
	emb   *G.Node
	reads *cuda.Reader
}

// cacheTrain is a compiled training graph of one mini-batch shape with the
// surrogate objective Σ emb ⊙ upstream.
type cacheTrain struct {
	tg            *trainGraph
	emb, upstream *G.Node
}

// newGradCache returns the state of gradient-cached training with l's
// mini-batch size, or nil when l does not ask for it.
func newGradCache(l loss.Loss) (*gradCache, error) {
	gc, ok := l.(loss.GradCached)
	if !ok {
		return nil, nil
	}
	mb, err := gc.MiniBatch()
	if err != nil {
		return nil, fmt.Errorf("encoder: Fit: %w", err)
	}
	return &gradCache{miniBatch: mb, forward: map[string]*cacheForward{}, train: map[string]*cacheTrain{}}, nil
}

// rows returns rows [lo, hi) of a tokenized batch.
func (t tokenized) rows(lo, hi int) tokenized {
	out := tokenized{ids: t.ids[lo:hi], mask: t.mask[lo:hi]}
	if t.types != nil {
		out.types = t.types[lo:hi]
	}
	return out
}

// cacheSeed is the dropout seed of mini-batch lo of column col at step: the
// same for its forward-only run and its training run.
func cacheSeed(seed uint64, step, col, lo int) uint64 {
	x := seed ^ uint64(step+1)*0x9e3779b97f4a7c15 ^ uint64(col+1)*0xbf58476d1ce4e5b9 ^ uint64(lo+1)*0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// reseed restarts the dropout sources for one mini-batch run.
func (tr *trainer) reseed(s uint64) {
	tr.hidden.Reseed(s)
	tr.attn.Reseed(attnSeed(s))
}

// embedCached runs a mini-batch, padded to t tokens, through the
// forward-only graph of its shape and copies its sentence embeddings into
// dst.
func (tr *trainer) embedCached(sub tokenized, t int, dst []float32) error {
	m, gc := tr.m, tr.cache
	b := len(sub.ids)
	key := strconv.Itoa(b) + "," + strconv.Itoa(t)
	f, ok := gc.forward[key]
	if !ok {
		gr, err := m.graph(G.NewGraph(), graphOptions{hidden: tr.hidden, attn: tr.attn, share: !cuda.Enabled()})
		if err != nil {
			return err
		}
		tw, err := gr.forward(b, t, "")
		if err != nil {
			return err
		}
		f = &cacheForward{in: tw.in, emb: tw.Embedding}
		if f.reads, err = cuda.ReadBack(f.emb); err != nil {
			return fmt.Errorf("encoder: %w", err)
		}
		if f.vm, err = cuda.NewMachine(gr.b.g); err != nil {
			return fmt.Errorf("encoder: %w", err)
		}
		gc.forward[key] = f
	}
	if err := f.in.bind(sub.ids, sub.types, sub.mask); err != nil {
		return err
	}
	if err := run(f.vm); err != nil {
		return err
	}
	v := f.reads.Value([]*G.Node{f.emb}, 0)
	if v == nil {
		return fmt.Errorf("encoder: the forward graph left the embeddings unset")
	}
	copy(dst, v.Data().([]float32))
	return nil
}

// trainCached returns the training graph of a mini-batch's shape with the
// surrogate objective.
func (tr *trainer) trainCached(b, t int) (*cacheTrain, error) {
	m, gc := tr.m, tr.cache
	key := strconv.Itoa(b) + "," + strconv.Itoa(t)
	if ct, ok := gc.train[key]; ok {
		return ct, nil
	}
	ct := &cacheTrain{}
	tg, err := m.buildTrainGraph(b, []int{t}, func(emb []*G.Node) (cost, scores *G.Node, err error) {
		ct.emb = emb[0]
		ct.upstream = G.NewMatrix(emb[0].Graph(), tensor.Float32, G.WithShape(emb[0].Shape()...), G.WithName("embedding_grad"))
		if cuda.Enabled() { // gorgonia's Sum has no device implementation
			cost, err = deviceSurrogate(emb[0], ct.upstream)
			return cost, nil, err
		}
		p, err := G.HadamardProd(emb[0], ct.upstream)
		if err != nil {
			return nil, nil, fmt.Errorf("encoder: embeddings ⊙ their cached gradient: %w", err)
		}
		if cost, err = G.Sum(p); err != nil {
			return nil, nil, fmt.Errorf("encoder: %w", err)
		}
		return cost, nil, nil
	}, tr.hidden, tr.attn, gc.words, tr.dev)
	if err != nil {
		return nil, err
	}
	tg.keepWords = true
	if gc.words == nil {
		gc.words = tg.words
	}
	ct.tg = tg
	gc.train[key] = ct
	return ct, nil
}

// cachedStep is trainer.step with gradient caching (see gradCache): the
// same update as step on the whole batch, in the memory of a mini-batch.
func (tr *trainer) cachedStep(step int, cols []tokenized, labels [][]float64, lr float64) (float64, error) {
	m, gc := tr.m, tr.cache
	b, d := len(cols[0].ids), m.Dim()
	for i, c := range cols {
		if len(c.ids) != b {
			return 0, fmt.Errorf("encoder: text column %d has %d rows and column 0 %d", i, len(c.ids), b)
		}
	}
	// Every mini-batch of a column is padded to the column's length, as
	// sentence-transformers slices the batch's padded encoding: one graph
	// shape per column (and one for a shorter last mini-batch).
	lens := make([]int, len(cols))
	for ci, col := range cols {
		lens[ci] = bucket(col, m.maxSeqLen)
	}
	// 1. embed every column, a mini-batch at a time, without a backward graph
	embs := make([]*tensor.Dense, len(cols))
	for ci, col := range cols {
		data := make([]float32, b*d)
		for lo := 0; lo < b; lo += gc.miniBatch {
			hi := min(lo+gc.miniBatch, b)
			tr.reseed(cacheSeed(tr.seed, step, ci, lo))
			if err := tr.embedCached(col.rows(lo, hi), lens[ci], data[lo*d:hi*d]); err != nil {
				return 0, err
			}
		}
		embs[ci] = tensor.New(tensor.WithShape(b, d), tensor.WithBacking(data))
	}
	// 2. the loss on the whole batch and its gradient for each embedding
	var lab *tensor.Dense
	if len(labels) > 0 {
		n := len(labels[0])
		v := make([]float32, 0, b*n)
		for _, r := range labels {
			for _, x := range r {
				v = append(v, float32(x))
			}
		}
		lab = tensor.New(tensor.WithShape(b, n), tensor.WithBacking(v))
	}
	l, grads, err := loss.EmbeddingGradients(tr.loss, embs, lab)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return l, fmt.Errorf("the loss is %v; lower the learning rate or check the data", l)
	}
	// 3. back-propagate each mini-batch's share, accumulating the weights'
	// gradients (on the device, with a device optimizer)
	tr.dev.Begin()
	if gc.words != nil {
		gc.words.reset()
	}
	for _, a := range gc.accum {
		clear(a)
	}
	for ci, col := range cols {
		g := grads[ci].Data().([]float32)
		for lo := 0; lo < b; lo += gc.miniBatch {
			hi := min(lo+gc.miniBatch, b)
			sub := col.rows(lo, hi)
			ct, err := tr.trainCached(hi-lo, lens[ci])
			if err != nil {
				return l, err
			}
			up := tensor.New(tensor.WithShape(hi-lo, d), tensor.WithBacking(g[lo*d:hi*d]))
			if err := G.Let(ct.upstream, up); err != nil {
				return l, fmt.Errorf("encoder: binding the cached gradient: %w", err)
			}
			tr.reseed(cacheSeed(tr.seed, step, ci, lo))
			if err := ct.tg.step(sub); err != nil {
				return l, err
			}
			if tr.dev == nil {
				tr.accumulate(ct.tg)
			}
		}
	}
	if tr.dev != nil {
		_, err := tr.dev.Step(lr)
		return l, err
	}
	for _, op := range tr.oparams {
		op.Grad = nil
	}
	all := make([][]float32, 0, len(gc.accum))
	for i, p := range m.body.params() {
		g := gc.accum[i]
		if g == nil {
			g = gc.words.data
		}
		tr.byParam[p].Grad = g
		all = append(all, g)
	}
	optim.ClipGradNorm(all, tr.maxGradNorm)
	if err := tr.opt.Step(lr); err != nil {
		return l, err
	}
	return l, nil
}

// accumulate adds the weight gradients of tg's last run into the
// accumulators (the word embeddings' add up in the shared wordGrad).
func (tr *trainer) accumulate(tg *trainGraph) {
	gc := tr.cache
	if gc.accum == nil {
		gc.accum = make([][]float32, len(tg.params))
		for i, p := range tg.params {
			if tg.grads[i] != nil || tg.words == nil {
				gc.accum[i] = make([]float32, len(p.data()))
			}
		}
	}
	for i, g := range tg.grads {
		if g == nil {
			continue
		}
		src, dst := g.Data().([]float32), gc.accum[i]
		for j, v := range src {
			dst[j] += v
		}
	}
}

// deviceSurrogate is Σ emb ⊙ upstream from ops that run on the device: the
// product of the two flattened into rows, [1, B·D]·[1, B·D]ᵀ, as a scalar.
func deviceSurrogate(emb, upstream *G.Node) (*G.Node, error) {
	row := tensor.Shape{1, emb.Shape().TotalSize()}
	e, err := nn.Reshape(emb, row)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	u, err := nn.Reshape(upstream, row)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	p, err := nn.MatMul(e, u, false, true)
	if err != nil {
		return nil, fmt.Errorf("encoder: embeddings · their cached gradient: %w", err)
	}
	return nn.Reshape(p, tensor.ScalarShape())
}
