package loss

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MarginMSE is sentence-transformers' MarginMSELoss, the loss GPL trains
// with: for each (query, positive, hard negative) triple the student's
// margin, score(q, p) − score(q, n), is regressed onto the teacher's margin
// (GPL: the cross-encoder logits CE(q, p) − CE(q, n)) with the mean squared
// error:
//
//	loss = 1/(B·n) · Σ_i Σ_k (score(q_i, p_i) − score(q_i, n_ik) − label_ik)²
//
// where score is the row-wise (pairwise) dot product, util.pairwise_dot_score
// (GPL's choice, and sentence-transformers' default), or the cosine of the
// rows with Similarity Cosine. Unlike MNRL it has no in-batch negatives:
// each query is scored against its own positive and negatives only.
//
// The zero value is the loss with dot-product scores.
type MarginMSE struct {
	// Similarity is the pairwise score function: Dot (the default, the
	// zero value) or Cosine.
	Similarity Similarity
}

// NewMarginMSE returns the loss with sentence-transformers' and GPL's
// defaults: dot-product scores.
func NewMarginMSE() MarginMSE { return MarginMSE{Similarity: Dot} }

// Compute implements Loss. embeddings are the queries [B, D], the positives
// [B, D] and n ≥ 1 columns of hard negatives [B, D], in the order of the
// examples' texts; labels are the teacher margins, [B] or [B, 1] for one
// negative (sentence-transformers 2.7's InputExample(texts=[q, p, n],
// label=margin)) or [B, n] for several (column k the margin against negative
// k), of the embeddings' dtype. It returns an error when labels are missing
// or do not fit.
func (l MarginMSE) Compute(embeddings []*gorgonia.Node, labels *gorgonia.Node) (*gorgonia.Node, error) {
	if l.Similarity != Cosine && l.Similarity != Dot {
		return nil, fmt.Errorf("loss: MarginMSE.Similarity is Similarity(%d); use loss.Dot or loss.Cosine", int(l.Similarity))
	}
	if len(embeddings) < 3 {
		return nil, fmt.Errorf("loss: MarginMSE needs 3 or more embedding columns (queries, positives, hard negatives), got %d; give every training example a query, a positive and a negative text", len(embeddings))
	}
	q := embeddings[0]
	// One dtype, shape and graph, no column passed twice.
	b, _, err := checkColumns(q, embeddings[1:])
	if err != nil {
		return nil, err
	}
	n := len(embeddings) - 2
	if labels == nil {
		return nil, fmt.Errorf("loss: MarginMSE needs labels, the teacher's margins score(q, p) − score(q, n) (GPL: cross-encoder logits), one per example and hard negative; with encoder.Model.Fit set Example.Labels")
	}
	ls := labels.Shape()
	switch {
	case labels.Dtype() != q.Dtype():
		return nil, fmt.Errorf("loss: MarginMSE labels have dtype %v but the embeddings %v", labels.Dtype(), q.Dtype())
	case labels.Graph() != q.Graph():
		return nil, fmt.Errorf("loss: MarginMSE labels belong to another graph than the embeddings")
	case ls.TotalSize() != b*n || (ls.Dims() == 1 && n != 1) || ls.Dims() > 2 || (ls.Dims() == 2 && (ls[0] != b || ls[1] != n)):
		return nil, fmt.Errorf("loss: MarginMSE labels have shape %v; want [%d, %d] (one margin per example and hard negative) or [%d] with one hard negative", ls, b, n, b)
	}
	if ls.Dims() == 1 || ls.IsScalar() {
		if labels, err = gorgonia.Reshape(labels, tensor.Shape{b, 1}); err != nil {
			return nil, fmt.Errorf("loss: %w", err)
		}
	}
	cols := embeddings
	if l.Similarity == Cosine {
		cols = make([]*gorgonia.Node, len(embeddings))
		for i, e := range embeddings {
			if cols[i], err = normalizeRows(e); err != nil {
				return nil, fmt.Errorf("loss: normalizing embeddings[%d]: %w", i, err)
			}
		}
	}
	q = cols[0]
	// pairwise dot products: the row sums of q ⊙ x
	pairwise := func(x *gorgonia.Node) (*gorgonia.Node, error) {
		p, err := gorgonia.HadamardProd(q, x)
		if err != nil {
			return nil, err
		}
		return gorgonia.Sum(p, 1)
	}
	pos, err := pairwise(cols[1])
	if err != nil {
		return nil, fmt.Errorf("loss: query · positive scores: %w", err)
	}
	var sq *gorgonia.Node
	for k := range n {
		neg, err := pairwise(cols[2+k])
		if err != nil {
			return nil, fmt.Errorf("loss: query · negative %d scores: %w", k+1, err)
		}
		margin, err := gorgonia.Sub(pos, neg)
		if err != nil {
			return nil, fmt.Errorf("loss: %w", err)
		}
		label := labels
		if n > 1 {
			if label, err = gorgonia.Slice(labels, nil, gorgonia.S(k)); err != nil {
				return nil, fmt.Errorf("loss: %w", err)
			}
		} else if label, err = gorgonia.Reshape(labels, tensor.Shape{b}); err != nil {
			return nil, fmt.Errorf("loss: %w", err)
		}
		d, err := gorgonia.Sub(margin, label)
		if err != nil {
			return nil, fmt.Errorf("loss: margin − label: %w", err)
		}
		s, err := gorgonia.Sum(gorgonia.Must(gorgonia.Square(d)))
		if err != nil {
			return nil, fmt.Errorf("loss: %w", err)
		}
		if sq == nil {
			sq = s
		} else if sq, err = gorgonia.Add(sq, s); err != nil {
			return nil, fmt.Errorf("loss: %w", err)
		}
	}
	inv, err := scalarLike(q, 1/float64(b*n))
	if err != nil {
		return nil, err
	}
	out, err := gorgonia.Mul(sq, inv)
	if err != nil {
		return nil, fmt.Errorf("loss: %w", err)
	}
	return out, nil
}

var _ Loss = MarginMSE{}
