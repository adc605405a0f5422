package t5

// Compiled graphs. Gorgonia graphs have static shapes, so each kind of pass is
// built once per shape and cached: the encoder per (batch, padded length), the
// teacher-forced seq2seq pass per (batch, encoder length, decoder length), and
// the decoder step per (rows, encoder length, cache length). Sequence lengths
// are padded up to a multiple of lengthBucket; padding is masked, so results
// do not change.

import (
	"fmt"
	"runtime/debug"

	"github.com/genq-go/genq/internal/cuda"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lengthBucket is the multiple that sequence lengths are padded up to.
const lengthBucket = 16

// maxCachedGraphs bounds the compiled graphs a Model keeps (least recently
// used ones are dropped), since each holds its intermediate buffers.
const maxCachedGraphs = 12

func roundUp(n, k int) int {
	if n <= 0 {
		return k
	}
	return (n + k - 1) / k * k
}

// compiled is one graph with its machine and named inputs, outputs and gradients.
type compiled struct {
	vm      G.VM
	inputs  map[string]*G.Node
	outputs map[string]*G.Node
	grads   map[string]*G.Node
	reads   map[string]*cuda.Reader // on a GPU, host copies of outputs and grads (see cuda.ReadBack)
	used    int64
}

// graph returns the cached graph under key, building it with build on a miss
// (an inference graph when infer is set, see builder). When the graphs run
// on a GPU (cuda.Enabled) every graph is built from gorgonia's own ops, whose
// matrix products and elementwise arithmetic gorgonia's CUDA machine runs on
// the device, rather than from the fused inference ops, which run on the
// CPU. The caller holds m.mu.
func (m *Model) graph(key string, infer bool, build func(b *builder) *compiled) (*compiled, error) {
	infer = infer && !cuda.Enabled()
	m.tick++
	if c, ok := m.graphs[key]; ok {
		c.used = m.tick
		return c, nil
	}
	m.builds++
	b := newBuilder(m, infer)
	c, err := func() (c *compiled, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("t5: building graph %s panicked: %v\n%s", key, r, debug.Stack())
			}
		}()
		c = build(b)
		if b.err != nil {
			return nil, fmt.Errorf("t5: building graph %s: %w", key, b.err)
		}
		if cuda.Enabled() {
			c.reads = map[string]*cuda.Reader{}
			for _, nodes := range []map[string]*G.Node{c.outputs, c.grads} {
				for name, n := range nodes {
					r, err := cuda.ReadBack(n)
					if err != nil {
						return nil, fmt.Errorf("t5: graph %s: %w", key, err)
					}
					c.reads[name] = r
				}
			}
		}
		if c.vm, err = cuda.NewMachine(b.g); err != nil {
			return nil, fmt.Errorf("t5: graph %s: %w", key, err)
		}
		return c, nil
	}()
	if err != nil {
		return nil, err
	}
	if m.graphs == nil {
		m.graphs = map[string]*compiled{}
	}
	if len(m.graphs) >= maxCachedGraphs {
		var oldest string
		for k, g := range m.graphs {
			if oldest == "" || g.used < m.graphs[oldest].used {
				oldest = k
			}
		}
		m.graphs[oldest].vm.Close()
		delete(m.graphs, oldest)
	}
	c.used = m.tick
	m.graphs[key] = c
	return c, nil
}

// run binds the inputs, runs the graph and returns copies of the named
// outputs and gradients.
func (c *compiled) run(in map[string]tensor.Tensor, outs ...string) (res map[string][]float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("t5: running graph panicked: %v\n%s", r, debug.Stack())
		}
	}()
	for name, v := range in {
		n, ok := c.inputs[name]
		if !ok {
			return nil, fmt.Errorf("t5: internal error: graph has no input %q", name)
		}
		if err := G.Let(n, v); err != nil {
			return nil, fmt.Errorf("t5: binding %s: %w", name, err)
		}
	}
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("t5: running graph: %w", err)
	}
	res = map[string][]float32{}
	for _, name := range outs {
		n, ok := c.outputs[name]
		if !ok {
			n, ok = c.grads[name]
		}
		if !ok {
			return nil, fmt.Errorf("t5: internal error: graph has no output %q", name)
		}
		v, err := f32s(c.reads[name].Value([]*G.Node{n}, 0))
		if err != nil {
			return nil, fmt.Errorf("t5: reading %s: %w", name, err)
		}
		res[name] = append([]float32(nil), v...)
	}
	return res, nil
}

func intTensor(x []int) tensor.Tensor {
	return tensor.New(tensor.WithShape(len(x)), tensor.WithBacking(x))
}

func floatTensor(x []float32, shape ...int) tensor.Tensor {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))
}

// ---------------------------------------------------------------- encoder

// encoderGraph: ids [n·s] → hidden [n·s, d_model] and every decoder layer's
// cross-attention keys and values side by side, ckv<i> [n·s, 2·inner]. It is
// an inference graph.
func (m *Model) encoderGraph(n, s int) (*compiled, error) {
	return m.graph(fmt.Sprintf("encoder n=%d s=%d", n, s), true, func(b *builder) *compiled {
		c := &compiled{inputs: map[string]*G.Node{}, outputs: map[string]*G.Node{}}
		ids := b.input("ids", tensor.Int, n*s)
		buckets := b.input("buckets", tensor.Int, s*s)
		mask := b.input("mask", tensor.Float32, n, s, s)
		c.inputs["ids"], c.inputs["buckets"], c.inputs["mask"] = ids, buckets, mask
		bias := b.positionBias("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", buckets, mask, n, s, s, "enc.bias")
		h := b.encoderStack(b.embed(ids, "enc.embed"), bias, n, s)
		c.outputs["hidden"] = h
		for i := 0; i < b.cfg.NumDecoderLayers; i++ {
			c.outputs[fmt.Sprintf("ckv%d", i)] = b.crossKV(h, i)
		}
		return c
	})
}

// ---------------------------------------------------------------- teacher-forced seq2seq pass

// seq2seqGraph: the whole model on encoder ids [n·s] and decoder ids [n·t].
// Without train it is an inference graph that outputs logits [n·t, vocab];
// with train it takes labels [n·t] and outputs the loss and the gradient of
// every parameter (grads keyed by graph parameter name, lm_head.weight
// included even when tied).
func (m *Model) seq2seqGraph(n, s, t int, train bool) (*compiled, error) {
	return m.graph(fmt.Sprintf("seq2seq n=%d s=%d t=%d train=%v", n, s, t, train), !train, func(b *builder) *compiled {
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

		encBias := b.positionBias("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", encBuckets, encMask, n, s, s, "enc.bias")
		enc := b.encoderStack(b.embed(encIDs, "enc.embed"), encBias, n, s)
		decBias := b.positionBias("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", decBuckets, decMask, n, t, t, "dec.bias")
		dec := b.decoderStack(b.embed(decIDs, "dec.embed"), enc, decBias, crossBias, n, t, s)
		logits := b.lmHead(dec)
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
		names := append(m.ParameterNames(), "lm_head.weight")
		if !b.cfg.TieWordEmbeddings {
			names = names[:len(names)-1]
		}
		wrt := make(G.Nodes, len(names))
		for i, name := range names {
			wrt[i] = b.param(name)
		}
		grads, err := G.Grad(loss, wrt...)
		b.fail(err)
		for i, name := range names {
			if i < len(grads) {
				c.grads[name] = grads[i]
			}
		}
		return c
	})
}
