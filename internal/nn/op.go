package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the element type an op computes in.
type float = kernel.Float

// kernel computes an op's output from its (contiguous) inputs.
type kfunc func(in []*tensor.Dense, out *tensor.Dense) error

// pullback returns the gradients of an op's inputs given the gradient of its
// output (nil for inputs that are not differentiable).
type pullback func(in G.Nodes, out, grad *G.Node) (G.Nodes, error)

// op is the one gorgonia Op type of genq: a kernel of internal/kernel (or a
// view) for fixed input shapes, with its name (which hashes it), input
// types, output shape and dtype, and a pullback that builds the ops of its
// gradient. Every function of this package that adds a node adds one: the
// forward op carries a pullback, the backward ops carry none.
type op struct {
	name   string       // what it computes, with every parameter; hashes the op
	in     []hm.Type    // input types (tensor types with their dims)
	shape  tensor.Shape // output shape
	dtype  tensor.Dtype // output dtype
	fwd    kfunc        // forward computation
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

	// dev is the op's device twin (see twin); kind devNone: it has none.
	dev twin

	// shared, when set, replaces out: a buffer other ops write too (see
	// ShareOutput).
	shared *Buffer
}

var _ G.SDOp = (*op)(nil)

// floatType is the element type variable shared by an op's float inputs and output.
var floatType = hm.TypeVariable('a')

// tensorType is a float tensor of the given rank (a scalar for rank 0).
func tensorType(dims int) hm.Type {
	if dims == 0 {
		return floatType
	}
	return G.TensorType{Dims: dims, Of: floatType}
}

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

// Option adjusts an op as a function of this package adds it.
type Option func(*op)

// Into makes the op write its output into b (see Buffer), for forward-only
// graphs; the op hashes with b, so gorgonia never merges it with an op
// writing elsewhere.
func Into(b *Buffer) Option {
	return func(o *op) {
		if b != nil {
			o.shared = b
			o.name += fmt.Sprintf("@%p", b)
		}
	}
}

// apply builds the node of o over children, after the options.
func apply(o *op, children ...*G.Node) (*G.Node, error) {
	return applyWith(o, nil, children...)
}

// applyWith is apply with options.
func applyWith(o *op, opts []Option, children ...*G.Node) (*G.Node, error) {
	for _, f := range opts {
		f(o)
	}
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
		switch s := v.(type) { // a scalar (a loss, its gradient) as a one-element tensor
		case *G.F32:
			v = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{float32(*s)}))
		case *G.F64:
			v = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(*s)}))
		}
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: %s: input %d is a %T, want a dense tensor", o.name, i, v)
		}
		if d.IsMaterializable() {
			d = d.Materialize().(*tensor.Dense)
		}
		in[i] = d
	}
	if o.view != nil {
		v, err := o.view(in)
		switch {
		case err != nil:
			return nil, fmt.Errorf("nn: %s: %w", o.name, err)
		case len(o.shape) == 0: // a scalar output is a gorgonia scalar value, a copy
			return scalarOf(v), nil
		case !copyViews():
			return v, nil
		}
		out := o.output() // a copy of the view: see copyViews
		if err := tensor.Copy(out, v); err != nil {
			return nil, fmt.Errorf("nn: %s: %w", o.name, err)
		}
		return out, nil
	}
	out := o.output()
	if err := o.fwd(in, out); err != nil {
		return nil, fmt.Errorf("nn: %s: %w", o.name, err)
	}
	if len(o.shape) == 0 { // a scalar output is a gorgonia scalar value
		return scalarOf(out), nil
	}
	return out, nil
}

// scalarOf returns the first value of a float tensor as a gorgonia scalar
// (the tensor itself for other dtypes).
func scalarOf(t *tensor.Dense) G.Value {
	switch x := t.Data().(type) {
	case []float32:
		return G.NewF32(x[0])
	case []float64:
		return G.NewF64(x[0])
	case float32: // a tensor of shape ()
		return G.NewF32(x)
	case float64:
		return G.NewF64(x)
	}
	return t
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
func pick(dt tensor.Dtype, f32, f64 kfunc) (kfunc, error) {
	switch dt {
	case tensor.Float32:
		return f32, nil
	case tensor.Float64:
		return f64, nil
	}
	return nil, fmt.Errorf("nn: dtype %v is not supported (want float32 or float64)", dt)
}

// part returns the values [off, off+size(shape)) of packed, shaped like
// shape, as a tensor over packed's memory: a gorgonia slice would copy it
// on every run.
func part(packed *G.Node, off int, shape tensor.Shape) (*G.Node, error) {
	return apply(viewOp(fmt.Sprintf("Part{%d}", off), packed, off, shape), packed)
}

// viewOp returns the op of the values [off, off+size(shape)) of x, shaped
// like shape, as a tensor over x's memory (its device twin a copy).
func viewOp(name string, x *G.Node, off int, shape tensor.Shape) *op {
	n := shape.TotalSize()
	o := &op{name: name, in: typesOf(x), shape: shape.Clone(), dtype: x.Dtype(), dev: twin{kind: devPart, off: off}}
	o.view = func(in []*tensor.Dense) (*tensor.Dense, error) {
		if in[0].Shape().TotalSize() < off+n {
			return nil, fmt.Errorf("part [%d, %d) of %v does not fit in %v", off, off+n, shape, in[0].Shape())
		}
		var backing any
		switch d := in[0].Data().(type) {
		case []float32:
			backing = d[off : off+n]
		case []float64:
			backing = d[off : off+n]
		default:
			return nil, fmt.Errorf("part of a %T tensor", d)
		}
		return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(backing)), nil
	}
	return o
}

// Reshape gives x the shape shape (of as many values; a scalar for an empty
// shape) without copying it on the CPU (on the GPU, a device copy, which
// gorgonia's machine cannot confuse with x as it does its own aliasing
// reshape). Its gradient is the output gradient reshaped back.
func Reshape(x *G.Node, shape tensor.Shape) (*G.Node, error) {
	if shape.TotalSize() != x.Shape().TotalSize() {
		return nil, fmt.Errorf("nn: Reshape of %v (%d values) to %v (%d)", x.Shape(), x.Shape().TotalSize(), shape, shape.TotalSize())
	}
	o := viewOp(fmt.Sprintf("Reshape%v", shape), x, 0, shape)
	o.diff = []bool{true}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		d, err := Reshape(grad, shapeOf(in[0]))
		return G.Nodes{d}, err
	}
	return apply(o, x)
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

// newOp returns the op of a kernel over children: the float32 or float64
// instantiation by dtype, the given output shape, every float input
// differentiable unless diff says otherwise.
func newOp(name string, dt tensor.Dtype, shape tensor.Shape, f32, f64 kfunc, children ...*G.Node) (*op, error) {
	fwd, err := pick(dt, f32, f64)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", name, err)
	}
	in := make([]hm.Type, len(children))
	diff := make([]bool, len(children))
	for i, c := range children {
		if c.Dtype() == tensor.Int {
			in[i] = intType(c.Dims())
			continue
		}
		in[i], diff[i] = tensorType(c.Dims()), true
	}
	return &op{name: name, in: in, shape: shape.Clone(), dtype: dt, fwd: fwd, diff: diff}, nil
}

// unary adapts a kernel dst = f(x) to an op kernel.
func unary[T float](f func(dst, x []T)) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		f(data[T](out), data[T](in[0]))
		return nil
	}
}

// binary adapts a kernel dst = f(a, b) (a backward dx = f(x, dy)) to an op
// kernel.
func binary[T float](f func(dst, a, b []T)) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		f(data[T](out), data[T](in[0]), data[T](in[1]))
		return nil
	}
}

// rowwise adapts a kernel over rows of width d (the last axis) to an op
// kernel: dst = f(x, d), or dst = f(a, b, d) with two inputs.
func rowwise[T float](f1 func(dst, x []T, d int), f2 func(dst, a, b []T, d int)) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		_, d := rows(in[0].Shape())
		if f1 != nil {
			f1(data[T](out), data[T](in[0]), d)
		} else {
			f2(data[T](out), data[T](in[0]), data[T](in[1]), d)
		}
		return nil
	}
}

// pointwise adds y = f(x), of x's shape, whose gradient is g(x or y, dy):
// from the input x, or from the output y when fromOut; k is the family of
// their device twins.
func pointwise(name string, k devKind, x *G.Node, f32, f64, g32, g64 kfunc, fromOut bool, opts []Option) (*G.Node, error) {
	o, err := newOp(name, x.Dtype(), shapeOf(x), f32, f64, x)
	if err != nil {
		return nil, err
	}
	o.dev = dev(k)
	o.back = func(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
		src := in[0]
		if fromOut {
			src = out
		}
		b, err := newOp(name+"Grad", x.Dtype(), shapeOf(x), g32, g64, src, grad)
		if err != nil {
			return nil, err
		}
		dx, err := apply(withTwin(b, dev(k).back(1)), src, grad)
		return G.Nodes{dx}, err
	}
	return applyWith(o, opts, x)
}

// firstGrad is the pullback of an op differentiable in its first input
// only: one op named name computes that gradient (of the first input's
// shape) from every input and the output gradient, the last input of g32
// and g64; tw is its device twin.
func firstGrad(name string, g32, g64 kfunc, tw twin) pullback {
	return func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		d, err := gradOp(name, shapeOf(in[0]), g32, g64, tw, append(append(G.Nodes{}, in...), grad)...)
		out := make(G.Nodes, len(in))
		out[0] = d
		return out, err
	}
}
