package t5

// T5ForConditionalGeneration: the shared embedding, the encoder and decoder
// stacks and the lm_head, as the module tree of the checkpoint's keys; the
// graphs of the whole model (encoder pass, teacher-forced pass with the
// loss and its gradients) and the head of the decoder step.
//
// The modules, in the order modeling_t5.py defines them, are in norm.go
// (T5LayerNorm), ff.go (the feed-forward modules and T5LayerFF),
// attention.go (T5Attention, T5LayerSelfAttention, T5LayerCrossAttention;
// bucket.go computes the position buckets), block.go (T5Block) and
// stack.go (T5Stack). Each keeps its three ways of running side by side:
// graph (differentiable gorgonia ops, the training graph), forward (fused
// forward-only ops writing into the Model's workspace, the inference
// graphs) and step (one decoder position with a key/value cache, the
// generation loop). The tests hold them together: the inference graph
// equals the training graph, cached steps equal teacher forcing, and all
// match the fixtures of transformers.

import (
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/gemm"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// modules are the weights of a T5ForConditionalGeneration as the tree of
// its checkpoint keys. Every tensor is the checkpoint's own data in
// PyTorch's layout.
type modules struct {
	shared  *Tensor // shared.weight [vocab, d_model], also each stack's embed_tokens
	encoder *stack  // encoder.*
	decoder *stack  // decoder.*
	lmHead  *Tensor // lm_head.weight [vocab, d_model]; shared when the embeddings are tied
	tied    bool    // tie_word_embeddings

	names map[*Tensor]string // each parameter's hub name
	order []*Tensor          // the parameters in named_parameters() order

	packedHead *gemm.PackedB // lm_head packed for the step, built on first use
	dev        *device       // the step on the GPU in a `cuda` build (step_cuda.go), made on first use
}

// loadModel takes the weights of a model of cfg at v, the checkpoint's root,
// in the order T5ForConditionalGeneration declares them (that of
// named_parameters()). Problems are collected by v's checkpoint.
func loadModel(v vars, cfg Config) *modules {
	mod := &modules{tied: cfg.TieWordEmbeddings}
	shared := v.pp("shared")
	if !v.p.Has("shared.weight") && v.p.Has("encoder.embed_tokens.weight") {
		// Some exports keep only the per-stack copies of the shared embedding.
		shared = v.pp("encoder").pp("embed_tokens")
	}
	mod.shared = shared.get("weight", cfg.VocabSize, cfg.DModel)
	mod.encoder = loadStack(v.pp("encoder"), cfg, false)
	mod.decoder = loadStack(v.pp("decoder"), cfg, true)
	if cfg.TieWordEmbeddings {
		mod.lmHead = mod.shared
	} else {
		mod.lmHead = v.pp("lm_head").get("weight", cfg.VocabSize, cfg.DModel)
	}
	return mod
}

// name records the parameters' hub names and order from the keys the
// loader took, in order, and the tensors by key.
func (mod *modules) name(keys []string, byKey map[string]*Tensor) {
	mod.names = map[*Tensor]string{}
	for _, k := range keys {
		t := byKey[k]
		if t == mod.shared {
			k = "shared.weight"
		}
		mod.names[t] = k
		mod.order = append(mod.order, t)
	}
}

// byName returns the parameter of a hub name, or nil.
func (mod *modules) byName(name string) *Tensor {
	for _, t := range mod.order {
		if mod.names[t] == name {
			return t
		}
	}
	return nil
}

// headScale is what the decoder output is multiplied by before lm_head:
// d_model^-0.5 with tied embeddings (T5 v1.0), else 1.
func (mod *modules) headScale(cfg Config) float32 {
	if mod.tied {
		return float32(math.Pow(float64(cfg.DModel), -0.5))
	}
	return 1
}

// ---------------------------------------------------------------- graph and forward

// embed looks up token ids [N] in shared.weight: [N, d_model]. The op is
// differentiable, so training and inference graphs share it.
func (mod *modules) embed(b *builder, ids *G.Node, role string) *G.Node {
	return b.gather(b.out(role), b.param(mod.shared), ids)
}

// head maps decoder states [N, d_model] to logits [N, vocab], rescaled
// first with tied embeddings: one fused product in inference graphs.
func (mod *modules) head(b *builder, h *G.Node) *G.Node {
	scale := mod.headScale(b.cfg)
	if b.infer {
		return b.project(h, nil, scale, actNone, "logits", mod.lmHead)
	}
	if mod.tied {
		h = b.scale(h, scale)
	}
	return b.linear(h, mod.lmHead)
}

// encoderGraph: ids [n·s] → hidden [n·s, d_model]. It is an inference
// graph.
func (m *Model) encoderGraph(n, s int) (*compiled, error) {
	return m.graph(fmt.Sprintf("encoder n=%d s=%d", n, s), true, func(b *builder) *compiled {
		c := &compiled{inputs: map[string]*G.Node{}, outputs: map[string]*G.Node{}}
		ids := b.input("ids", tensor.Int, n*s)
		buckets := b.input("buckets", tensor.Int, s*s)
		mask := b.input("mask", tensor.Float32, n, s, s)
		c.inputs["ids"], c.inputs["buckets"], c.inputs["mask"] = ids, buckets, mask
		mod := m.mod
		h := mod.encoder.graph(b, mod.embed(b, ids, "enc.embed"), buckets, mask, nil, nil, n, s, s)
		c.outputs["hidden"] = h
		return c
	})
}

// seq2seqGraph: the whole model on encoder ids [n·s] and decoder ids [n·t].
// Without train it is an inference graph that outputs logits [n·t, vocab];
// with train it takes labels [n·t] and outputs the loss and the gradient of
// every parameter (grads keyed by hub name).
func (m *Model) seq2seqGraph(n, s, t int, train bool) (*compiled, error) {
	return m.seq2seqGraphDrop(n, s, t, train, nil)
}

// seq2seqGraphDrop is seq2seqGraph with dropout from drop in a training
// graph (Fit's), as model.train() applies it; nil drop is seq2seqGraph.
func (m *Model) seq2seqGraphDrop(n, s, t int, train bool, drop *nn.Dropout) (*compiled, error) {
	key := fmt.Sprintf("seq2seq n=%d s=%d t=%d train=%v", n, s, t, train)
	if drop != nil {
		key += fmt.Sprintf(" dropout=%p", drop)
	}
	return m.graph(key, !train, func(b *builder) *compiled {
		b.drop = drop
		c := &compiled{inputs: map[string]*G.Node{}, outputs: map[string]*G.Node{}, grads: map[string]*G.Node{}}
		in := func(name string, dt tensor.Dtype, shape ...int) *G.Node {
			x := b.input(name, dt, shape...)
			c.inputs[name] = x
			return x
		}
		encIDs := in("enc_ids", tensor.Int, n*s)
		encBuckets := in("enc_buckets", tensor.Int, s*s)
		encMask := in("enc_mask", tensor.Float32, n, s, s)
		decIDs := in("dec_ids", tensor.Int, n*t)
		decBuckets := in("dec_buckets", tensor.Int, t*t)
		decMask := in("dec_mask", tensor.Float32, n, t, t)
		crossBias := in("cross_bias", tensor.Float32, n*b.cfg.NumHeads, t, s)

		mod := m.mod
		enc := mod.encoder.graph(b, mod.embed(b, encIDs, "enc.embed"), encBuckets, encMask, nil, nil, n, s, s)
		dec := mod.decoder.graph(b, mod.embed(b, decIDs, "dec.embed"), decBuckets, decMask, enc, crossBias, n, t, s)
		logits := mod.head(b, dec)
		c.outputs["logits"] = logits
		if !train {
			return c
		}
		labels := in("labels", tensor.Int, n*t)
		loss := b.crossEntropy(logits, labels)
		c.outputs["loss"] = loss
		if b.err != nil {
			return c
		}
		wrt := make(G.Nodes, len(mod.order))
		for i, p := range mod.order {
			wrt[i] = b.param(p)
		}
		grads, err := G.Grad(loss, wrt...)
		b.fail(err)
		for i, p := range mod.order {
			if i < len(grads) {
				c.grads[mod.names[p]] = grads[i]
			}
		}
		return c
	})
}

// ---------------------------------------------------------------- step

// stepHead writes the logits [n, vocab] of the decoder step's normed output
// st.h (rescaled in place with tied embeddings) to st.logits.
func (mod *modules) stepHead(st *stepper) {
	if mod.packedHead == nil {
		mod.packedHead = packLinear(mod.lmHead)
	}
	if s := mod.headScale(st.m.cfg); s != 1 {
		for i := range st.h {
			st.h[i] *= s
		}
	}
	linear(st.logits, st.h, mod.packedHead, st.n)
}
