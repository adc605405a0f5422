package t5

import (
	"errors"
	"fmt"
	"strings"

	"github.com/genq-go/genq/internal/checkpoint"
	"gorgonia.org/tensor"
)

// Tensor is a dense row-major float32 array, used for weights, activations
// and gradients that cross the package boundary.
type Tensor struct {
	Shape []int
	Data  []float32
}

// At returns the element at the given coordinates.
func (t *Tensor) At(idx ...int) float32 {
	off := 0
	for i, d := range t.Shape {
		off = off*d + idx[i]
	}
	return t.Data[off]
}

// paramSpec is one trainable tensor by its hub name and PyTorch shape.
type paramSpec struct {
	name   string
	shape  []int
	linear bool // an nn.Linear weight (out, in), kept transposed in graphs
}

// parameterSpecs lists the parameters of T5ForConditionalGeneration in the
// order of PyTorch's named_parameters(); a tied lm_head is not listed.
func parameterSpecs(c Config) []paramSpec {
	d, inner, ff := c.DModel, c.InnerDim(), c.DFF
	var ps []paramSpec
	add := func(name string, linear bool, shape ...int) {
		ps = append(ps, paramSpec{name, shape, linear})
	}
	attn := func(p string, withBias bool) {
		add(p+".q.weight", true, inner, d)
		add(p+".k.weight", true, inner, d)
		add(p+".v.weight", true, inner, d)
		add(p+".o.weight", true, d, inner)
		if withBias {
			add(p+".relative_attention_bias.weight", false, c.RelativeAttentionNumBuckets, c.NumHeads)
		}
	}
	feedForward := func(p string) {
		if c.Gated() {
			add(p+".DenseReluDense.wi_0.weight", true, ff, d)
			add(p+".DenseReluDense.wi_1.weight", true, ff, d)
		} else {
			add(p+".DenseReluDense.wi.weight", true, ff, d)
		}
		add(p+".DenseReluDense.wo.weight", true, d, ff)
		add(p+".layer_norm.weight", false, d)
	}
	add("shared.weight", false, c.VocabSize, d)
	for i := 0; i < c.NumLayers; i++ {
		p := fmt.Sprintf("encoder.block.%d.layer.", i)
		attn(p+"0.SelfAttention", i == 0)
		add(p+"0.layer_norm.weight", false, d)
		feedForward(p + "1")
	}
	add("encoder.final_layer_norm.weight", false, d)
	for i := 0; i < c.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.layer.", i)
		attn(p+"0.SelfAttention", i == 0)
		add(p+"0.layer_norm.weight", false, d)
		attn(p+"1.EncDecAttention", false)
		add(p+"1.layer_norm.weight", false, d)
		feedForward(p + "2")
	}
	add("decoder.final_layer_norm.weight", false, d)
	if !c.TieWordEmbeddings {
		add("lm_head.weight", true, c.VocabSize, d)
	}
	return ps
}

// ignoredKeys are checkpoint tensors transformers drops on load
// (T5ForConditionalGeneration._keys_to_ignore_on_load_unexpected).
var ignoredKeys = []string{"decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"}

// New builds a model from a config and weights by their hub names in
// PyTorch layout (nn.Linear weights are (out, in)).
func New(cfg Config, weights map[string]*Tensor) (*Model, error) {
	m := make(map[string]*checkpoint.Tensor, len(weights))
	for k, t := range weights {
		m[k] = &checkpoint.Tensor{DType: "F32", Shape: t.Shape, F32: t.Data}
	}
	return newModel(cfg, checkpoint.NewWeights(m, "weights given to t5.New"), LoadOptions{})
}

// newModel takes every parameter from w, shape-checked, tolerating the
// duplicate names under which checkpoints store tied embeddings, and reports
// missing and (unless allowed) unused tensors.
func newModel(cfg Config, w *checkpoint.Weights, opts LoadOptions) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	specs := parameterSpecs(cfg)
	m := &Model{cfg: cfg, params: map[string]*tensor.Dense{}}
	var missing []string
	for _, s := range specs {
		names := []string{s.name}
		if s.name == "shared.weight" {
			// Some exports keep only the per-stack copies of the shared embedding.
			names = append(names, "encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
		}
		t, err := w.Get(s.shape, names...)
		if err != nil {
			if errors.Is(err, checkpoint.ErrMissing) {
				missing = append(missing, s.name)
				continue
			}
			return nil, fmt.Errorf("t5: %w", err)
		}
		m.names = append(m.names, s.name)
		m.setParam(s, t.F32)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("t5: checkpoint %s lacks %d tensor(s) the config needs: %s", w.Source, len(missing), strings.Join(missing, ", "))
	}
	// Tied copies of shared.weight, and keys transformers ignores.
	w.MarkUsed("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
	w.MarkUsed(ignoredKeys...)
	if cfg.TieWordEmbeddings {
		w.MarkUsed("lm_head.weight")
		m.setParam(paramSpec{"lm_head.weight", []int{cfg.VocabSize, cfg.DModel}, true}, m.params["shared.weight"].Data().([]float32))
	}
	if un := w.Unused(); len(un) > 0 && !opts.AllowUnused {
		return nil, fmt.Errorf("t5: checkpoint %s holds %d tensor(s) a %s T5ForConditionalGeneration does not use: %s (set LoadOptions.AllowUnused to ignore them)",
			w.Source, len(un), cfg.FeedForwardProj, strings.Join(un, ", "))
	}
	return m, nil
}

// setParam stores a parameter in graph layout: nn.Linear weights transposed
// to (in, out), everything else as is. The data is copied.
func (m *Model) setParam(s paramSpec, data []float32) {
	if !s.linear {
		m.params[s.name] = newDense(append([]float32(nil), data...), s.shape...)
		return
	}
	m.params[s.name] = newDense(transpose(data, s.shape[0], s.shape[1]), s.shape[1], s.shape[0])
}

// transpose returns the (c, r) transpose of a row-major (r, c) matrix.
func transpose(x []float32, r, c int) []float32 {
	out := make([]float32, len(x))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = x[i*c+j]
		}
	}
	return out
}

// ParameterNames lists the trainable parameters by their hub names, in the
// order of PyTorch's named_parameters() (a tied lm_head is shared.weight).
func (m *Model) ParameterNames() []string { return append([]string(nil), m.names...) }

// Parameter returns a copy of a parameter in PyTorch layout ((out, in) for
// nn.Linear weights), or nil for an unknown name.
func (m *Model) Parameter(name string) *Tensor {
	t, ok := m.params[name]
	if !ok {
		return nil
	}
	data := t.Data().([]float32)
	shape := t.Shape()
	for _, s := range parameterSpecs(m.cfg) {
		if s.name == name && s.linear {
			return &Tensor{Shape: []int{shape[1], shape[0]}, Data: transpose(data, shape[0], shape[1])}
		}
	}
	return &Tensor{Shape: []int(shape.Clone()), Data: append([]float32(nil), data...)}
}
