package loss

import (
	"errors"
	"fmt"

	"github.com/genq-go/genq/internal/cuda"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CachedMNRL is sentence-transformers' CachedMultipleNegativesRankingLoss
// (GradCache, Gao et al. 2021): MNRL whose batch the trainer embeds in
// mini-batches, so that the batch size, which makes MNRL better, no longer
// sets the memory a step needs. Its loss and gradients are MNRL's.
//
// A trainer that supports it (encoder.Model.Fit) sees the GradCached
// interface and takes each step in three passes:
//
//  1. embed every text column in mini-batches of MiniBatchSize without
//     keeping the graph for a backward pass;
//  2. compute the loss on the whole batch's embeddings and its gradient with
//     respect to them (EmbeddingGradients);
//  3. re-run each mini-batch with a graph, with the same dropout masks, and
//     back-propagate the cached embedding gradient into the weights,
//     accumulating the weights' gradients over the mini-batches.
//
// Used as a plain Loss (Compute) it is MNRL.
type CachedMNRL struct {
	MNRL
	// MiniBatchSize is the number of texts embedded at once;
	// sentence-transformers' default is 32. It must be positive.
	MiniBatchSize int
}

// NewCachedMNRL returns the loss with sentence-transformers' defaults, scale
// 20 and cosine similarity, embedding miniBatch texts at a time.
func NewCachedMNRL(miniBatch int) CachedMNRL {
	return CachedMNRL{MNRL: NewMNRL(), MiniBatchSize: miniBatch}
}

// Compute implements Loss: MNRL's loss over the whole batch. It returns an
// error when MiniBatchSize is not positive.
func (l CachedMNRL) Compute(embeddings []*gorgonia.Node, labels *gorgonia.Node) (*gorgonia.Node, error) {
	if _, err := l.MiniBatch(); err != nil {
		return nil, err
	}
	return l.MNRL.Compute(embeddings, labels)
}

// MiniBatch implements GradCached: the mini-batch size, or an error when it
// is not positive.
func (l CachedMNRL) MiniBatch() (int, error) {
	if l.MiniBatchSize <= 0 {
		return 0, fmt.Errorf("loss: CachedMNRL.MiniBatchSize is %d; it must be positive (sentence-transformers uses 32; NewCachedMNRL(32))", l.MiniBatchSize)
	}
	return l.MiniBatchSize, nil
}

// GradCached is a Loss that asks its trainer for gradient caching: embed the
// batch MiniBatch texts at a time, take the loss's gradient with respect to
// the embeddings (EmbeddingGradients), then back-propagate it through each
// mini-batch again. The result equals training with Compute on the whole
// batch; only the memory differs.
type GradCached interface {
	Loss
	// MiniBatch returns the number of texts to embed at once, or an error
	// saying why the loss's setting is invalid.
	MiniBatch() (int, error)
}

var _ GradCached = CachedMNRL{}

// EmbeddingGradients evaluates l on constant embeddings, one [B, D] tensor
// per text column (float32 or float64, as Compute takes them), and labels
// (nil for a loss without labels), and returns the loss and its gradient
// with respect to each column, tensors of the embeddings' shape and dtype.
// It is step 2 of gradient caching; the embeddings are not modified.
func EmbeddingGradients(l Loss, embeddings []*tensor.Dense, labels *tensor.Dense) (loss float64, grads []*tensor.Dense, err error) {
	if l == nil {
		return 0, nil, errors.New("loss: EmbeddingGradients needs a loss, got nil")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("loss: EmbeddingGradients: %v", r)
		}
	}()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(embeddings))
	for i, e := range embeddings {
		if e == nil {
			return 0, nil, fmt.Errorf("loss: EmbeddingGradients: embeddings[%d] is nil", i)
		}
		// Named: gorgonia merges unnamed inputs of one type and shape.
		nodes[i] = gorgonia.NodeFromAny(g, e, gorgonia.WithName(fmt.Sprintf("embeddings[%d]", i)))
	}
	var ln *gorgonia.Node
	if labels != nil {
		ln = gorgonia.NodeFromAny(g, labels, gorgonia.WithName("labels"))
	}
	cost, err := l.Compute(nodes, ln)
	if err != nil {
		return 0, nil, err
	}
	if !cost.IsScalar() {
		return 0, nil, fmt.Errorf("loss: %T returned a node of shape %v; want a scalar", l, cost.Shape())
	}
	gn, err := gorgonia.Grad(cost, nodes...)
	if err != nil {
		return 0, nil, fmt.Errorf("loss: differentiating %T: %w", l, err)
	}
	// On a GPU (a `cuda` build), the machine of internal/cuda and values
	// read through its Reader; elsewhere gorgonia's TapeMachine and the
	// nodes' values.
	read := append(gorgonia.Nodes{cost}, gn...)
	reads, err := cuda.ReadBack(read...)
	if err != nil {
		return 0, nil, fmt.Errorf("loss: %w", err)
	}
	m, err := cuda.NewMachine(g)
	if err != nil {
		return 0, nil, fmt.Errorf("loss: %w", err)
	}
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return 0, nil, fmt.Errorf("loss: evaluating %T: %w", l, err)
	}
	switch v := reads.Value(read, 0).Data().(type) {
	case float32:
		loss = float64(v)
	case float64:
		loss = v
	}
	grads = make([]*tensor.Dense, len(gn))
	for i := range gn {
		d, ok := reads.Value(read, 1+i).(*tensor.Dense)
		if !ok {
			return 0, nil, fmt.Errorf("loss: the gradient of embeddings[%d] is %T, not a dense tensor", i, reads.Value(read, 1+i))
		}
		grads[i] = d.Clone().(*tensor.Dense)
	}
	return loss, grads, nil
}
