package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Weights is the name → tensor map of one checkpoint folder, with a record of
// which tensors a model took so that unused ones can be reported.
type Weights struct {
	// Tensors maps the hub's tensor names to their values.
	Tensors map[string]*Tensor
	// Source is the file the tensors were read from.
	Source string
	used   map[string]bool
	order  []string // keys Path.Get took, in order
	errs   []error  // errors Path.Get recorded
}

// Open reads the weights of a checkpoint folder, preferring safetensors as
// transformers does: model.safetensors, else the shards listed by
// model.safetensors.index.json, else pytorch_model.bin, else the shards listed
// by pytorch_model.bin.index.json.
func Open(dir string) (*Weights, error) {
	for _, name := range weightFiles {
		p := filepath.Join(dir, name)
		if !exists(p) {
			continue
		}
		m, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		return NewWeights(m, p), nil
	}
	return nil, fmt.Errorf("checkpoint: %s holds no weights: looked for %s (is it a model folder? download the model first)",
		dir, strings.Join(weightFiles, ", "))
}

// weightFiles lists, in order of preference, the weight files Open looks for.
var weightFiles = []string{
	"model.safetensors",
	"model.safetensors.index.json",
	"pytorch_model.bin",
	"pytorch_model.bin.index.json",
}

// ReadFile reads one weight file, chosen by its name: a safetensors file
// (*.safetensors), a sharded checkpoint's index (*.index.json, whose shards
// are read from the same folder), or else a torch.save archive.
func ReadFile(path string) (map[string]*Tensor, error) {
	switch {
	case strings.HasSuffix(path, ".index.json"):
		return ReadSharded(path)
	case strings.HasSuffix(path, ".safetensors"):
		return ReadSafetensors(path)
	}
	return ReadPyTorch(path)
}

// NewWeights wraps an existing name → tensor map.
func NewWeights(m map[string]*Tensor, source string) *Weights {
	return &Weights{Tensors: m, Source: source, used: map[string]bool{}}
}

// ErrMissing is wrapped by the error Get returns for a tensor that is absent.
var ErrMissing = errors.New("tensor missing")

// Get returns the float tensor stored under the first of names that exists,
// checks that it has the given shape, and marks it used. The error names the
// file, the tensor and both shapes.
func (w *Weights) Get(shape []int, names ...string) (*Tensor, error) {
	for _, n := range names {
		t, ok := w.Tensors[n]
		if !ok {
			continue
		}
		w.used[n] = true
		if !t.ShapeEquals(shape...) {
			return nil, fmt.Errorf("checkpoint %s: tensor %q has shape %v, the config implies %v (does config.json match the weights?)", w.Source, n, t.Shape, shape)
		}
		if t.F32 == nil {
			return nil, fmt.Errorf("checkpoint %s: tensor %q has dtype %s, want a floating-point tensor", w.Source, n, t.DType)
		}
		return t, nil
	}
	return nil, fmt.Errorf("checkpoint %s: %w: %s", w.Source, ErrMissing, strings.Join(names, " or "))
}

// MarkUsed records tensors that a model deliberately ignores or that alias
// another (for example a tied lm_head.weight), so Unused does not report them.
func (w *Weights) MarkUsed(names ...string) {
	for _, n := range names {
		if _, ok := w.Tensors[n]; ok {
			w.used[n] = true
		}
	}
}

// Unused lists, sorted, the tensors no Get or MarkUsed call took.
func (w *Weights) Unused() []string {
	var out []string
	for n := range w.Tensors {
		if !w.used[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
