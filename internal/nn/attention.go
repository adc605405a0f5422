package nn

import (
	"fmt"
	"math"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AttentionConfig describes multi-head self-attention over a batch.
type AttentionConfig struct {
	Batch   int      // sequences in the batch (B)
	Heads   int      // attention heads (H); the model dim must be a multiple
	Dropout *Dropout // dropout on the attention probabilities; nil for none
}

// Attention computes multi-head scaled dot-product attention, as BERT's and
// DistilBERT's self-attention do between their q/k/v and output projections:
// for each sequence b and head h, softmax(q·kᵀ/√d_head + mask[b]) · v, with
// the heads laid out side by side in the last axis.
//
// q, k and v are [B·T, D] (or [B, T, D]) projections; mask is the [B, T]
// additive padding mask from AdditiveMask (0 to attend, a large negative
// number to ignore a key). The result has q's shape. mask gets no gradient.
func Attention(q, k, v, mask *G.Node, cfg AttentionConfig) (*G.Node, error) {
	n, d := rows(q.Shape())
	if !k.Shape().Eq(q.Shape()) || !v.Shape().Eq(q.Shape()) {
		return nil, fmt.Errorf("nn: Attention needs q, k, v of one shape, got %v, %v, %v", q.Shape(), k.Shape(), v.Shape())
	}
	a, err := bertAttention(n, d, 0, mask, cfg)
	if err != nil {
		return nil, err
	}
	return Attend(q, k, v, mask, a, shapeOf(q), cfg.Dropout)
}

// SelfAttention is Attention over a fused projection: qkv is [B·T, 3·D] (or
// [B, T, 3·D]) with q, k and v side by side in the last axis, what one
// Linear with the three weight matrices stacked as [3·D, D] computes. The
// result is [B·T, D] ([B, T, D]); the gradient is again [B·T, 3·D], so the
// projection's backward is one product too. Nothing is copied: the kernels
// read q, k and v in place.
func SelfAttention(qkv, mask *G.Node, cfg AttentionConfig) (*G.Node, error) {
	n, d3 := rows(qkv.Shape())
	if d3%3 != 0 {
		return nil, fmt.Errorf("nn: SelfAttention needs [..., 3·D] fused q/k/v projections, got %v", qkv.Shape())
	}
	a, err := bertAttention(n, d3/3, d3/3, mask, cfg)
	if err != nil {
		return nil, err
	}
	shape := shapeOf(qkv)
	shape[len(shape)-1] = d3 / 3
	return Attend(qkv, qkv, qkv, mask, a, shape, cfg.Dropout)
}

// bertAttention checks the sizes of a BERT attention over n rows of width d
// (q, k, v side by side at columns 0, step, 2·step of rows of width d +
// 2·step; step 0 for three separate inputs) with a [B, T] additive mask.
func bertAttention(n, d, step int, mask *G.Node, cfg AttentionConfig) (*kernel.Attention, error) {
	if cfg.Batch <= 0 || n%cfg.Batch != 0 {
		return nil, fmt.Errorf("nn: Attention over %d rows cannot split into %d sequences", n, cfg.Batch)
	}
	if cfg.Heads <= 0 || d%cfg.Heads != 0 {
		return nil, fmt.Errorf("nn: Attention dim %d is not a multiple of %d heads", d, cfg.Heads)
	}
	t, hd := n/cfg.Batch, d/cfg.Heads
	if !mask.Shape().Eq(tensor.Shape{cfg.Batch, t}) {
		return nil, fmt.Errorf("nn: Attention mask has shape %v, want [%d %d]", mask.Shape(), cfg.Batch, t)
	}
	ld := d + 2*step
	return &kernel.Attention{Batch: cfg.Batch, Heads: cfg.Heads, Queries: t, Keys: t, HeadDim: hd,
		Scale: 1 / math.Sqrt(float64(hd)),
		Q:     kernel.Rows(t, ld, 0, hd), K: kernel.Rows(t, ld, step, hd), V: kernel.Rows(t, ld, 2*step, hd),
		Out: kernel.Rows(t, d, 0, hd), Bias: kernel.Layout{Batch: t}}, nil
}

// Attend adds kernel.Attend of a to the graph: the attention of queries q
// over keys k and values v, each read in place through a's layouts (q, k
// and v may be one node, a fused projection), with the additive bias (nil
// for none), into an output of shape out, which must hold a.Out's layout.
// With drop, the probabilities go through dropout (a fresh mask each run,
// reused by the backward pass). Its gradient flows to q, k, v and, when the
// bias is one full [B·H, S, T] block per (sequence, head) (T5's position
// bias), to the bias; a broadcast bias (a padding mask) gets none. Where q,
// k and v are one node, their layouts must not overlap (they are the
// columns of a fused projection). a is copied; PackedK/PackedV are not
// supported here.
func Attend(q, k, v, bias *G.Node, a *kernel.Attention, out tensor.Shape, drop *Dropout, opts ...Option) (*G.Node, error) {
	at := *a
	if at.PackedK != nil || at.PackedV != nil || at.Keep != nil {
		return nil, fmt.Errorf("nn: Attend takes no packed keys and values or dropout mask (use drop)")
	}
	// The distinct input nodes, and which of them q, k and v are.
	var in G.Nodes
	index := func(n *G.Node) int {
		for i, m := range in {
			if m == n {
				return i
			}
		}
		in = append(in, n)
		return len(in) - 1
	}
	which := [3]int{index(q), index(k), index(v)}
	nx := len(in)
	if bias != nil {
		in = append(in, bias)
	}
	name := fmt.Sprintf("Attend{B=%d H=%d S=%d T=%d D=%d scale=%g q=%v k=%v v=%v out=%v bias=%v}",
		at.Batch, at.Heads, at.Queries, at.Keys, at.HeadDim, at.Scale, at.Q, at.K, at.V, at.Out, at.Bias)
	var unique uint64
	var st *maskState
	if drop.active() {
		st = &maskState{keep: make([]bool, at.Batch*at.Heads*at.Queries*at.Keys)}
		at.Keep, at.KeepScale = st.keep, 1/(1-drop.P)
		unique = stateIDs.Add(1)
	}
	biasGrad := bias != nil && at.Bias == kernel.Blocks(at.Heads, at.Queries, at.Keys) &&
		bias.Shape().TotalSize() == at.Batch*at.Heads*at.Queries*at.Keys
	o, err := newOp(name, q.Dtype(), out, attendKernel[float32](&at, which, nx, st, drop), attendKernel[float64](&at, which, nx, st, drop), in...)
	if err != nil {
		return nil, err
	}
	o.unique = unique
	if bias != nil && !biasGrad {
		o.diff[nx] = false
	}
	st2 := &attendState{a: &at, which: which, nx: nx, mask: st, drop: drop, biasGrad: biasGrad}
	o.dev = twin{kind: devAttend, attn: st2}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		// One op computes every input's gradient into one flat tensor; views
		// cut it into the gradients.
		offs, total := make([]int, len(in)+1), 0
		for i, n := range in {
			offs[i] = total
			if i < nx || (i == nx && biasGrad) {
				total += n.Shape().TotalSize()
			}
		}
		offs[len(in)] = total
		children := append(append(G.Nodes{}, in...), grad)
		b, err := newOp(name+"Grad", q.Dtype(), tensor.Shape{total}, attendGrad[float32](&at, which, nx, biasGrad, offs),
			attendGrad[float64](&at, which, nx, biasGrad, offs), children...)
		if err != nil {
			return nil, err
		}
		b.unique = unique
		bs := *st2
		bs.offs = offs
		b.dev = twin{kind: devAttend, grad: 1, attn: &bs}
		g, err := apply(b, children...)
		if err != nil {
			return nil, err
		}
		grads := make(G.Nodes, len(in))
		for i, n := range in {
			if i < nx || (i == nx && biasGrad) {
				if grads[i], err = part(g, offs[i], shapeOf(n)); err != nil {
					return nil, fmt.Errorf("nn: attention gradient: %w", err)
				}
			}
		}
		return grads, nil
	}
	return applyWith(o, opts, in...)
}

// attendState is what Attend's device twins need beyond the inputs: the
// attention (layouts, scale, dropout scale), which distinct input q, k and v
// are, where the bias is, the dropout mask drawn on the host and its source,
// whether the bias gets a gradient, and (backward) where each input's
// gradient lies in the flat output.
type attendState struct {
	a        *kernel.Attention
	which    [3]int
	nx       int
	mask     *maskState // nil without dropout
	drop     *Dropout
	biasGrad bool
	offs     []int
}

// attendKernel runs kernel.Attend on the distinct inputs (q, k, v at
// which; the bias, if any, at nx), drawing a fresh dropout mask into st.
func attendKernel[T float](a *kernel.Attention, which [3]int, nx int, st *maskState, drop *Dropout) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		var bias []T
		if len(in) > nx {
			bias = data[T](in[nx])
		}
		if st != nil {
			drop.fill(st.keep)
		}
		return kernel.Attend(a, data[T](out), data[T](in[which[0]]), data[T](in[which[1]]), data[T](in[which[2]]), bias)
	}
}

// attendGrad runs kernel.AttendBackward on the inputs and the output
// gradient (the last input), writing the gradient of distinct input i at
// offs[i] of the flat output.
func attendGrad[T float](a *kernel.Attention, which [3]int, nx int, biasGrad bool, offs []int) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		all := data[T](out)
		clear(all) // columns of a fused projection outside the heads get 0
		g := func(i int) []T { return all[offs[i]:offs[i+1]] }
		var bias, dbias []T
		if nx < len(in)-1 {
			bias = data[T](in[nx])
			if biasGrad {
				dbias = g(nx)
			}
		}
		x := func(i int) []T { return data[T](in[which[i]]) }
		return kernel.AttendBackward(a, g(which[0]), g(which[1]), g(which[2]), dbias, x(0), x(1), x(2), bias, data[T](in[len(in)-1]))
	}
}
