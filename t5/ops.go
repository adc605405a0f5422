package t5

// Custom gorgonia operations used by the T5 graphs. Each has a forward Do and,
// where the training graph needs it, a symbolic derivative built from further
// ops of this file. They exist because the corresponding gorgonia building
// blocks are either missing (RMS norm, gelu_new, a row gather with a scatter-add
// gradient, the relative-position bias), slow (gorgonia's softmax starts one
// goroutine per row) or wrong for T5's unscaled attention logits (gorgonia
// v0.9.18's softmax takes the row maximum starting from the tensor's first
// element, not the row's, which underflows rows whose values sit far below it).

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"runtime"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ---------------------------------------------------------------- helpers

// floatT returns the type of a float32 tensor with d dimensions (a scalar for d = 0).
func floatT(d int) hm.Type {
	if d == 0 {
		return tensor.Float32
	}
	return G.TensorType{Dims: d, Of: tensor.Float32}
}

// intVecT is the type of an index vector.
var intVecT = G.TensorType{Dims: 1, Of: tensor.Int}

func fnT(ts ...hm.Type) hm.Type { return hm.NewFnType(ts...) }

func f32s(v G.Value) ([]float32, error) {
	switch x := v.(type) {
	case *tensor.Dense:
		if x.IsView() {
			x = x.Materialize().(*tensor.Dense)
		}
		d, ok := x.Data().([]float32)
		if !ok {
			if s, ok := x.Data().(float32); ok {
				return []float32{s}, nil
			}
			return nil, fmt.Errorf("t5: expected float32 data, got %T", x.Data())
		}
		return d, nil
	case *G.F32:
		return []float32{float32(*x)}, nil
	}
	return nil, fmt.Errorf("t5: expected a float32 value, got %T", v)
}

func ints(v G.Value) ([]int, error) {
	x, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("t5: expected an int tensor, got %T", v)
	}
	d, ok := x.Data().([]int)
	if !ok {
		return nil, fmt.Errorf("t5: expected int data, got %T", x.Data())
	}
	return d, nil
}

func newDense(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// opBase supplies the boilerplate every op shares; name must identify the op
// and all of its parameters, since gorgonia merges nodes whose op hashes and
// inputs are equal.
type opBase struct{ name string }

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprint(h, o.name) }
func (o opBase) String() string        { return o.name }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, o.name)
	return h.Sum32()
}

func shapeOf(in G.DimSizer) tensor.Shape {
	s, _ := in.(tensor.Shape)
	return s.Clone()
}

// floatInputs checks that op name got n inputs and returns their float32
// data, in order.
func floatInputs(name string, in []G.Value, n int) ([][]float32, error) {
	if err := checkArity(name, len(in), n); err != nil {
		return nil, err
	}
	xs := make([][]float32, n)
	for i, v := range in {
		x, err := f32s(v)
		if err != nil {
			return nil, err
		}
		xs[i] = x
	}
	return xs, nil
}

func checkArity(name string, got, want int) error {
	if got != want {
		return fmt.Errorf("t5: op %s takes %d inputs, got %d", name, want, got)
	}
	return nil
}

// ---------------------------------------------------------------- softmax over the last axis

type softmaxOp struct{ opBase }

func newSoftmax() softmaxOp { return softmaxOp{opBase{"t5.softmax"}} }

func (o softmaxOp) Arity() int                                        { return 1 }
func (o softmaxOp) Type() hm.Type                                     { a := hm.TypeVariable('a'); return fnT(a, a) }
func (o softmaxOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

func (o softmaxOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 1)
	if err != nil {
		return nil, err
	}
	x := xs[0]
	shape := in[0].Shape()
	n := shape[len(shape)-1]
	out := make([]float32, len(x))
	parallelRows(len(x)/n, n, func(lo, hi int) {
		for r := lo * n; r < hi*n; r += n {
			softmaxRow(out[r:r+n], x[r:r+n])
		}
	})
	return newDense(out, shape.Clone()...), nil
}

// parallelRows calls f on contiguous ranges of [0, rows) from one goroutine
// per core, or once when the rows hold fewer than parallelMinElems values of
// width each.
func parallelRows(rows, width int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), rows)
	if workers <= 1 || rows*width < parallelMinElems {
		f(0, rows)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { f(w*rows/workers, (w+1)*rows/workers) })
	}
	wg.Wait()
}

// parallelMinElems is the work (in values) below which a row-wise op stays
// on one goroutine.
const parallelMinElems = 1 << 15

// softmaxRow writes softmax(x) into dst, subtracting the row maximum first;
// exp is expf (within one float32 ulp of the float64 exp).
func softmaxRow(dst, x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var sum float32
	for i, v := range x {
		e := expf(v - m)
		dst[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range dst {
		dst[i] *= inv
	}
}

func (o softmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (o softmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(softmaxGradOp{opBase{"t5.softmaxGrad"}}, output, grad)
	return G.Nodes{dx}, err
}

// softmaxGradOp computes dx = y ⊙ (dy − Σ dy⊙y) row by row from y = softmax(x).
type softmaxGradOp struct{ opBase }

func (o softmaxGradOp) Arity() int                                        { return 2 }
func (o softmaxGradOp) Type() hm.Type                                     { a := hm.TypeVariable('a'); return fnT(a, a, a) }
func (o softmaxGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

func (o softmaxGradOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 2)
	if err != nil {
		return nil, err
	}
	y, dy := xs[0], xs[1]
	shape := in[0].Shape()
	n := shape[len(shape)-1]
	out := make([]float32, len(y))
	for r := 0; r+n <= len(y); r += n {
		var dot float32
		for i := r; i < r+n; i++ {
			dot += dy[i] * y[i]
		}
		for i := r; i < r+n; i++ {
			out[i] = y[i] * (dy[i] - dot)
		}
	}
	return newDense(out, shape.Clone()...), nil
}

// ---------------------------------------------------------------- T5LayerNorm (RMS norm)

// rmsNormOp computes w ⊙ x / sqrt(mean(x²) + eps) over the last axis of x [N, D]
// with w [D]: T5LayerNorm, which has no mean subtraction and no bias.
type rmsNormOp struct {
	opBase
	eps float64
	out outBuf
}

func newRMSNorm(eps float64, out outBuf) rmsNormOp {
	return rmsNormOp{opBase{fmt.Sprintf("t5.rmsNorm{%g}%s", eps, out.tag())}, eps, out}
}

func (o rmsNormOp) Arity() int                                        { return 2 }
func (o rmsNormOp) Type() hm.Type                                     { return fnT(floatT(2), floatT(1), floatT(2)) }
func (o rmsNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

// rms returns 1/sqrt(mean(x²)+eps) for each row of x.
func (o rmsNormOp) rms(x []float32, d int) []float32 {
	r := make([]float32, len(x)/d)
	for i := range r {
		r[i] = rmsInv(x[i*d:(i+1)*d], o.eps)
	}
	return r
}

func (o rmsNormOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 2)
	if err != nil {
		return nil, err
	}
	x, w := xs[0], xs[1]
	d := len(w)
	out := o.out.alloc(len(x))
	parallelRows(len(x)/d, d, func(lo, hi int) {
		rmsNormRows(out[lo*d:hi*d], x[lo*d:hi*d], w, d, o.eps)
	})
	return newDense(out, in[0].Shape().Clone()...), nil
}

// rmsNormRows writes T5LayerNorm of every row of x [N, d] with weight w [d]
// to dst: w ⊙ x / sqrt(mean(x²) + eps), the mean accumulated in float32.
func rmsNormRows(dst, x, w []float32, d int, eps float64) {
	for i := 0; i+d <= len(x); i += d {
		ri := rmsInv(x[i:i+d], eps)
		row, out := x[i:i+d], dst[i:i+d]
		for j, wj := range w[:d] {
			out[j] = wj * (row[j] * ri)
		}
	}
}

// rmsInv returns 1/sqrt(mean(x²)+eps) for one row.
func rmsInv(x []float32, eps float64) float32 {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	return float32(1 / math.Sqrt(float64(ss/float32(len(x))+float32(eps))))
}

func (o rmsNormOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o rmsNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(rmsNormGradOp{opBase{"t5.rmsNormGradX" + o.name}, o, false}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(rmsNormGradOp{opBase{"t5.rmsNormGradW" + o.name}, o, true}, inputs[0], inputs[1], grad)
	return G.Nodes{dx, dw}, err
}

// rmsNormGradOp is the derivative of rmsNormOp with respect to x (wrtW false)
// or to w (wrtW true), from inputs x, w, dy.
type rmsNormGradOp struct {
	opBase
	norm rmsNormOp
	wrtW bool
}

func (o rmsNormGradOp) Arity() int { return 3 }
func (o rmsNormGradOp) Type() hm.Type {
	if o.wrtW {
		return fnT(floatT(2), floatT(1), floatT(2), floatT(1))
	}
	return fnT(floatT(2), floatT(1), floatT(2), floatT(2))
}
func (o rmsNormGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if o.wrtW {
		return shapeOf(in[1]), nil
	}
	return shapeOf(in[0]), nil
}

func (o rmsNormGradOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 3)
	if err != nil {
		return nil, err
	}
	x, w, dy := xs[0], xs[1], xs[2]
	d := len(w)
	r := o.norm.rms(x, d)
	if o.wrtW {
		dw := make([]float32, d)
		for i, ri := range r {
			for j := 0; j < d; j++ {
				dw[j] += dy[i*d+j] * x[i*d+j] * ri
			}
		}
		return newDense(dw, d), nil
	}
	// y = w ⊙ x ⊙ r, r = (mean(x²)+eps)^(-1/2): dx = r (g − x r² mean(g ⊙ x)) with g = dy ⊙ w.
	dx := make([]float32, len(x))
	for i, ri := range r {
		row := i * d
		var gx float32
		for j := 0; j < d; j++ {
			gx += dy[row+j] * w[j] * x[row+j]
		}
		c := ri * ri * gx / float32(d)
		for j := 0; j < d; j++ {
			dx[row+j] = ri * (dy[row+j]*w[j] - x[row+j]*c)
		}
	}
	return newDense(dx, in[0].Shape().Clone()...), nil
}

// ---------------------------------------------------------------- gelu_new

// geluNewOp is the tanh approximation of GELU used by T5 v1.1 ("gelu_new"):
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
type geluNewOp struct{ opBase }

func newGeluNew() geluNewOp { return geluNewOp{opBase{"t5.geluNew"}} }

const geluC = 0.7978845608028654 // sqrt(2/pi)

func (o geluNewOp) Arity() int                                        { return 1 }
func (o geluNewOp) Type() hm.Type                                     { a := hm.TypeVariable('a'); return fnT(a, a) }
func (o geluNewOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

func (o geluNewOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 1)
	if err != nil {
		return nil, err
	}
	x := xs[0]
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = geluNew(v)
	}
	return newDense(out, in[0].Shape().Clone()...), nil
}

// geluNew is gelu_new of one value, evaluated in float64.
func geluNew(v float32) float32 {
	f := float64(v)
	return float32(0.5 * f * (1 + math.Tanh(geluC*(f+0.044715*f*f*f))))
}

func (o geluNewOp) DiffWRT(int) []bool { return []bool{true} }

func (o geluNewOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(geluNewGradOp{opBase{"t5.geluNewGrad"}}, inputs[0], grad)
	return G.Nodes{dx}, err
}

type geluNewGradOp struct{ opBase }

func (o geluNewGradOp) Arity() int                                        { return 2 }
func (o geluNewGradOp) Type() hm.Type                                     { a := hm.TypeVariable('a'); return fnT(a, a, a) }
func (o geluNewGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

func (o geluNewGradOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 2)
	if err != nil {
		return nil, err
	}
	x, dy := xs[0], xs[1]
	out := make([]float32, len(x))
	for i, v := range x {
		f := float64(v)
		t := math.Tanh(geluC * (f + 0.044715*f*f*f))
		d := 0.5*(1+t) + 0.5*f*(1-t*t)*geluC*(1+3*0.044715*f*f)
		out[i] = dy[i] * float32(d)
	}
	return newDense(out, in[0].Shape().Clone()...), nil
}

// ---------------------------------------------------------------- row gather (embedding lookup)

// gatherOp picks rows of table [V, D] by ids [N] into [N, D]; its derivative
// scatter-adds the incoming gradient back into a [V, D] table, so repeated ids
// and tied uses accumulate as in PyTorch.
type gatherOp struct {
	opBase
	out outBuf
}

func newGather(out outBuf) gatherOp { return gatherOp{opBase{"t5.gather" + out.tag()}, out} }

func (o gatherOp) Arity() int    { return 2 }
func (o gatherOp) Type() hm.Type { return fnT(floatT(2), intVecT, floatT(2)) }
func (o gatherOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	t, ids := shapeOf(in[0]), shapeOf(in[1])
	return tensor.Shape{ids.TotalSize(), t[1]}, nil
}

func (o gatherOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 2); err != nil {
		return nil, err
	}
	table, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	ids, err := ints(in[1])
	if err != nil {
		return nil, err
	}
	v, d := in[0].Shape()[0], in[0].Shape()[1]
	out := o.out.alloc(len(ids) * d)
	for i, id := range ids {
		if id < 0 || id >= v {
			return nil, fmt.Errorf("t5: token id %d is outside the vocabulary [0, %d)", id, v)
		}
		copy(out[i*d:(i+1)*d], table[id*d:(id+1)*d])
	}
	return newDense(out, len(ids), d), nil
}

func (o gatherOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o gatherOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dt, err := G.ApplyOp(scatterAddOp{opBase{"t5.scatterAdd"}}, inputs[0], inputs[1], grad)
	return G.Nodes{dt, nil}, err
}

// scatterAddOp returns zeros shaped like table with dy's rows added at ids.
type scatterAddOp struct{ opBase }

func (o scatterAddOp) Arity() int                                        { return 3 }
func (o scatterAddOp) Type() hm.Type                                     { return fnT(floatT(2), intVecT, floatT(2), floatT(2)) }
func (o scatterAddOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

func (o scatterAddOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 3); err != nil {
		return nil, err
	}
	ids, err := ints(in[1])
	if err != nil {
		return nil, err
	}
	dy, err := f32s(in[2])
	if err != nil {
		return nil, err
	}
	v, d := in[0].Shape()[0], in[0].Shape()[1]
	out := make([]float32, v*d)
	for i, id := range ids {
		row := out[id*d : (id+1)*d]
		for j, g := range dy[i*d : (i+1)*d] {
			row[j] += g
		}
	}
	return newDense(out, v, d), nil
}

// ---------------------------------------------------------------- relative-position bias + mask

// relBiasOp builds the additive attention bias [B·H, S, T] from the bucket
// table [numBuckets, H], the bucket of every (query, key) pair [S·T] and an
// additive mask [B, S, T] (0 or the float32 minimum): out[b,h,s,t] =
// table[bucket[s,t], h] + mask[b,s,t], the order in which T5Attention adds them.
type relBiasOp struct {
	opBase
	b, h, s, t int
	out        outBuf
}

func newRelBias(b, h, s, t int, out outBuf) relBiasOp {
	return relBiasOp{opBase{fmt.Sprintf("t5.relBias{%d,%d,%d,%d}%s", b, h, s, t, out.tag())}, b, h, s, t, out}
}

func (o relBiasOp) Arity() int    { return 3 }
func (o relBiasOp) Type() hm.Type { return fnT(floatT(2), intVecT, floatT(3), floatT(3)) }
func (o relBiasOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.b * o.h, o.s, o.t}, nil
}

func (o relBiasOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 3); err != nil {
		return nil, err
	}
	table, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	buckets, err := ints(in[1])
	if err != nil {
		return nil, err
	}
	mask, err := f32s(in[2])
	if err != nil {
		return nil, err
	}
	st := o.s * o.t
	out := o.out.alloc(o.b * o.h * st)
	for b := 0; b < o.b; b++ {
		m := mask[b*st : (b+1)*st]
		for h := 0; h < o.h; h++ {
			dst := out[(b*o.h+h)*st : (b*o.h+h+1)*st]
			for i, k := range buckets {
				dst[i] = table[k*o.h+h] + m[i]
			}
		}
	}
	return newDense(out, o.b*o.h, o.s, o.t), nil
}

func (o relBiasOp) DiffWRT(int) []bool { return []bool{true, false, false} }

func (o relBiasOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g := relBiasGradOp{opBase{"t5.relBiasGrad" + o.name}, o}
	dt, err := G.ApplyOp(g, inputs[0], inputs[1], grad)
	return G.Nodes{dt, nil, nil}, err
}

type relBiasGradOp struct {
	opBase
	fwd relBiasOp
}

func (o relBiasGradOp) Arity() int                                        { return 3 }
func (o relBiasGradOp) Type() hm.Type                                     { return fnT(floatT(2), intVecT, floatT(3), floatT(2)) }
func (o relBiasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in[0]), nil }

func (o relBiasGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 3); err != nil {
		return nil, err
	}
	buckets, err := ints(in[1])
	if err != nil {
		return nil, err
	}
	dy, err := f32s(in[2])
	if err != nil {
		return nil, err
	}
	f := o.fwd
	shape := in[0].Shape()
	out := make([]float32, shape.TotalSize())
	st := f.s * f.t
	for b := 0; b < f.b; b++ {
		for h := 0; h < f.h; h++ {
			src := dy[(b*f.h+h)*st : (b*f.h+h+1)*st]
			for i, k := range buckets {
				out[k*f.h+h] += src[i]
			}
		}
	}
	return newDense(out, shape.Clone()...), nil
}

// ---------------------------------------------------------------- 4-D axis permutation

// permuteOp views its input as a 4-D array of dims `in`, permutes the axes by
// perm (output axis i is input axis perm[i]) and returns it with shape out.
// It splits [B·S, H·d] into heads [B·H, S, d] and merges them back.
type permuteOp struct {
	opBase
	in   [4]int
	perm [4]int
	out  tensor.Shape
}

func newPermute(in, perm [4]int, out tensor.Shape) permuteOp {
	return permuteOp{opBase{fmt.Sprintf("t5.permute{%v,%v,%v}", in, perm, out)}, in, perm, out.Clone()}
}

func (o permuteOp) Arity() int                                     { return 1 }
func (o permuteOp) Type() hm.Type                                  { return fnT(hm.TypeVariable('a'), floatT(len(o.out))) }
func (o permuteOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return o.out.Clone(), nil }

func (o permuteOp) Do(in ...G.Value) (G.Value, error) {
	xs, err := floatInputs(o.name, in, 1)
	if err != nil {
		return nil, err
	}
	x := xs[0]
	var od [4]int // output dims
	for i, p := range o.perm {
		od[i] = o.in[p]
	}
	var stride [4]int // input strides
	stride[3] = 1
	for i := 2; i >= 0; i-- {
		stride[i] = stride[i+1] * o.in[i+1]
	}
	s0, s1, s2, s3 := stride[o.perm[0]], stride[o.perm[1]], stride[o.perm[2]], stride[o.perm[3]]
	out := make([]float32, len(x))
	k := 0
	for a := 0; a < od[0]; a++ {
		for b := 0; b < od[1]; b++ {
			for c := 0; c < od[2]; c++ {
				base := a*s0 + b*s1 + c*s2
				if s3 == 1 {
					k += copy(out[k:k+od[3]], x[base:base+od[3]])
					continue
				}
				for d := 0; d < od[3]; d++ {
					out[k] = x[base+d*s3]
					k++
				}
			}
		}
	}
	return newDense(out, o.out.Clone()...), nil
}

func (o permuteOp) DiffWRT(int) []bool { return []bool{true} }

func (o permuteOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	var inv, pin [4]int
	for i, p := range o.perm {
		inv[p] = i
		pin[i] = o.in[p]
	}
	back := newPermute(pin, inv, inputs[0].Shape())
	dx, err := G.ApplyOp(back, grad)
	return G.Nodes{dx}, err
}

// ---------------------------------------------------------------- cross-entropy

// crossEntropyOp is torch's CrossEntropyLoss(ignore_index=-100, reduction
// mean) of logits [N, V] against labels [N]: the mean negative log-softmax at
// the label over rows whose label is not -100 (NaN when there are none, as in
// PyTorch).
type crossEntropyOp struct{ opBase }

func newCrossEntropy() crossEntropyOp { return crossEntropyOp{opBase{"t5.crossEntropy"}} }

// IgnoreIndex is the label value the loss skips, as in PyTorch.
const IgnoreIndex = -100

func (o crossEntropyOp) Arity() int    { return 2 }
func (o crossEntropyOp) Type() hm.Type { return fnT(floatT(2), intVecT, floatT(0)) }
func (o crossEntropyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o crossEntropyOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 2); err != nil {
		return nil, err
	}
	logits, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	labels, err := ints(in[1])
	if err != nil {
		return nil, err
	}
	v := in[0].Shape()[1]
	var sum float64
	n := 0
	for i, l := range labels {
		if l == IgnoreIndex {
			continue
		}
		if l < 0 || l >= v {
			return nil, fmt.Errorf("t5: label %d is outside the vocabulary [0, %d) (use %d to ignore a position)", l, v, IgnoreIndex)
		}
		sum -= float64(logSoftmaxAt(logits[i*v:(i+1)*v], l))
		n++
	}
	return G.NewF32(float32(sum / float64(n))), nil
}

// logSoftmaxAt returns log_softmax(row)[k] in float32 arithmetic.
func logSoftmaxAt(row []float32, k int) float32 {
	m := float32(math.Inf(-1))
	for _, x := range row {
		if x > m {
			m = x
		}
	}
	var sum float32
	for _, x := range row {
		sum += float32(math.Exp(float64(x - m)))
	}
	return row[k] - m - float32(math.Log(float64(sum)))
}

func (o crossEntropyOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o crossEntropyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(crossEntropyGradOp{opBase{"t5.crossEntropyGrad"}}, inputs[0], inputs[1], grad)
	return G.Nodes{dx, nil}, err
}

// crossEntropyGradOp: d loss / d logits = dy · (softmax(logits) − onehot(label)) / count.
type crossEntropyGradOp struct{ opBase }

func (o crossEntropyGradOp) Arity() int    { return 3 }
func (o crossEntropyGradOp) Type() hm.Type { return fnT(floatT(2), intVecT, floatT(0), floatT(2)) }
func (o crossEntropyGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]), nil
}

func (o crossEntropyGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(o.name, len(in), 3); err != nil {
		return nil, err
	}
	logits, err := f32s(in[0])
	if err != nil {
		return nil, err
	}
	labels, err := ints(in[1])
	if err != nil {
		return nil, err
	}
	dy, err := f32s(in[2])
	if err != nil {
		return nil, err
	}
	v := in[0].Shape()[1]
	n := 0
	for _, l := range labels {
		if l != IgnoreIndex {
			n++
		}
	}
	out := make([]float32, len(logits))
	scale := dy[0] / float32(n)
	for i, l := range labels {
		if l == IgnoreIndex {
			continue
		}
		row := out[i*v : (i+1)*v]
		softmaxRow(row, logits[i*v:(i+1)*v])
		row[l] -= 1
		for j := range row {
			row[j] *= scale
		}
	}
	return newDense(out, in[0].Shape().Clone()...), nil
}
