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
}

// Open reads the weights of a checkpoint folder: model.safetensors when present,
// else pytorch_model.bin.
func Open(dir string) (*Weights, error) {
	st := filepath.Join(dir, "model.safetensors")
	bin := filepath.Join(dir, "pytorch_model.bin")
	var (
		m   map[string]*Tensor
		src string
		err error
	)
	switch {
	case exists(st):
		src = st
		m, err = ReadSafetensors(st)
	case exists(bin):
		src = bin
		m, err = ReadPyTorch(bin)
	default:
		return nil, fmt.Errorf("checkpoint: %s holds neither model.safetensors nor pytorch_model.bin", dir)
	}
	if err != nil {
		return nil, err
	}
	return NewWeights(m, src), nil
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
