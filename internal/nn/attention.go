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
	if cfg.Batch <= 0 || n%cfg.Batch != 0 {
		return nil, fmt.Errorf("nn: Attention over %d rows cannot split into %d sequences", n, cfg.Batch)
	}
	if cfg.Heads <= 0 || d%cfg.Heads != 0 {
		return nil, fmt.Errorf("nn: Attention dim %d is not a multiple of %d heads", d, cfg.Heads)
	}
	t := n / cfg.Batch
	if !mask.Shape().Eq(tensor.Shape{cfg.Batch, t}) {
		return nil, fmt.Errorf("nn: Attention mask has shape %v, want [%d %d]", mask.Shape(), cfg.Batch, t)
	}
	a := attn{b: cfg.Batch, t: t, d: d, h: cfg.Heads, scale: 1 / math.Sqrt(float64(d/cfg.Heads))}
	var unique uint64
	if cfg.Dropout.active() {
		a.drop = cfg.Dropout
		a.st = &maskState{keep: make([]bool, a.b*a.h*t*t)}
		unique = stateIDs.Add(1)
	}
	fwd, err := pick(q.Dtype(), attnForward[float32](a), attnForward[float64](a))
	if err != nil {
		return nil, err
	}
	o := &op{name: a.String(), in: typesOf(q, k, v, mask), shape: shapeOf(q), dtype: q.Dtype(), fwd: fwd,
		diff: []bool{true, true, true, false}, unique: unique}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		f, err := pick(q.Dtype(), attnGrad[float32](a), attnGrad[float64](a))
		if err != nil {
			return nil, err
		}
		packed, err := apply(&op{name: a.String() + "Grad", in: typesOf(q, k, v, mask, grad),
			shape: append(tensor.Shape{3}, shapeOf(q)...), dtype: q.Dtype(), fwd: f, unique: unique},
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

// attn holds the sizes of one attention op.
type attn struct {
	b, t, d, h int
	scale      float64
	drop       *Dropout
	st         *maskState
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
func probs[T float](a attn, q, k, mask []T, b, h int, p []T) []bool {
	t, d, hd := a.t, a.d, a.d/a.h
	off := b*t*d + h*hd
	gemm(false, true, t, t, hd, T(a.scale), q[off:], d, k[off:], d, 0, p, t)
	m := mask[b*t : (b+1)*t]
	for i := 0; i < t; i++ {
		row := p[i*t : (i+1)*t]
		hi := T(math.Inf(-1))
		for j := range row {
			row[j] += m[j]
			if row[j] > hi {
				hi = row[j]
			}
		}
		var sum float64
		for j, v := range row {
			e := exp(float64(v) - float64(hi))
			row[j] = T(e)
			sum += e
		}
		inv := 1 / sum
		for j, v := range row {
			row[j] = T(float64(v) * inv)
		}
	}
	if a.st == nil {
		return nil
	}
	blk := (b*a.h + h) * t * t
	return a.st.keep[blk : blk+t*t]
}

func attnForward[T float](a attn) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		q, k, v, mask, y := data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](in[3]), data[T](out)
		if a.st != nil {
			a.drop.fill(a.st.keep)
		}
		t, d, hd := a.t, a.d, a.d/a.h
		scale := T(1 / (1 - a.drop.prob()))
		each(a, t*t, func(b, h int, p []T) {
			if keep := probs(a, q, k, mask, b, h, p); keep != nil {
				for i := range p {
					if keep[i] {
						p[i] *= scale
					} else {
						p[i] = 0
					}
				}
			}
			off := b*t*d + h*hd
			gemm(false, false, t, hd, t, 1, p, t, v[off:], d, 0, y[off:], d)
		})
		return nil
	}
}

// attnGrad computes [dq, dk, dv] from q, k, v, mask and the output gradient g,
// recomputing the probabilities (and reusing the forward run's dropout mask).
func attnGrad[T float](a attn) kernel {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		q, k, v, mask, g := data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](in[3]), data[T](in[4])
		all := data[T](out)
		size := len(q)
		dq, dk, dv := all[:size], all[size:2*size], all[2*size:]
		t, d, hd := a.t, a.d, a.d/a.h
		scale := T(1 / (1 - a.drop.prob()))
		each(a, 3*t*t, func(b, h int, buf []T) {
			p, pd, dp := buf[:t*t], buf[t*t:2*t*t], buf[2*t*t:]
			keep := probs(a, q, k, mask, b, h, p)
			copy(pd, p)
			for i := range pd {
				if keep != nil {
					if keep[i] {
						pd[i] *= scale
					} else {
						pd[i] = 0
					}
				}
			}
			off := b*t*d + h*hd
			// dv = pdᵀ·g; d(pd) = g·vᵀ
			gemm(true, false, t, hd, t, 1, pd, t, g[off:], d, 0, dv[off:], d)
			gemm(false, true, t, t, hd, 1, g[off:], d, v[off:], d, 0, dp, t)
			// through dropout, then softmax: ds = p·(dp - Σ dp·p)
			for i := 0; i < t; i++ {
				pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
				var dot float64
				for j := range dr {
					if keep != nil {
						if keep[i*t+j] {
							dr[j] *= scale
						} else {
							dr[j] = 0
						}
					}
					dot += float64(dr[j]) * float64(pr[j])
				}
				for j := range dr {
					dr[j] = T(float64(pr[j]) * (float64(dr[j]) - dot))
				}
			}
			// dq = scale·ds·k; dk = scale·dsᵀ·q
			gemm(false, false, t, hd, t, T(a.scale), dp, t, k[off:], d, 0, dq[off:], d)
			gemm(true, false, t, hd, t, T(a.scale), dp, t, q[off:], d, 0, dk[off:], d)
		})
		return nil
	}
}

// prob is the drop probability (0 for nil).
func (d *Dropout) prob() float64 {
	if !d.active() {
		return 0
	}
	return d.P
}
