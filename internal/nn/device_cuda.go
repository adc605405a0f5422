//go:build cuda

package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/cuda"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// placed returns the Op a graph gets for o: when genq's graphs run on the GPU
// (cuda.Enabled), float32 matrix products become deviceOps, which gorgonia's
// CUDA machine runs on the device; every other op stays on the CPU, and the
// machine copies values between host and device where one feeds the other.
func placed(o *op) G.Op {
	if o.gemm != nil && o.dtype == tensor.Float32 && cuda.Enabled() {
		return &deviceOp{op: o}
	}
	return o
}

// copyViews reports whether view ops must copy their view into a buffer of
// their own: on the GPU, where gorgonia's CUDA machine recycles the host
// value of a dead register as the destination of later device-to-host
// copies, and does not know that a view still reads that memory.
func copyViews() bool { return cuda.Enabled() }

// deviceOp is an op that is one matrix product, run on cuBLAS.
type deviceOp struct {
	*op
	ones *tensor.Dense // the host ones the bias update multiplies, made once
}

var _ G.CUDADoer = (*deviceOp)(nil)

// CallsExtern reports that the op runs on the device.
func (d *deviceOp) CallsExtern() bool { return true }

// ReturnsPtr reports that the op writes into memory the machine allocates
// on the device for it (gorgonia preallocates only for such ops).
func (d *deviceOp) ReturnsPtr() bool { return true }

// CUDADo computes the product into prealloc, in device memory, as the CPU
// kernel does: cuBLAS is column-major, so it computes outᵀ = op(B)ᵀ·op(A)ᵀ
// over the same memory; the bias is a rank-one update outᵀ += bias·1ᵀ.
func (d *deviceOp) CUDADo(extern G.External, dev G.Device, prealloc G.Value, inputs ...G.Value) (ret G.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			ret, err = nil, fmt.Errorf("nn: %s on the GPU panicked: %v", d.name, r)
		}
	}()
	m, ok := extern.(G.CUDAMachine)
	if !ok {
		return nil, fmt.Errorf("nn: %s: the machine is a %T, not gorgonia's CUDA machine", d.name, extern)
	}
	if len(inputs) != len(d.in) {
		return nil, fmt.Errorf("nn: %s takes %d inputs, got %d", d.name, len(d.in), len(inputs))
	}
	in := make([]*tensor.Dense, len(inputs))
	for i, v := range inputs {
		if in[i], ok = v.(*tensor.Dense); !ok || in[i].Dtype() != tensor.Float32 {
			return nil, fmt.Errorf("nn: %s: input %d is a %T, want a float32 dense tensor", d.name, i, v)
		}
	}
	out, ok := prealloc.(*tensor.Dense)
	if !ok || out == nil || !out.Shape().Eq(d.shape) {
		return nil, fmt.Errorf("nn: %s: the machine preallocated %v for an output of shape %v", d.name, prealloc, d.shape)
	}
	rowsOut, cols := rows(d.shape)
	mm, n, k, lda, ldb, ldc := d.gemm.dims(rowsOut, cols, in[0].Shape().TotalSize())
	if mm == 0 || n == 0 {
		return out, nil
	}
	if k == 0 {
		return nil, fmt.Errorf("nn: %s: a product over an empty inner dimension (input %v)", d.name, in[0].Shape())
	}
	e := &m.Engines()[int(dev)]
	ta, tb := blas.NoTrans, blas.NoTrans
	if d.gemm.transA {
		ta = blas.Trans
	}
	if d.gemm.transB {
		tb = blas.Trans
	}
	a, b, c := in[0].Float32s(), in[1].Float32s(), out.Float32s()
	var ones tensor.Memory
	if d.gemm.bias {
		if d.ones == nil || d.ones.Shape()[0] != mm {
			d.ones = tensor.New(tensor.WithShape(mm), tensor.WithBacking(onesF32(mm)))
		}
		if ones, err = extern.GetFromValue(dev, d.ones); err != nil {
			return nil, fmt.Errorf("nn: %s: copying the bias multiplier to the device: %w", d.name, err)
		}
		defer extern.Put(dev, ones, int64(4*mm))
	}
	ctx := e.Context()
	ctx.DoWork()
	bl := e.BLASContext()
	if err := ctx.Do(func() error {
		bl.Sgemm(tb, ta, n, mm, k, 1, b, ldb, a, lda, 0, c, ldc)
		if d.gemm.bias {
			bias := in[2].Float32s()
			onesDev := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(mm), tensor.FromMemory(ones.Uintptr(), uintptr(4*mm)))
			bl.Sger(n, mm, 1, bias, 1, onesDev.Float32s(), 1, c, ldc)
		}
		return bl.Err()
	}); err != nil {
		return nil, fmt.Errorf("nn: %s on cuBLAS (m %d, n %d, k %d): %w", d.name, mm, n, k, err)
	}
	return out, nil
}

// onesF32 returns n float32 ones.
func onesF32(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}
