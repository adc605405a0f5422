package loss

import (
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/search"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Similarity chooses how MNRL scores an anchor against a candidate. It is
// search.Score, so that a model trained with one score function is searched
// with the same one (search.WithScore(l.Similarity)).
type Similarity = search.Score

const (
	// Cosine is sentence_transformers.util.cos_sim: the dot product of the
	// rows after dividing each by max(‖row‖₂, 1e-12).
	Cosine = search.Cosine
	// Dot is sentence_transformers.util.dot_score: the plain dot product.
	Dot = search.Dot
)

// MNRL is MultipleNegativesRankingLoss: cross-entropy of the scaled similarity
// of each anchor to all candidates, with the anchor's own positive as label.
// The zero value is not usable (Scale 0 makes every score 0); start from
// NewMNRL.
type MNRL struct {
	// Scale multiplies the similarities before the softmax (the inverse
	// temperature); sentence-transformers' default is 20.
	Scale float64
	// Similarity is the score function; sentence-transformers' default is Cosine.
	Similarity Similarity
}

// NewMNRL returns the loss with sentence-transformers' defaults: scale 20 and
// cosine similarity.
func NewMNRL() MNRL { return MNRL{Scale: 20, Similarity: Cosine} }

// Scores returns the [B, B·(1+n)] node Scale · sim(anchors_i, c_j), where the
// columns are candidates[0] (the positives) followed by candidates[1..n] (hard
// negatives), each [B, D]; it is the matrix the loss takes the softmax of
// (golden "mnrl.scores"). All inputs must be [B, D] matrices of one float
// dtype in the same graph.
//
// A TapeMachine's backward pass may reuse the memory of intermediate nodes;
// to read the scores after running the gradient, take a copy with
// gorgonia.Read.
func (l MNRL) Scores(anchors *gorgonia.Node, candidates ...*gorgonia.Node) (*gorgonia.Node, error) {
	b, d, err := l.check(anchors, candidates)
	if err != nil {
		return nil, err
	}
	a, cs := anchors, candidates
	if l.Similarity == Cosine {
		if a, err = normalizeRows(a); err != nil {
			return nil, fmt.Errorf("loss: normalizing anchors: %w", err)
		}
		cs = make([]*gorgonia.Node, len(candidates))
		for i, c := range candidates {
			if cs[i], err = normalizeRows(c); err != nil {
				return nil, fmt.Errorf("loss: normalizing candidates[%d]: %w", i, err)
			}
		}
	}
	c := cs[0]
	if len(cs) > 1 {
		concat := func(cs ...*gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Concat(0, cs...) }
		if cuda.Enabled() {
			concat = nn.Concat // gorgonia's Concat has no device implementation
		}
		if c, err = concat(cs...); err != nil {
			return nil, fmt.Errorf("loss: concatenating %d candidate matrices: %w", len(cs), err)
		}
	}
	if cuda.Enabled() {
		return deviceScores(a, c, l.Scale)
	}
	n := b * len(cs)
	// Batched [1, B, D] × [1, N, D]ᵀ: unlike gorgonia.Mul it does not turn a
	// 1-row or 1-column matrix into a vector product.
	a3, err := gorgonia.Reshape(a, tensor.Shape{1, b, d})
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	c3, err := gorgonia.Reshape(c, tensor.Shape{1, n, d})
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	s3, err := gorgonia.BatchedMatMul(a3, c3, false, true)
	if err != nil {
		return nil, fmt.Errorf("loss: anchor × candidate similarities: %w", err)
	}
	s, err := gorgonia.Reshape(s3, tensor.Shape{b, n})
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	scale, err := scalarLike(anchors, l.Scale)
	if err != nil {
		return nil, err
	}
	if s, err = gorgonia.Mul(s, scale); err != nil {
		return nil, fmt.Errorf("loss: scaling the scores: %w", err)
	}
	return s, nil
}

// Loss returns the scalar node of the mean cross-entropy
// -1/B · Σ_i log softmax(Scores[i, :])[i]: anchor i's label is column i, its
// own positive; every other column is a negative. Arguments are as for
// Scores: anchors [B, D], candidates[0] the positives [B, D], further
// candidates hard negatives [B, D] (sentence-transformers' (anchor, positive,
// negative) triplets pass one). The gradient is symbolic: differentiate with
// gorgonia.Grad and run a TapeMachine.
func (l MNRL) Loss(anchors *gorgonia.Node, candidates ...*gorgonia.Node) (*gorgonia.Node, error) {
	s, err := l.Scores(anchors, candidates...)
	if err != nil {
		return nil, err
	}
	b, n := s.Shape()[0], s.Shape()[1]
	if cuda.Enabled() {
		return deviceLoss(s)
	}
	// Log-softmax over axis 1 of [B, N, 1]: a non-last axis, which gorgonia
	// computes with each row's own maximum (see the package comment).
	s3, err := gorgonia.Reshape(s, tensor.Shape{b, n, 1})
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	logp, err := gorgonia.LogSoftMax(s3, 1)
	if err != nil {
		return nil, fmt.Errorf("loss: log-softmax of the scores: %w", err)
	}
	// Pick log p[i, i] with a one-hot mask and average.
	dt := anchors.Dtype()
	mask := tensor.New(tensor.WithShape(b, n, 1), tensor.Of(dt))
	for i := 0; i < b; i++ {
		if err := mask.SetAt(one(dt), i, i, 0); err != nil {
			return nil, fmt.Errorf("loss: building the label mask: %w", err)
		}
	}
	picked, err := gorgonia.HadamardProd(logp, gorgonia.NewConstant(mask, gorgonia.WithName(fmt.Sprintf("mnrl_labels_%dx%d", b, n))))
	if err != nil {
		return nil, fmt.Errorf("loss: selecting the labels: %w", err)
	}
	sum, err := gorgonia.Sum(picked)
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	negMean, err := scalarLike(anchors, -1/float64(b))
	if err != nil {
		return nil, err
	}
	out, err := gorgonia.Mul(sum, negMean)
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	return out, nil
}

// Compute implements Loss: embeddings[0] are the anchors, embeddings[1] the
// positives and embeddings[2:] the hard negatives, each [B, D]; it is
// Loss(embeddings[0], embeddings[1:]...). MNRL takes no labels: as in
// sentence-transformers, the label of anchor i is candidate i, and labels is
// ignored.
func (l MNRL) Compute(embeddings []*gorgonia.Node, labels *gorgonia.Node) (*gorgonia.Node, error) {
	if len(embeddings) < 2 {
		return nil, fmt.Errorf("loss: MNRL needs at least 2 embedding columns (anchors, positives, then any hard negatives), got %d; give every training example an anchor and a positive text", len(embeddings))
	}
	return l.Loss(embeddings[0], embeddings[1:]...)
}

// check validates the loss settings and the input shapes and returns B and D.
func (l MNRL) check(anchors *gorgonia.Node, candidates []*gorgonia.Node) (b, d int, err error) {
	if l.Similarity != Cosine && l.Similarity != Dot {
		return 0, 0, fmt.Errorf("loss: MNRL.Similarity is Similarity(%d); use loss.Cosine or loss.Dot", int(l.Similarity))
	}
	if l.Scale <= 0 || math.IsInf(l.Scale, 0) || math.IsNaN(l.Scale) {
		return 0, 0, fmt.Errorf("loss: MNRL.Scale is %v; it must be a positive finite number (NewMNRL uses 20)", l.Scale)
	}
	if b, d, err = checkColumns(anchors, candidates); err != nil {
		return 0, 0, err
	}
	if n := b * len(candidates); n < 2 {
		return 0, 0, fmt.Errorf("loss: MNRL over %d anchor and %d candidate: with a single candidate the softmax has one column and the loss is exactly 0, so nothing trains; use batches of at least 2 pairs or add hard negatives", b, n)
	}
	return b, d, nil
}

// checkColumns checks that anchors and candidates are distinct [B, D]
// matrices of one float dtype in one graph and returns B and D.
func checkColumns(anchors *gorgonia.Node, candidates []*gorgonia.Node) (b, d int, err error) {
	if anchors == nil {
		return 0, 0, fmt.Errorf("loss: the loss needs an anchors node, got nil")
	}
	if len(candidates) == 0 {
		return 0, 0, fmt.Errorf("loss: the loss needs at least one candidates node (the positives), got none")
	}
	dt := anchors.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return 0, 0, fmt.Errorf("loss: anchors have dtype %v; the loss supports Float32 and Float64", dt)
	}
	as := anchors.Shape()
	if as.Dims() != 2 || as[0] < 1 || as[1] < 1 {
		return 0, 0, fmt.Errorf("loss: anchors have shape %v; want [batch, dim] with batch, dim ≥ 1", as)
	}
	b, d = as[0], as[1]
	for i, c := range candidates {
		what := candidateName(i)
		if c == nil {
			return 0, 0, fmt.Errorf("loss: candidates[%d] (%s) is nil", i, what)
		}
		if c == anchors {
			return 0, 0, fmt.Errorf("loss: candidates[%d] (%s) is the anchors node itself, so every anchor would be scored against itself and the loss would be near 0; %s", i, what, sameNodeHint)
		}
		for j, o := range candidates[:i] {
			if c == o {
				return 0, 0, fmt.Errorf("loss: candidates[%d] (%s) is the same node as candidates[%d] (%s), so each label column would have a duplicate; %s", i, what, j, candidateName(j), sameNodeHint)
			}
		}
		if c.Graph() != anchors.Graph() {
			return 0, 0, fmt.Errorf("loss: candidates[%d] (%s) belongs to another graph than the anchors", i, what)
		}
		if c.Dtype() != dt {
			return 0, 0, fmt.Errorf("loss: candidates[%d] (%s) have dtype %v but the anchors %v", i, what, c.Dtype(), dt)
		}
		if cs := c.Shape(); !cs.Eq(as) {
			return 0, 0, fmt.Errorf("loss: candidates[%d] (%s) have shape %v; want the anchors' shape %v (one row per anchor)", i, what, cs, as)
		}
	}
	return b, d, nil
}

// sameNodeHint explains the usual way two inputs end up as one node.
const sameNodeHint = "pass distinct nodes; gorgonia merges input nodes of the same type and shape that have no name, so give each input its own gorgonia.WithName"

// candidateName says what candidates[i] holds.
func candidateName(i int) string {
	if i == 0 {
		return "positives"
	}
	return fmt.Sprintf("hard negatives %d", i)
}

// scalarLike returns a constant scalar node with x's dtype.
func scalarLike(x *gorgonia.Node, v float64) (*gorgonia.Node, error) {
	switch x.Dtype() {
	case tensor.Float32:
		return gorgonia.NewConstant(float32(v)), nil
	case tensor.Float64:
		return gorgonia.NewConstant(v), nil
	}
	return nil, fmt.Errorf("loss: unsupported dtype %v", x.Dtype())
}

func one(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return 1.0
}

// deviceScores is Scores from the normalized anchors a and candidates c
// when the graphs run on a GPU (cuda.Enabled): one product of internal/nn
// and gorgonia's scaling, both of which run on the device (gorgonia's
// BatchedMatMul and reshapes would not keep the scores there).
func deviceScores(a, c *gorgonia.Node, scale float64) (*gorgonia.Node, error) {
	s, err := nn.MatMul(a, c, false, true)
	if err != nil {
		return nil, fmt.Errorf("loss: anchor × candidate similarities: %w", err)
	}
	k, err := scalarLike(a, scale)
	if err != nil {
		return nil, err
	}
	if s, err = gorgonia.Mul(s, k); err != nil {
		return nil, fmt.Errorf("loss: scaling the scores: %w", err)
	}
	return s, nil
}

// deviceLoss is Loss from the scores s [B, N] when the graphs run on a GPU
// (cuda.Enabled): internal/nn's cross-entropy of each row against its own
// column (torch's CrossEntropyLoss, the log-softmax from each row's maximum
// in float64), which runs on the device, where gorgonia's LogSoftMax and
// Sum would run on the CPU.
func deviceLoss(s *gorgonia.Node) (*gorgonia.Node, error) {
	b := s.Shape()[0]
	labels := make([]int, b)
	for i := range labels {
		labels[i] = i
	}
	lab := gorgonia.NewConstant(tensor.New(tensor.WithShape(b), tensor.WithBacking(labels)), gorgonia.WithName(fmt.Sprintf("mnrl_labels_%d", b)))
	out, err := nn.CrossEntropy(s, lab)
	if err != nil {
		return nil, fmt.Errorf("loss: cross-entropy of the scores: %w", err)
	}
	return out, nil
}
