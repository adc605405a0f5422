package loss

import "gorgonia.org/gorgonia"

// Loss is a training objective over sentence embeddings: the part of a
// sentence-transformers loss that its compute_loss_from_embeddings holds. The
// caller (encoder.Model.Fit, or one's own training loop) runs every text
// column of a batch through the model and hands the loss the resulting
// embedding nodes; the loss never sees the model, so any Go code that builds
// embeddings in a gorgonia graph can train with it.
//
// A batch of B training examples with texts (anchor, positive, negative 1, …,
// negative n), sentence-transformers' InputExample(texts=[...]), gives
// embeddings[0] the B anchors, embeddings[1] the B positives and
// embeddings[1+k] the B k-th hard negatives, each a [B, D] node of one graph.
// labels is the node of the examples' labels ([B] or [B, L], as the loss
// documents), or nil for a loss that takes none, such as MNRL.
//
// Compute builds the loss into the embeddings' graph and returns its scalar
// node; differentiate it with gorgonia.Grad. It returns an error, naming the
// offending input, when the nodes do not fit the loss.
type Loss interface {
	Compute(embeddings []*gorgonia.Node, labels *gorgonia.Node) (*gorgonia.Node, error)
}

var _ Loss = MNRL{}
