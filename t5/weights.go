package t5

// Weights: the public Tensor type and the path-based loader every module
// reads its weights through. Each tensor is named once, by the module that
// owns it, as a path below the checkpoint's root (see loadModel in
// model.go); the loader checks its shape, takes ownership of its data and
// records the order the modules took the tensors in, which is the order of
// PyTorch's named_parameters().

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/kernel"
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

// shapeSize returns the number of elements of shape, and false when a
// dimension is negative or the product overflows int.
func shapeSize(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// numel returns the number of elements of a tensor of the given shape.
func numel(shape ...int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// check reports whether t is a tensor of the given shape holding its data.
func (t *Tensor) check(what string, shape ...int) error {
	switch {
	case t == nil:
		return fmt.Errorf("t5: %s is nil, want a tensor of shape %v", what, shape)
	case len(t.Shape) != len(shape):
		return fmt.Errorf("t5: %s has shape %v, want %v", what, t.Shape, shape)
	case len(t.Data) != numel(t.Shape...):
		return fmt.Errorf("t5: %s holds %d values for shape %v", what, len(t.Data), t.Shape)
	}
	for i, d := range shape {
		if d >= 0 && t.Shape[i] != d {
			return fmt.Errorf("t5: %s has shape %v, want %v", what, t.Shape, shape)
		}
	}
	return nil
}

// paramSpec is one tensor a module asks the loader for: its checkpoint key
// and PyTorch shape.
type paramSpec struct {
	name  string
	shape []int
}

// vars is the loader the modules read their weights through: a position in
// the checkpoint's key tree (checkpoint.Path) that also records every tensor
// asked for, found or not, and the tensors taken by key.
type vars struct {
	p     checkpoint.Path
	taken *taken
}

// taken is what a loader has handed out.
type taken struct {
	specs []paramSpec
	byKey map[string]*Tensor
}

func newVars(w *checkpoint.Weights) vars {
	return vars{w.Root(), &taken{byKey: map[string]*Tensor{}}}
}

// pp returns the loader one level below v.
func (v vars) pp(name string) vars { return vars{v.p.Pp(name), v.taken} }

// index returns the loader of the i-th module of a list below v.
func (v vars) index(i int) vars { return vars{v.p.Index(i), v.taken} }

// get takes the tensor leaf below v, of the given PyTorch shape, without
// copying its data. A missing or mis-shaped tensor gives nil; the
// checkpoint's Err reports it.
func (v vars) get(leaf string, shape ...int) *Tensor {
	key := v.p.Key(leaf)
	v.taken.specs = append(v.taken.specs, paramSpec{key, shape})
	t := v.p.Get(leaf, shape...)
	if t == nil {
		return nil
	}
	x := &Tensor{Shape: t.Shape, Data: t.F32}
	v.taken.byKey[key] = x
	return x
}

// ignoredKeys are checkpoint tensors transformers drops on load
// (T5ForConditionalGeneration._keys_to_ignore_on_load_unexpected).
var ignoredKeys = []string{"decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"}

// New builds a model from a config and weights by their hub names in
// PyTorch layout (nn.Linear weights are (out, in)). The model takes
// ownership of the tensors' Data, without copying: the caller must not
// change them afterwards.
func New(cfg Config, weights map[string]*Tensor) (*Model, error) {
	m := make(map[string]*checkpoint.Tensor, len(weights))
	var bad []string
	for k, t := range weights {
		if t == nil {
			bad = append(bad, k+" (nil)")
			continue
		}
		if n, ok := shapeSize(t.Shape); !ok || n != len(t.Data) {
			bad = append(bad, fmt.Sprintf("%s (shape %v, %d values)", k, t.Shape, len(t.Data)))
			continue
		}
		m[k] = &checkpoint.Tensor{DType: "F32", Shape: t.Shape, F32: t.Data}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		count, more := len(bad), ""
		if count > 3 {
			bad, more = bad[:3], fmt.Sprintf(" and %d more", count-3)
		}
		return nil, fmt.Errorf("t5: New: %d weight tensor(s) do not hold the values their shape needs: %s%s; give each tensor the product of its shape's dimensions",
			count, strings.Join(bad, ", "), more)
	}
	return newModel(cfg, checkpoint.NewWeights(m, "weights given to t5.New"), LoadOptions{})
}

// newModel takes every parameter from w (their data, not copies),
// shape-checked, tolerating the duplicate names under which checkpoints
// store tied embeddings, and reports missing and (unless allowed) unused
// tensors.
func newModel(cfg Config, w *checkpoint.Weights, opts LoadOptions) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := newVars(w)
	mod := loadModel(v, cfg)
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("t5: %w", err)
	}
	// Tied copies of shared.weight, and keys transformers ignores.
	w.MarkUsed("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
	w.MarkUsed(ignoredKeys...)
	if cfg.TieWordEmbeddings {
		w.MarkUsed("lm_head.weight")
	}
	if un := w.Unused(); len(un) > 0 && !opts.AllowUnused {
		return nil, fmt.Errorf("t5: checkpoint %s holds %d tensor(s) a %s T5ForConditionalGeneration does not use: %s (set LoadOptions.AllowUnused to ignore them)",
			w.Source, len(un), cfg.FeedForwardProj, checkpoint.NameList(un))
	}
	mod.name(w.Order(), v.taken.byKey)
	return &Model{cfg: cfg, mod: mod}, nil
}

// parameterSpecs lists the tensors a model of cfg takes, by checkpoint key
// and PyTorch shape, in the order of PyTorch's named_parameters() (a tied
// lm_head is not listed): what loadModel asks for.
func parameterSpecs(cfg Config) []paramSpec {
	v := newVars(checkpoint.NewWeights(map[string]*checkpoint.Tensor{}, ""))
	loadModel(v, cfg)
	return v.taken.specs
}

// ParameterNames lists the trainable parameters by their hub names, in the
// order of PyTorch's named_parameters() (a tied lm_head is shared.weight).
func (m *Model) ParameterNames() []string {
	names := make([]string, len(m.mod.order))
	for i, t := range m.mod.order {
		names[i] = m.mod.names[t]
	}
	return names
}

// Parameter returns a copy of a parameter in PyTorch layout ((out, in) for
// nn.Linear weights), or nil for an unknown name.
func (m *Model) Parameter(name string) *Tensor {
	t := m.mod.byName(name)
	if t == nil {
		return nil
	}
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// linearRows returns x [rows, in] times the transposed weights (out_i, in)
// side by side, [rows, Σ out_i]: bias-free nn.Linear layers outside a graph.
func linearRows(x []float32, rows int, ws ...*Tensor) []float32 {
	total := 0
	for _, w := range ws {
		total += w.Shape[0]
	}
	out := make([]float32, rows*total)
	col := 0
	for _, w := range ws {
		o, k := w.Shape[0], w.Shape[1]
		kernel.Gemm(false, true, rows, o, k, 1, x, k, w.Data, k, 0, out[col:], total)
		col += o
	}
	return out
}
