// Package t5 is Hugging Face's T5ForConditionalGeneration (T5 v1.0 and
// v1.1) on gorgonia, with the query generation GenQ uses: sampling, greedy
// decoding and beam search, plus scoring, teacher-forced logits and the
// seq2seq loss with gradients for fine-tuning.
//
// # Usage
//
//	m, err := t5.Load(ctx, "BeIR/query-gen-msmarco-t5-base-v1", t5.LoadOptions{})
//	queries, err := m.Generate(ctx, passages, t5.DefaultGenerateOptions())
//
// Load reads config.json, model.safetensors (or pytorch_model.bin) and the
// SentencePiece tokenizer (spiece.model) of a checkpoint folder or of a hub
// id, which it downloads into the Hugging Face cache when needed (LoadOptions
// sets the revision, token, endpoint, cache, offline mode and timeouts).
// DefaultGenerateOptions is the GenQ recipe: inputs truncated to 300 tokens,
// max_length 64, 5 sampled queries per passage with top-k 50 and top-p 0.95.
//
// # Architecture
//
// The graphs follow modeling_t5.py (transformers 4.40): T5LayerNorm is an
// RMS norm without mean or bias (eps layer_norm_epsilon); attention scores
// are not scaled by 1/√d_kv; the relative-position bias comes from block 0's
// relative_attention_bias (bidirectional buckets in the encoder, causal ones
// in the decoder self-attention, none in cross-attention) and is shared by all
// blocks; masks are added into the bias as (1 − mask)·float32 min; the
// feed-forward block is ReLU (feed_forward_proj "relu", v1.0) or gated
// gelu_new (feed_forward_proj "gated-gelu", v1.1); with tied embeddings
// (v1.0) the decoder output is scaled by d_model^-0.5 before lm_head.
// Every module takes its weights by its path in the checkpoint's key tree
// (encoder.block.0.layer.0.SelfAttention.q.weight), shape-checked, in
// PyTorch's layout and without copying them; missing tensors and (by
// default) unused ones are errors that name them, and ParameterNames
// follows named_parameters().
//
// # Modules
//
// The modules of modeling_t5.py that one would test on their own are
// exported and run on Tensors: LayerNorm (T5LayerNorm), Attention
// (T5Attention, with PositionBias, its compute_bias, and
// RelativePositionBucket) and FeedForward (the DenseReluDense module, ReLU
// or gated gelu_new). The model is built from the same types: the files
// norm.go, ff.go, attention.go, block.go, stack.go and model.go follow
// modeling_t5.py, and each module keeps its three ways of running side by
// side — differentiable graph, fused inference forward, cached decoder
// step — over one kernel layer (attention, for one, is one kernel in all
// three).
//
// # Graphs and shapes
//
// Gorgonia graphs have static shapes, so the package compiles each pass once
// per shape and caches it: the encoder per (batch, length) and the
// teacher-forced pass per (batch, encoder length, decoder length). Lengths
// are padded to multiples of 16 behind the attention mask, which leaves
// results unchanged. The inference graphs (encoder, logits) are built from
// fused forward-only ops — each linear layer one GEMM with its activation
// or residual sum, attention per (sequence, head) as two GEMMs reading the
// projections in place — that write into buffers the Model keeps and
// reuses across passes; the training graph is made of differentiable ops.
// Decoding runs one position at a time with a key/value cache that doubles
// as the output grows:
// the step is written directly against internal/gemm and internal/kernel
// with buffers the Model keeps and reuses (the rows of one passage share
// its encoder output and cross-attention keys and values, projected and
// packed once per generation), and the decoder's linear weights are packed
// once for the GEMM, so that the step's products with a few rows do not
// repack them. A Model runs one pass at a time; matrix products and
// row-wise work use all cores.
//
// # Generation
//
// GenerateOptions mirrors generate(): MaxLength counts the decoder start
// token (MaxNewTokens and MinNewTokens are max_new_tokens and
// min_new_tokens); greedy decoding when !DoSample and NumBeams ≤ 1; sampling warps the
// raw logits temperature → top-k → top-p (package sampling) and draws with
// one random stream per (passage, sequence) derived from Seed, so results do
// not depend on BatchSize; beam search reproduces BeamSearchScorer
// (length_penalty, early_stopping=False, 2·num_beams candidates). Rows that
// emitted </s> are fed <pad> until all rows are done. GenerateIDs returns the
// ids with per-token log-probabilities (compute_transition_scores with
// normalize_logits=True); Score returns log p(query | passage).
//
// # Limits
//
// No allocation is sized by a number read from a file or an option until
// that number is checked against the file's actual size, the model's config
// or a documented cap, and every product of sizes is checked for overflow:
// a hostile config, checkpoint or GenerateOptions gives an error, never a
// panic or a process-killing allocation. The caps: a full-sequence pass
// (encoder input, teacher-forced decoder input or labels) holds at most
// MaxSequenceLength tokens, as its memory grows with the square of the
// length; GenerateOptions.MaxInputLength (0 means 512, model_max_length of
// T5 tokenizers) bounds the passages of Generate and GenerateIDs; one buffer
// of the decoder step (the logits of BatchSize × NumBeams rows, one layer's
// key/value cache) holds at most 2^31 float32 values; MaxLength and
// MaxNewTokens bound the output, and memory grows with the tokens actually
// generated. New checks that every tensor holds the values its shape needs.
// Configs whose relative_attention_max_distance is at most the exact half
// of the buckets load, with transformers' buckets where it has them; the
// offsets where transformers fails (its index is NaN or negative) are
// errors naming the config. Logits that are NaN or +Inf end every decoding
// mode with ErrNonFiniteLogits. SetTokenizer may be called while the model
// is in use; each Generate or Score call keeps the tokenizer it started
// with.
//
// # Training
//
// LossAndGrad returns model(input_ids, attention_mask, labels).loss (labels
// IgnoreIndex = -100 are skipped; decoder inputs are the labels shifted right)
// and the gradient of every parameter by its hub name in PyTorch layout;
// a tied shared.weight gets the sum over its four uses.
//
// Fit fine-tunes the model on (passage, query) Pairs with transformers'
// Trainer recipe: shuffled batches every epoch, the seq2seq loss,
// gradient-norm clipping, torch's AdamW with no weight decay for biases
// (relative_attention_bias included) and T5LayerNorm weights, and the
// linear schedule with warm-up; it writes resumable checkpoints, reports
// progress, and returns the loss and gradient norm of every step; it
// applies the config's dropout_rate as model.train() does. Save writes the folder
// save_pretrained writes (config.json, model.safetensors with the tied
// embedding once as shared.weight, the tokenizer files), which
// T5ForConditionalGeneration.from_pretrained, T5Tokenizer.from_pretrained
// and Load read back. Against testdata/fixtures/t5-finetune (two Trainer
// steps of t5-tiny) every parameter is within 1e-5.
//
// # References
//
// Raffel et al., "Exploring the Limits of Transfer Learning with a Unified
// Text-to-Text Transformer" (2020); transformers' modeling_t5.py and
// generation/utils.py (v4.40); Thakur et al., "BEIR" (2021) for GenQ.
// The tests compare against testdata/fixtures/t5-tiny and t5-tiny-gated.
package t5
