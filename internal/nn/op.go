package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	kernels "github.com/genq-go/genq/internal/gemm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type an op computes in.
type float interface{ ~float32 | ~float64 }

// kernel computes an op's output from its (contiguous) inputs.
type kernel func(in []*tensor.Dense, out *tensor.Dense) error

// pullback returns the gradients of an op's inputs given the gradient of its
// output (nil for inputs that are not differentiable).
type pullback func(in G.Nodes, out, grad *G.Node) (G.Nodes, error)

// op is a gorgonia Op defined by a kernel for fixed input shapes. Every block
// of this package is one: the forward op carries a pullback that builds the
// backward ops, and the backward ops carry none.
type op struct {
	name   string       // what it computes, with every parameter; hashes the op
	in     []hm.Type    // input types (tensor types with their dims)
	shape  tensor.Shape // output shape
	dtype  tensor.Dtype // output dtype
	fwd    kernel       // forward computation
	back   pullback     // nil: not differentiable
	diff   []bool       // which inputs back differentiates
	unique uint64       // nonzero for stateful ops that must never be merged

	out *tensor.Dense // the output buffer, allocated by the first run and reused by later ones

	// view, when set, replaces fwd: it returns a tensor over memory of the
	// inputs (no copy, no output buffer).
	view func(in []*tensor.Dense) (*tensor.Dense, error)

	// gemm, when set, says the op is one matrix product, which a `cuda`
	// build may run on the GPU (see product and placed).
	gemm *product

	// shared, when set, replaces out: a buffer other ops write too (see
	// ShareOutput).
	shared *Buffer
}

var _ G.SDOp = (*op)(nil)

// floatType is the element type variable shared by an op's float inputs and output.
var floatType = hm.TypeVariable('a')

// tensorType is a float tensor of the given rank.
func tensorType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: floatType} }

// intType is an int tensor of the given rank (token ids).
func intType(dims int) hm.Type { return G.TensorType{Dims: dims, Of: tensor.Int} }

// typesOf returns float tensor types matching the ranks of nodes.
func typesOf(nodes ...*G.Node) []hm.Type {
	ts := make([]hm.Type, len(nodes))
	for i, n := range nodes {
		ts[i] = tensorType(n.Dims())
	}
	return ts
}

// apply builds the node of o over children.
func apply(o *op, children ...*G.Node) (*G.Node, error) {
	if len(children) != len(o.in) {
		return nil, fmt.Errorf("nn: %s takes %d inputs, got %d", o.name, len(o.in), len(children))
	}
	n, err := G.ApplyOp(placed(o), children...)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", o.name, err)
	}
	return n, nil
}

func (o *op) Arity() int { return len(o.in) }

func (o *op) Type() hm.Type {
	ts := append(append([]hm.Type{}, o.in...), tensorType(len(o.shape)))
	return hm.NewFnType(ts...)
}

func (o *op) InferShape(...G.DimSizer) (tensor.Shape, error) { return o.shape.Clone(), nil }

// Do runs the kernel on contiguous copies of views and converts a panic of a
// dependency (BLAS, tensor) into an error. The output tensor is allocated by
// the first run and overwritten by every later one (each node has its own
// op, or a Buffer it shares, see ShareOutput), so running a compiled graph
// again allocates nothing here; kernels must write every element of their
// output.
func (o *op) Do(vals ...G.Value) (ret G.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			ret, err = nil, fmt.Errorf("nn: %s panicked: %v", o.name, r)
		}
	}()
	if len(vals) != len(o.in) {
		return nil, fmt.Errorf("nn: %s takes %d inputs, got %d", o.name, len(o.in), len(vals))
	}
	in := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: %s: input %d is a %T, want a dense tensor", o.name, i, v)
		}
		if d.IsMaterializable() {
			d = d.Materialize().(*tensor.Dense)
		}
		in[i] = d
	}
	if o.view != nil && !copyViews() {
		return o.view(in)
	}
	out := o.output()
	if o.view != nil { // a copy of the view: see copyViews
		v, err := o.view(in)
		if err != nil {
			return nil, fmt.Errorf("nn: %s: %w", o.name, err)
		}
		if err := tensor.Copy(out, v); err != nil {
			return nil, fmt.Errorf("nn: %s: %w", o.name, err)
		}
		return out, nil
	}
	if err := o.fwd(in, out); err != nil {
		return nil, fmt.Errorf("nn: %s: %w", o.name, err)
	}
	return out, nil
}

func (o *op) ReturnsPtr() bool     { return false }
func (o *op) CallsExtern() bool    { return false }
func (o *op) OverwritesInput() int { return -1 }

func (o *op) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "nn.%s→%v %v #%d", o.name, o.shape, o.dtype, o.unique)
}

func (o *op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o *op) String() string { return o.name }

func (o *op) DiffWRT(n int) []bool {
	out := make([]bool, n)
	if o.back != nil {
		copy(out, o.diff)
	}
	return out
}

func (o *op) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if o.back == nil {
		return nil, fmt.Errorf("nn: %s is not differentiable", o.name)
	}
	return o.back(in, out, grad)
}

// data returns the backing slice of a float tensor.
func data[T float](d *tensor.Dense) []T { return d.Data().([]T) }

// pick returns the float32 or float64 instantiation of a generic kernel,
// by the dtype the op computes in.
func pick(dt tensor.Dtype, f32, f64 kernel) (kernel, error) {
	switch dt {
	case tensor.Float32:
		return f32, nil
	case tensor.Float64:
		return f64, nil
	}
	return nil, fmt.Errorf("nn: dtype %v is not supported (want float32 or float64)", dt)
}

// gemm computes C = alpha·op(A)·op(B) + beta·C; op(X) is X or Xᵀ; A is m×k,
// B is k×n, C is m×n after op, all row-major with leading dimensions lda,
// ldb, ldc. float32 products run on internal/gemm's kernels, float64 ones
// (the gradient checks) on the BLAS gorgonia uses.
func gemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	switch a := any(a).(type) {
	case []float32:
		kernels.Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		G.WhichBLAS().Dgemm(ta, tb, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemmSerial is gemm on the calling goroutine alone, for products that
// already run one per goroutine (the attention heads).
func gemmSerial[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if a32, ok := any(a).([]float32); ok && m > 0 && n > 0 && k > 0 {
		kernels.SgemmSerial(tA, tB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// part returns the i-th of the equal parts that the first axis of packed
// splits into, shaped like shape, as a tensor over packed's memory: a
// gorgonia slice would copy it on every run.
func part(packed *G.Node, i int, shape tensor.Shape) (*G.Node, error) {
	n := shape.TotalSize()
	o := &op{name: fmt.Sprintf("Part{%d}", i), in: typesOf(packed), shape: shape.Clone(), dtype: packed.Dtype()}
	o.view = func(in []*tensor.Dense) (*tensor.Dense, error) {
		if in[0].Shape().TotalSize() < (i+1)*n {
			return nil, fmt.Errorf("part %d of %v does not fit in %v", i, shape, in[0].Shape())
		}
		var backing any
		switch d := in[0].Data().(type) {
		case []float32:
			backing = d[i*n : (i+1)*n]
		case []float64:
			backing = d[i*n : (i+1)*n]
		default:
			return nil, fmt.Errorf("part of a %T tensor", d)
		}
		return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(backing)), nil
	}
	return apply(o, packed)
}

// shapeOf returns a copy of a node's shape.
func shapeOf(n *G.Node) tensor.Shape { return n.Shape().Clone() }

// rows splits a shape [..., d] into the number of rows and d.
func rows(s tensor.Shape) (n, d int) {
	if len(s) == 0 {
		return 1, 1
	}
	d = s[len(s)-1]
	n = 1
	for _, x := range s[:len(s)-1] {
		n *= x
	}
	return n, d
}
