package loss

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normEps is the eps of torch.nn.functional.normalize, which util.cos_sim uses.
const normEps = 1e-12

// normalizeRows returns x / max(‖x_i‖₂, eps) row by row for a [B, D] node.
func normalizeRows(x *gorgonia.Node) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(normalizeOp{eps: normEps}, x)
}

// normalizeOp maps each row x of a matrix to x / max(‖x‖₂, eps), as
// torch.nn.functional.normalize(x, p=2, dim=1, eps=eps). The norm is summed in
// float64 and rounded once. Its gradient is normalizeGradOp, which is finite
// for rows of norm zero (torch masks those rows the same way).
type normalizeOp struct{ eps float64 }

func (op normalizeOp) Arity() int { return 1 }

func (op normalizeOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op normalizeOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return matrixShape(op, in[0])
}

func (op normalizeOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%v: got %d inputs, want 1", op, len(in))
	}
	shape := in[0].Shape()
	if shape.Dims() != 2 {
		return nil, fmt.Errorf("%v: input has shape %v, want a [rows, dim] matrix", op, shape)
	}
	rows, dim := shape[0], shape[1]
	switch x := in[0].Data().(type) {
	case []float32:
		y := make([]float32, len(x))
		for r := 0; r < rows; r++ {
			row := x[r*dim : (r+1)*dim]
			d := float32(max(rowNorm32(row), op.eps))
			for j, v := range row {
				y[r*dim+j] = v / d
			}
		}
		return tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(y)), nil
	case []float64:
		y := make([]float64, len(x))
		for r := 0; r < rows; r++ {
			row := x[r*dim : (r+1)*dim]
			d := max(rowNorm64(row), op.eps)
			for j, v := range row {
				y[r*dim+j] = v / d
			}
		}
		return tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(y)), nil
	default:
		return nil, fmt.Errorf("%v: unsupported data %T (want float32 or float64)", op, x)
	}
}

func (op normalizeOp) ReturnsPtr() bool      { return false }
func (op normalizeOp) CallsExtern() bool     { return false }
func (op normalizeOp) OverwritesInput() int  { return -1 }
func (op normalizeOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op normalizeOp) Hashcode() uint32      { return hashOf(op) }
func (op normalizeOp) String() string        { return fmt.Sprintf("NormalizeRows{eps=%g}", op.eps) }

// DiffWRT reports that the op is differentiable with respect to its input.
func (op normalizeOp) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff returns the node of d loss / d x given the output's gradient.
func (op normalizeOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%v: SymDiff got %d inputs, want 1", op, len(in))
	}
	dx, err := gorgonia.ApplyOp(normalizeGradOp(op), in[0], out, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx}, nil
}

// normalizeGradOp computes d loss / d x of y = x / max(‖x‖, eps) from (x, y, g):
// (g - y·⟨g, y⟩) / ‖x‖ where ‖x‖ ≥ eps, and g / eps where the clamp is active.
type normalizeGradOp normalizeOp

func (op normalizeGradOp) Arity() int { return 3 }

func (op normalizeGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a, a)
}

func (op normalizeGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return matrixShape(op, in[0])
}

func (op normalizeGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%v: got %d inputs, want 3", op, len(in))
	}
	shape := in[0].Shape()
	if shape.Dims() != 2 || !in[1].Shape().Eq(shape) || !in[2].Shape().Eq(shape) {
		return nil, fmt.Errorf("%v: shapes %v, %v, %v, want three equal [rows, dim] shapes", op, shape, in[1].Shape(), in[2].Shape())
	}
	rows, dim := shape[0], shape[1]
	switch x := in[0].Data().(type) {
	case []float32:
		y, ok1 := in[1].Data().([]float32)
		g, ok2 := in[2].Data().([]float32)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%v: mixed dtypes", op)
		}
		dx := make([]float32, len(x))
		for r := 0; r < rows; r++ {
			lo, hi := r*dim, (r+1)*dim
			n := float64(float32(rowNorm32(x[lo:hi])))
			var dot float64
			for j := lo; j < hi; j++ {
				dot += float64(g[j]) * float64(y[j])
			}
			for j := lo; j < hi; j++ {
				dx[j] = float32(op.grad(float64(g[j]), float64(y[j]), dot, n))
			}
		}
		return tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(dx)), nil
	case []float64:
		y, ok1 := in[1].Data().([]float64)
		g, ok2 := in[2].Data().([]float64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%v: mixed dtypes", op)
		}
		dx := make([]float64, len(x))
		for r := 0; r < rows; r++ {
			lo, hi := r*dim, (r+1)*dim
			n := rowNorm64(x[lo:hi])
			var dot float64
			for j := lo; j < hi; j++ {
				dot += g[j] * y[j]
			}
			for j := lo; j < hi; j++ {
				dx[j] = op.grad(g[j], y[j], dot, n)
			}
		}
		return tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(dx)), nil
	default:
		return nil, fmt.Errorf("%v: unsupported data %T (want float32 or float64)", op, x)
	}
}

// grad is one element of d loss / d x: g, y are the element's upstream
// gradient and output, dot = ⟨g, y⟩ over its row and n the row's norm.
func (op normalizeGradOp) grad(g, y, dot, n float64) float64 {
	if n >= op.eps {
		return (g - y*dot) / n
	}
	return g / op.eps
}

func (op normalizeGradOp) ReturnsPtr() bool      { return false }
func (op normalizeGradOp) CallsExtern() bool     { return false }
func (op normalizeGradOp) OverwritesInput() int  { return -1 }
func (op normalizeGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op normalizeGradOp) Hashcode() uint32      { return hashOf(op) }
func (op normalizeGradOp) String() string        { return fmt.Sprintf("NormalizeRowsGrad{eps=%g}", op.eps) }

// rowNorm32 is the L2 norm of a float32 row, accumulated in float64.
func rowNorm32(row []float32) float64 {
	var ss float64
	for _, v := range row {
		ss += float64(v) * float64(v)
	}
	return math.Sqrt(ss)
}

func rowNorm64(row []float64) float64 {
	var ss float64
	for _, v := range row {
		ss += v * v
	}
	return math.Sqrt(ss)
}

func matrixShape(op fmt.Stringer, in gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in.(tensor.Shape)
	if !ok || s.Dims() != 2 {
		return nil, fmt.Errorf("%v: input shape %v, want a [rows, dim] matrix", op, in)
	}
	return s.Clone(), nil
}

func hashOf(op gorgonia.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
