// Package encoder runs and trains sentence-transformers bi-encoders built on
// BERT or DistilBERT, in pure Go on gorgonia, with the numbers of the Python
// reference (transformers 4.40, sentence-transformers 2.7).
//
// # Models
//
// Load reads a sentence-transformers folder (modules.json with Transformer,
// Pooling and optionally Normalize modules), a plain Hugging Face BERT or
// DistilBERT folder (which gets mean pooling), or a model id in the local
// Hugging Face cache. Save writes the folder back as SentenceTransformer.save
// does, weights under the hub's names in model.safetensors.
//
// # Inference
//
// Encode tokenizes texts (WordPiece, truncation at the model's
// max_seq_length), runs the transformer — embeddings, post-LN self-attention
// blocks with exact GELU — pools the token embeddings and optionally
// normalizes them. Batches are sorted by length as sentence-transformers
// sorts them, and graphs are compiled once per (batch size, padded length)
// shape; lengths are padded up to multiples of 16, which does not change the
// results.
//
// # Cross-encoders
//
// LoadCrossEncoder reads a sentence-transformers CrossEncoder on BERT
// (BertForSequenceClassification with one label, as
// cross-encoder/ms-marco-MiniLM-L-6-v2) from a folder or hub id.
// CrossEncoder.Predict scores (query, passage) pairs as CrossEncoder.predict
// does: [CLS] query [SEP] passage [SEP] with longest-first truncation, the
// transformer above, the pooler (dense + tanh on [CLS]) and the classifier,
// then the activation config.json names (Sigmoid when it names none);
// PredictLogits returns the raw logits (GPL's pseudo labels). Load and
// LoadCrossEncoder each reject the other's kind of model with an error that
// names the right loader.
//
// # Training
//
// Fit is sentence-transformers' fit: examples of several texts (anchor,
// positive, any hard negatives), a loss from package loss
// (MultipleNegativesRankingLoss by default, the recipe of the GenQ example),
// NoDuplicates batching, AdamW with weight decay except for biases and
// LayerNorm weights (package encoder/optim), global gradient-norm clipping,
// a linear warm-up and decay schedule, an optional evaluator, and resumable
// checkpoints. It returns the loss of every step. Examples carry labels
// for a loss that takes them (GPL's MarginMSE on cross-encoder margins), and
// CachedMNRL trains large batches in bounded memory by gradient caching.
//
// # In your own graph
//
// Model.Graph puts the model into a caller's gorgonia ExprGraph: each weight
// becomes a leaf node (Graph.Params, named and ordered as PyTorch's
// named_parameters), and Graph.Forward builds a forward pass (a Tower) over
// a batch of a fixed shape, whose Embedding node carries the sentence
// embeddings. Any loss written on those nodes can be differentiated with
// gorgonia.Grad and run on a TapeMachine; Graph.Commit hands the trained
// weights back to the Model. Encode and Fit build their graphs the same
// way. The pieces of the forward pass are exported for tests and other
// models: LayerNorm, AddLayerNorm, GELU, GELUNew, ReLU, Linear, Attention, SelfAttention,
// AdditiveMask, Pool and Normalize.
//
// # Accuracy
//
// Against golden outputs of the Python libraries (testdata/fixtures), token
// and sentence embeddings agree to within a few 1e-6, cross-encoder scores
// to within 1e-6, MNRL gradients of every weight to within 2e-6, and one AdamW step to within 1e-7 except where the
// reference gradient is pure rounding noise.
package encoder
