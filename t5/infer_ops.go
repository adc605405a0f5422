package t5

// Forward-only ops of the inference graphs (encoder, teacher-forced logits):
// fused nn.Linear products and a fused attention, computed with
// internal/gemm straight into workspace buffers. They have no derivative;
// the training graph builds the same arithmetic from differentiable ops
// (model.go with builder.infer false).

import (
	"fmt"
	"math"
	"runtime"

	"github.com/chewxy/hm"
	"github.com/genq-go/genq/internal/gemm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// activation is what linearOp applies to the product.
type activation int

const (
	actNone      activation = iota
	actReLU                 // max(0, x)
	actGatedGelu            // gelu_new(x·W₀) ⊙ x·W₁ (T5DenseGatedActDense)
)

// linearOp computes x·W₁ᵀ | x·W₂ᵀ | … for x [N, in] and weights W_i (out_i,
// in) in PyTorch's layout, the products side by side in one [N, Σ
// out_i] output (the q, k and v projections of a self-attention in one
// node), times alpha, then:
//   - with residual, adds a last input r [N, out] (the sublayer's skip
//     connection: the product accumulates onto a copy of r);
//   - with act, ReLU, or the gated gelu_new of two equally wide products
//     (output [N, out₁]).
type linearOp struct {
	opBase
	weights  int
	alpha    float32
	act      activation
	residual bool
	out      outBuf
	pre      outBuf // the two products before gating (actGatedGelu)
}

func newLinear(weights int, alpha float32, act activation, residual bool, out outBuf) linearOp {
	name := fmt.Sprintf("t5.linear{%d,%g,%d,%v}%s", weights, alpha, act, residual, out.tag())
	return linearOp{opBase{name}, weights, alpha, act, residual, out, outBuf{out.ws, out.role + ".pre"}}
}

func (o linearOp) Arity() int {
	if o.residual {
		return o.weights + 2
	}
	return o.weights + 1
}

func (o linearOp) Type() hm.Type {
	ts := make([]hm.Type, 0, o.Arity()+1)
	for range o.Arity() + 1 {
		ts = append(ts, floatT(2))
	}
	return fnT(ts...)
}

func (o linearOp) width(in []G.DimSizer) int {
	w := 0
	for _, s := range in[1 : 1+o.weights] {
		w += shapeOf(s)[0]
	}
	if o.act == actGatedGelu {
		w /= 2
	}
	return w
}

func (o linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != o.Arity() {
		return nil, checkArity(o.name, len(in), o.Arity())
	}
	return tensor.Shape{shapeOf(in[0])[0], o.width(in)}, nil
}

func (o linearOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), o.Arity()); err != nil {
		return nil, err
	}
	x, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	xs := in[0].Shape()
	rows, k := xs[0], xs[1]
	ws := make([][]float32, o.weights)
	widths := make([]int, o.weights)
	total := 0
	for i := range ws {
		s := in[1+i].Shape()
		if s[1] != k {
			return nil, fmt.Errorf("t5: %s: weight %d is %v, want %d columns for input %v", o.name, i, s, k, xs)
		}
		if ws[i], err = f32s(in[1+i]); err != nil {
			return nil, err
		}
		widths[i] = s[0]
		total += s[0]
	}
	dst, ld := o.out.alloc(rows*total), total
	var beta float32
	switch {
	case o.act == actGatedGelu:
		if o.weights != 2 || widths[0] != widths[1] {
			return nil, fmt.Errorf("t5: %s: gating needs two weights of equal width, got %v", o.name, widths)
		}
		dst = o.pre.alloc(rows * total)
	case o.residual:
		r, err := f32s(in[1+o.weights])
		if err != nil {
			return nil, err
		}
		if len(r) != len(dst) {
			return nil, fmt.Errorf("t5: %s: residual of %d values for a [%d, %d] output", o.name, len(r), rows, total)
		}
		copy(dst, r)
		beta = 1
	}
	col := 0
	for i, w := range ws {
		gemm.Sgemm(false, true, rows, widths[i], k, o.alpha, x, k, w, k, beta, dst[col:], ld)
		col += widths[i]
	}
	switch o.act {
	case actReLU:
		parallelRows(rows, total, func(lo, hi int) { reluInPlace(dst[lo*total : hi*total]) })
	case actGatedGelu:
		half := widths[0]
		out := o.out.alloc(rows * half)
		parallelRows(rows, total, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				a, b, y := dst[r*total:r*total+half], dst[r*total+half:(r+1)*total], out[r*half:(r+1)*half]
				for j, v := range a {
					y[j] = geluNew(v) * b[j]
				}
			}
		})
		return newDense(out, rows, half), nil
	}
	return newDense(dst, rows, total), nil
}

// reluInPlace sets the negative values of x to zero (and -0 to +0) by
// clearing the bits of negative floats, without a branch on the sign (a coin
// toss for the predictor); NaN stays NaN, as in torch.relu.
func reluInPlace(x []float32) {
	for i, v := range x {
		if v != v {
			continue
		}
		b := math.Float32bits(v)
		x[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// attentionOp is T5's attention over whole sequences without the split into
// heads: for each of n sequences and H heads, softmax(q kᵀ + bias) v, with
// q the head's d_kv columns (from column qOff) of a [n·s, ldq] input, k and
// v those (from kOff, vOff) of a [n·t, ldkv] input — the stacked q|k|v
// projection for self-attention, k|v for cross-attention — and the additive
// bias [n·H, s, t]. The output is the heads side by side, [n·s, H·d_kv],
// ready for the o projection. Each (sequence, head) takes two small GEMMs
// that read the inputs in place through their leading dimensions; pairs
// run on all cores.
type attentionOp struct {
	opBase
	n, h, s, t, d    int
	qOff, kOff, vOff int
	out, scores      outBuf
}

func newAttention(n, h, s, t, d, qOff, kOff, vOff int, out outBuf) attentionOp {
	name := fmt.Sprintf("t5.attention{%d,%d,%d,%d,%d,%d,%d,%d}%s", n, h, s, t, d, qOff, kOff, vOff, out.tag())
	return attentionOp{opBase{name}, n, h, s, t, d, qOff, kOff, vOff, out, outBuf{out.ws, "attention.scores"}}
}

func (o attentionOp) Arity() int    { return 3 }
func (o attentionOp) Type() hm.Type { return fnT(floatT(2), floatT(2), floatT(3), floatT(2)) }
func (o attentionOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.n * o.s, o.h * o.d}, nil
}

func (o attentionOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 3); err != nil {
		return nil, err
	}
	var bufs [3][]float32
	for i := range bufs {
		var err error
		if bufs[i], err = f32s(in[i]); err != nil {
			return nil, err
		}
	}
	q, kv, bias := bufs[0], bufs[1], bufs[2]
	ldq, ldkv := in[0].Shape()[1], in[1].Shape()[1]
	n, hh, s, t, d := o.n, o.h, o.s, o.t, o.d
	switch {
	case len(q) != n*s*ldq || o.qOff+hh*d > ldq:
		return nil, fmt.Errorf("t5: %s: queries %v do not fit", o.name, in[0].Shape())
	case len(kv) != n*t*ldkv || max(o.kOff, o.vOff)+hh*d > ldkv:
		return nil, fmt.Errorf("t5: %s: keys/values %v do not fit", o.name, in[1].Shape())
	case len(bias) != n*hh*s*t:
		return nil, fmt.Errorf("t5: %s: bias %v is not [%d, %d, %d]", o.name, in[2].Shape(), n*hh, s, t)
	}
	inner := hh * d
	out := o.out.alloc(n * s * inner)
	workers := min(runtime.GOMAXPROCS(0), n*hh)
	scores := o.scores.alloc(workers * s * t)
	parallelFor(n*hh, func(w, p int) {
		b, h := p/hh, p%hh
		sc := scores[w*s*t : (w+1)*s*t]
		qp := q[b*s*ldq+o.qOff+h*d:]
		kp := kv[b*t*ldkv+o.kOff+h*d:]
		vp := kv[b*t*ldkv+o.vOff+h*d:]
		gemm.SgemmSerial(false, true, s, t, d, 1, qp, ldq, kp, ldkv, 0, sc, t)
		bp := bias[p*s*t : (p+1)*s*t]
		for i := 0; i < s*t; i += t {
			row := sc[i : i+t]
			addTo(row, bp[i:i+t])
			softmaxRow(row, row)
		}
		gemm.SgemmSerial(false, false, s, d, t, 1, sc, t, vp, ldkv, 0, out[b*s*inner+h*d:], inner)
	})
	return newDense(out, n*s, inner), nil
}
