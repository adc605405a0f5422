package nn

import (
	"fmt"
	"math"
	"runtime"
	"sync"

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
	a, err := newAttn(n, d, mask, cfg)
	if err != nil {
		return nil, err
	}
	fwd, err := pick(q.Dtype(), attnForward[float32](a), attnForward[float64](a))
	if err != nil {
		return nil, err
	}
	o := &op{name: a.String(), in: typesOf(q, k, v, mask), shape: shapeOf(q), dtype: q.Dtype(), fwd: fwd,
		diff: []bool{true, true, true, false}, unique: a.unique}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		f, err := pick(q.Dtype(), attnGrad[float32](a), attnGrad[float64](a))
		if err != nil {
			return nil, err
		}
		packed, err := apply(&op{name: a.String() + "Grad", in: typesOf(q, k, v, mask, grad),
			shape: append(tensor.Shape{3}, shapeOf(q)...), dtype: q.Dtype(), fwd: f, unique: a.unique},
			in[0], in[1], in[2], in[3], grad)
		if err != nil {
			return nil, err
		}
		out := make(G.Nodes, 4)
		for i := range 3 {
			if out[i], err = part(packed, i, shapeOf(q)); err != nil {
				return nil, fmt.Errorf("nn: attention gradient: %w", err)
			}
		}
		return out, nil
	}
	return apply(o, q, k, v, mask)
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
	a, err := newAttn(n, d3/3, mask, cfg)
	if err != nil {
		return nil, err
	}
	a.fused = true
	fwd, err := pick(qkv.Dtype(), attnForward[float32](a), attnForward[float64](a))
	if err != nil {
		return nil, err
	}
	shape := shapeOf(qkv)
	shape[len(shape)-1] = a.d
	o := &op{name: "Self" + a.String(), in: typesOf(qkv, mask), shape: shape, dtype: qkv.Dtype(), fwd: fwd,
		diff: []bool{true, false}, unique: a.unique}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		f, err := pick(qkv.Dtype(), attnGrad[float32](a), attnGrad[float64](a))
		if err != nil {
			return nil, err
		}
		dqkv, err := apply(&op{name: "Self" + a.String() + "Grad", in: typesOf(qkv, mask, grad),
			shape: shapeOf(qkv), dtype: qkv.Dtype(), fwd: f, unique: a.unique}, in[0], in[1], grad)
		return G.Nodes{dqkv, nil}, err
	}
	return apply(o, qkv, mask)
}

// newAttn checks the sizes of an attention over n rows of width d and sets
// up its dropout state.
func newAttn(n, d int, mask *G.Node, cfg AttentionConfig) (attn, error) {
	if cfg.Batch <= 0 || n%cfg.Batch != 0 {
		return attn{}, fmt.Errorf("nn: Attention over %d rows cannot split into %d sequences", n, cfg.Batch)
	}
	if cfg.Heads <= 0 || d%cfg.Heads != 0 {
		return attn{}, fmt.Errorf("nn: Attention dim %d is not a multiple of %d heads", d, cfg.Heads)
	}
	t := n / cfg.Batch
	if !mask.Shape().Eq(tensor.Shape{cfg.Batch, t}) {
		return attn{}, fmt.Errorf("nn: Attention mask has shape %v, want [%d %d]", mask.Shape(), cfg.Batch, t)
	}
	a := attn{b: cfg.Batch, t: t, d: d, h: cfg.Heads, scale: 1 / math.Sqrt(float64(d/cfg.Heads))}
	if cfg.Dropout.active() {
		a.drop = cfg.Dropout
		a.st = &maskState{keep: make([]bool, a.b*a.h*t*t)}
		a.unique = stateIDs.Add(1)
	}
	return a, nil
}

// attn holds the sizes of one attention op.
type attn struct {
	b, t, d, h int
	scale      float64
	fused      bool // q, k, v come side by side in one [B·T, 3·D] input
	drop       *Dropout
	st         *maskState
	unique     uint64 // nonzero with dropout (the op is stateful)
}

// qkv is where q, k and v (or their gradients) lie: head h of row r of q
// starts at q[r·ld + h·D/H], and so on.
type qkv[T float] struct {
	q, k, v []T
	ld      int
}

// split returns the q/k/v views of an attention's inputs (or of its
// gradient output): one fused [B·T, 3·D] slice, or three [B·T, D] ones.
func splitQKV[T float](a attn, all ...[]T) qkv[T] {
	if a.fused {
		return qkv[T]{q: all[0], k: all[0][a.d:], v: all[0][2*a.d:], ld: 3 * a.d}
	}
	return qkv[T]{q: all[0], k: all[1], v: all[2], ld: a.d}
}

func (a attn) String() string {
	return fmt.Sprintf("Attention{B=%d T=%d D=%d H=%d}", a.b, a.t, a.d, a.h)
}

// each runs f(b, h, scratch) for every sequence and head, in parallel.
func each[T float](a attn, scratch int, f func(b, h int, buf []T)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), a.b*a.h)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]T, scratch)
			for j := range jobs {
				f(j/a.h, j%a.h, buf)
			}
		}()
	}
	for j := range a.b * a.h {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
}

// probs computes the softmax attention probabilities p [T, T] of sequence b,
// head h, and returns the dropout keep mask of that block (nil without dropout).
func probs[T float](a attn, x qkv[T], mask []T, b, h int, p []T) []bool {
	t, hd := a.t, a.d/a.h
	off := b*t*x.ld + h*hd
	gemmSerial(false, true, t, t, hd, T(a.scale), x.q[off:], x.ld, x.k[off:], x.ld, 0, p, t)
	m := mask[b*t : (b+1)*t]
	for i := 0; i < t; i++ {
		softmaxRow(p[i*t:(i+1)*t], m)
	}
	if a.st == nil {
		return nil
	}
	blk := (b*a.h + h) * t * t
	return a.st.keep[blk : blk+t*t]
}

// softmaxRow sets row to softmax(row + mask), in float64 from the maximum on.
func softmaxRow[T float](row, mask []T) {
	hi := T(math.Inf(-1))
	lo := 0
	r32, vec := any(row).([]float32)
	vec = vec && haveAVX2
	if vec {
		hi = T(addMaxAVX2(r32, any(mask).([]float32)))
		lo = len(row) &^ 7
	}
	for j := lo; j < len(row); j++ {
		row[j] += mask[j]
		if row[j] > hi {
			hi = row[j]
		}
	}
	inv := 1 / expShift(row, float64(hi))
	lo = 0
	if vec {
		scaleAVX2(r32, inv)
		lo = len(row) &^ 3
	}
	for j := lo; j < len(row); j++ {
		row[j] = T(float64(row[j]) * inv)
	}
}

// expShift sets row[j] = e^(row[j] - hi) and returns the sum of the
// exponentials (before rounding to T).
func expShift[T float](row []T, hi float64) float64 {
	var sum float64
	lo := 0
	if r32, ok := any(row).([]float32); ok && haveAVX2 {
		var lanes [4]float64
		expShiftAVX2(r32, hi, &lanes)
		sum = lanes[0] + lanes[1] + lanes[2] + lanes[3]
		lo = len(row) &^ 3
	}
	for j, v := range row[lo:] {
		e := exp(float64(v) - hi)
		row[lo+j] = T(e)
		sum += e
	}
	return sum
}

// inputs returns the float inputs of an attention op (q, k, v or the fused
// qkv) and the mask.
func inputs[T float](a attn, in []*tensor.Dense) (qkv[T], []T) {
	if a.fused {
		return splitQKV(a, data[T](in[0])), data[T](in[1])
	}
	return splitQKV(a, data[T](in[0]), data[T](in[1]), data[T](in[2])), data[T](in[3])
}

func attnForward[T float](a attn) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, mask := inputs[T](a, in)
		y := data[T](out)
		if a.st != nil {
			a.drop.fill(a.st.keep)
		}
		t, d, hd := a.t, a.d, a.d/a.h
		scale := T(1 / (1 - a.drop.prob()))
		each(a, t*t, func(b, h int, p []T) {
			if keep := probs(a, x, mask, b, h, p); keep != nil {
				for i := range p {
					if keep[i] {
						p[i] *= scale
					} else {
						p[i] = 0
					}
				}
			}
			off := b*t*x.ld + h*hd
			gemmSerial(false, false, t, hd, t, 1, p, t, x.v[off:], x.ld, 0, y[b*t*d+h*hd:], d)
		})
		return nil
	}
}

// attnGrad computes the gradients of q, k and v (packed [3, B·T, D], or
// [B·T, 3·D] when fused) from the inputs and the output gradient g (the last
// input), recomputing the probabilities (and reusing the forward run's
// dropout mask).
func attnGrad[T float](a attn) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, mask := inputs[T](a, in)
		g := data[T](in[len(in)-1])
		all := data[T](out)
		var dx qkv[T]
		if a.fused {
			dx = splitQKV(a, all)
		} else {
			size := len(all) / 3
			dx = splitQKV(a, all[:size], all[size:2*size], all[2*size:])
		}
		t, d, hd := a.t, a.d, a.d/a.h
		scale := T(1 / (1 - a.drop.prob()))
		each(a, 3*t*t, func(b, h int, buf []T) {
			p, pd, dp := buf[:t*t], buf[t*t:2*t*t], buf[2*t*t:]
			keep := probs(a, x, mask, b, h, p)
			copy(pd, p)
			if keep != nil {
				for i := range pd {
					if keep[i] {
						pd[i] *= scale
					} else {
						pd[i] = 0
					}
				}
			}
			off, goff := b*t*x.ld+h*hd, b*t*d+h*hd
			// dv = pdᵀ·g; d(pd) = g·vᵀ
			gemmSerial(true, false, t, hd, t, 1, pd, t, g[goff:], d, 0, dx.v[off:], dx.ld)
			gemmSerial(false, true, t, t, hd, 1, g[goff:], d, x.v[off:], x.ld, 0, dp, t)
			// through dropout, then softmax: ds = p·(dp - Σ dp·p)
			for i := 0; i < t; i++ {
				pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
				if keep != nil {
					for j, k := range keep[i*t : (i+1)*t] {
						if k {
							dr[j] *= scale
						} else {
							dr[j] = 0
						}
					}
				}
				dot := dot64(dr, pr)
				for j := range dr {
					dr[j] = T(float64(pr[j]) * (float64(dr[j]) - dot))
				}
			}
			// dq = scale·ds·k; dk = scale·dsᵀ·q
			gemmSerial(false, false, t, hd, t, T(a.scale), dp, t, x.k[off:], x.ld, 0, dx.q[off:], dx.ld)
			gemmSerial(true, false, t, hd, t, T(a.scale), dp, t, x.q[off:], x.ld, 0, dx.k[off:], dx.ld)
		})
		return nil
	}
}

// dot64 is Σ x[i]·y[i] in float64, in two interleaved partial sums.
func dot64[T float](x, y []T) float64 {
	var s0, s1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
	}
	if i < len(x) {
		s0 += float64(x[i]) * float64(y[i])
	}
	return s0 + s1
}

// prob is the drop probability (0 for nil).
func (d *Dropout) prob() float64 {
	if !d.active() {
		return 0
	}
	return d.P
}
