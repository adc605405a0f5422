package nn

import (
	"fmt"
	"github.com/genq-go/genq/internal/kernel"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout is a seeded source of dropout masks shared by the dropout sites of
// a training graph. Each run of a graph draws fresh masks: an element is
// zeroed with probability P and the survivors are scaled by 1/(1-P), as
// torch.nn.Dropout does in train mode. A nil *Dropout or P == 0 disables it.
// The masks do not reproduce PyTorch's random stream.
type Dropout struct {
	P   float64
	mu  sync.Mutex
	rng *rand.Rand
}

// NewDropout returns a dropout source with probability p drawing from a PCG
// generator seeded with seed.
func NewDropout(p float64, seed uint64) *Dropout {
	return &Dropout{P: p, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// active reports whether d drops anything.
func (d *Dropout) active() bool { return d != nil && d.P > 0 }

// fillBlock is the number of mask elements drawn from one generator.
const fillBlock = 1 << 14

// fill draws a keep mask (true = kept) into keep: one seed from the source,
// then each block of fillBlock elements from its own PCG generator seeded
// with (seed, block index), in parallel. An element is kept when the 53 bits
// of its uniform draw u satisfy u/2⁵³ >= P, as rand.Float64() >= P would
// decide; the mask depends only on the source's state, not on the number
// of threads.
func (d *Dropout) fill(keep []bool) {
	d.mu.Lock()
	seed := d.rng.Uint64()
	d.mu.Unlock()
	threshold := uint64(math.Ceil(d.P * (1 << 53)))
	blocks := (len(keep) + fillBlock - 1) / fillBlock
	kernel.ParallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			g := rand.NewPCG(seed, uint64(b))
			for i := range keep[b*fillBlock : min((b+1)*fillBlock, len(keep))] {
				keep[b*fillBlock+i] = g.Uint64()&(1<<53-1) >= threshold
			}
		}
	})
}

// maskState holds the mask one dropout site drew in the current forward run,
// for its backward op.
type maskState struct {
	keep []bool
}

var stateIDs atomic.Uint64

// dropState is what a dropout site's device twins need: the mask the
// forward op draws on the host (the backward op reuses it), its source and
// the survivors' scale.
type dropState struct {
	mask  *maskState
	src   *Dropout
	scale float64
}

// DropoutOp applies dropout from src to x. With an inactive src it returns x
// unchanged (no node is added), which is what inference graphs want.
func DropoutOp(x *G.Node, src *Dropout) (*G.Node, error) {
	if !src.active() {
		return x, nil
	}
	if src.P >= 1 {
		return nil, fmt.Errorf("nn: dropout probability %g must be below 1", src.P)
	}
	st := &maskState{keep: make([]bool, x.Shape().TotalSize())}
	scale := 1 / (1 - src.P)
	fwd, err := pick(x.Dtype(), dropoutKernel[float32](st, src, scale, true), dropoutKernel[float64](st, src, scale, true))
	if err != nil {
		return nil, err
	}
	id := stateIDs.Add(1)
	ds := &dropState{mask: st, src: src, scale: scale}
	o := &op{name: fmt.Sprintf("Dropout{p=%g}", src.P), in: typesOf(x), shape: shapeOf(x), dtype: x.Dtype(), fwd: fwd,
		unique: id, diff: []bool{true}, dev: twin{kind: devDropout, drop: ds}}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		f, err := pick(x.Dtype(), dropoutKernel[float32](st, src, scale, false), dropoutKernel[float64](st, src, scale, false))
		if err != nil {
			return nil, err
		}
		d, err := apply(&op{name: "DropoutGrad", in: typesOf(grad), shape: shapeOf(grad), dtype: grad.Dtype(), fwd: f, unique: id,
			dev: twin{kind: devDropout, grad: 1, drop: ds}}, grad)
		return G.Nodes{d}, err
	}
	return apply(o, x)
}

// dropoutKernel multiplies by the kept mask times scale; draw makes it draw
// a new mask first (forward) rather than reuse the last one (backward).
func dropoutKernel[T float](st *maskState, src *Dropout, scale float64, draw bool) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		if draw {
			src.fill(st.keep)
		}
		x, y := data[T](in[0]), data[T](out)
		kernel.ParallelFor(len(x), kernel.ElemGrain, func(lo, hi int) {
			for i, v := range x[lo:hi] {
				if st.keep[lo+i] {
					y[lo+i] = T(float64(v) * scale)
				} else {
					y[lo+i] = 0
				}
			}
		})
		return nil
	}
}

// Reseed restarts the generator from seed, so that a training step's masks
// depend only on the seed it is given (a resumed run draws the same ones).
func (d *Dropout) Reseed(seed uint64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rng = rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}
