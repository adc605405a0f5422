// Package loss holds the training objectives of the bi-encoder as gorgonia
// graph nodes. A loss takes embedding nodes, never a model: the encoder builds
// the sentence embeddings of a batch, the loss scores them, as
// sentence-transformers' compute_loss_from_embeddings does.
//
// # The Loss interface
//
// Every loss implements [Loss]: Compute takes one [B, D] embedding node per
// text column of a batch (anchor, positive, then any hard negatives, the
// order of sentence-transformers' InputExample.texts) and an optional labels
// node, and returns the scalar loss node. encoder.Model.Fit trains with any
// Loss; a caller with its own gorgonia graph can use one directly.
//
// # MultipleNegativesRankingLoss
//
// [MNRL] is sentence-transformers 2.7's MultipleNegativesRankingLoss: for a
// batch of B (anchor, positive) pairs it scores every anchor against every
// candidate — the B positives, then optional hard negatives — and takes the
// mean cross-entropy with the matching positive as the label, so the other
// pairs' positives serve as in-batch negatives.
//
//	scores[i, j] = Scale · sim(anchor_i, candidate_j)   (B × B·(1+n))
//	loss         = -1/B · Σ_i log softmax(scores[i, :])[i]
//
// With hard negatives the candidates are every positive of the batch, then
// every first hard negative, and so on (sentence-transformers concatenates
// embeddings[1:] along the batch axis): anchor i is scored against all of
// them, not only against its own negatives.
//
// MNRL refuses inputs that would make it silently useless: fewer than two
// candidates in all (a batch of one pair without hard negatives, whose loss
// is exactly 0), and the same node passed twice, e.g. as anchors and
// positives. The latter happens by accident in gorgonia, which merges unnamed
// input nodes of one type and shape into one: name every input
// (gorgonia.WithName).
//
// # MarginMSE
//
// [MarginMSE] is sentence-transformers' MarginMSELoss, GPL's training
// objective: the student's margin score(q, p) − score(q, n) (dot products by
// default) is regressed onto a teacher's margin, the labels, with the mean
// squared error. GPL's labels are a cross-encoder's raw logits
// CE(q, p) − CE(q, n); they reach the loss as the labels node of Compute
// ([B] or [B, n], one per hard negative), encoder.Example.Labels in Fit.
//
// # CachedMNRL and gradient caching
//
// [CachedMNRL] is CachedMultipleNegativesRankingLoss (GradCache): MNRL whose
// trainer embeds the batch in mini-batches, so that large batches fit in
// the memory of small ones. A loss asks for it by implementing [GradCached];
// the trainer embeds without a backward graph, takes the loss and its
// gradient with respect to the embeddings from [EmbeddingGradients], and
// back-propagates that gradient through each mini-batch again.
// encoder.Model.Fit does this; the loss and gradients equal MNRL's on the
// whole batch.
//
// # Shapes and dtypes
//
// Anchors and every candidate are [B, D] matrices of the same dtype (Float32
// or Float64; build the graph in Float64 to check gradients by finite
// differences). The loss is a scalar node of that dtype.
//
// # Numerics
//
// Cosine similarity normalizes each row as torch.nn.functional.normalize does,
// x / max(‖x‖₂, 1e-12), with an op whose gradient stays finite for a zero row.
// The log-softmax is gorgonia's LogSoftMax (not Log(SoftMax(x)), which
// overflows), applied along a non-last axis: over the last axis gorgonia
// (tensor v0.9.24, softMaxLastDim) seeds every row's running maximum with the
// tensor's first element instead of the row's, which overflows to ±Inf for
// rows far below or above that element — dot-product scores easily are.
//
// # References
//
// Henderson et al. 2017, "Efficient Natural Language Response Suggestion for
// Smart Reply" (the loss); sentence_transformers/losses/
// MultipleNegativesRankingLoss.py and util.cos_sim (the reference numbers in
// testdata/fixtures/{distilbert,bert}-tiny come from them). Hofstätter et
// al. 2020, "Improving Efficient Neural Ranking Models with Cross-Architecture
// Knowledge Distillation" (MarginMSE); Wang et al. 2022, "GPL" (its use with
// cross-encoder margins); Gao et al. 2021, "Scaling Deep Contrastive Learning
// Batch Size under Memory Limited Setup" (GradCache); sentence-transformers
// 2.7's MarginMSELoss.py and CachedMultipleNegativesRankingLoss.py
// (testdata/fixtures/gpl).
package loss
