package nn

import (
	"fmt"
	"sync"
	"sync/atomic"

	kernels "github.com/genq-go/genq/internal/gemm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Weights tracks whether the values of a set of weight tensors may have
// changed, for ops that keep something derived from them between runs (the
// weight matrices of LinearPacked, packed for the matrix kernel). Call
// Changed after writing to any of them (an optimizer step, loading a
// checkpoint); the next run of each such op derives its data afresh. The
// zero value is ready to use, and its methods are safe for concurrent use.
type Weights struct {
	version atomic.Uint64
}

// Changed records that the weights' values may have changed.
func (w *Weights) Changed() { w.version.Add(1) }

// LinearPacked is Linear for inference graphs: x·weightᵀ + bias (bias may be
// nil), with float32 weights packed once into the layout of the matrix
// kernel on the first run and reused by later runs until ws reports a
// change, which saves packing the weight on every product. It has no
// gradient (use Linear in graphs that are differentiated), and float64
// inputs run unpacked.
func LinearPacked(x, weight, bias *G.Node, ws *Weights) (*G.Node, error) {
	if ws == nil {
		return nil, fmt.Errorf("nn: LinearPacked needs the *Weights that reports changes of %s", weight.Name())
	}
	shape, err := linearShape(x, weight, bias)
	if err != nil {
		return nil, err
	}
	st := &packState{ws: ws}
	fwd, err := pick(x.Dtype(), linearPackedForward(st), linearForward[float64])
	if err != nil {
		return nil, err
	}
	o := &op{name: "LinearPacked", shape: shape, dtype: x.Dtype(), fwd: fwd, unique: stateIDs.Add(1)}
	if bias == nil {
		o.in = typesOf(x, weight)
		return apply(o, x, weight)
	}
	o.in = typesOf(x, weight, bias)
	return apply(o, x, weight, bias)
}

// packState is the packed weight of one LinearPacked op and the version of
// its Weights it was packed at.
type packState struct {
	ws      *Weights
	mu      sync.Mutex
	packed  *kernels.PackedB
	version uint64
	from    *float32 // the weight data it was packed from
}

// get returns the packed weight w (out×in) for x·wᵀ, packing it when it is
// missing, stale, or was packed from other memory.
func (s *packState) get(w []float32, out, in int) *kernels.PackedB {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.ws.version.Load()
	if s.packed == nil || s.version != v || s.from != &w[0] {
		s.packed, s.version, s.from = kernels.PackB(true, in, out, w, in), v, &w[0]
	}
	return s.packed
}

func linearPackedForward(st *packState) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, w, y := data[float32](in[0]), data[float32](in[1]), data[float32](out)
		o, k := in[1].Shape()[0], in[1].Shape()[1]
		n := len(x) / k
		if n > 0 && o > 0 && k > 0 {
			kernels.SgemmPacked(false, n, 1, x, k, st.get(w, o, k), 0, y, o)
		}
		if len(in) == 3 {
			addBias(y, data[float32](in[2]), n, o)
		}
		return nil
	}
}
