//go:build cuda

package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/cuda"
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	G "gorgonia.org/gorgonia"
	gcuda "gorgonia.org/gorgonia/cuda"
	"gorgonia.org/tensor"
)

// placed returns the Op a graph gets for o: when genq's graphs run on the GPU
// (cuda.Enabled), every float32 op with a device implementation (a matrix
// product, or a device twin: see twin) becomes a deviceOp, which gorgonia's
// CUDA machine runs on the device, reading and writing device memory only.
// Ops without one (float64 ops, the fused inference ops Project and
// LinearPacked) stay on the CPU, and the machine copies values between host
// and device where one feeds the other.
func placed(o *op) G.Op {
	if o.dtype == tensor.Float32 && (o.gemm != nil || o.dev.kind != devNone) && cuda.Enabled() {
		return &deviceOp{op: o}
	}
	return o
}

// copyViews reports whether view ops left on the CPU must copy their view
// into a buffer of their own: on the GPU, where gorgonia's CUDA machine
// recycles the host value of a dead register as the destination of later
// device-to-host copies, and does not know that a view still reads that
// memory.
func copyViews() bool { return cuda.Enabled() }

// deviceOp is an op run on the device: a matrix product on cuBLAS, or its
// twin launched through internal/cuda/kernels.
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

// devVal is a value on the device: its address and shape.
type devVal struct {
	p     cu.DevicePtr
	shape tensor.Shape
}

// size is the number of elements of v.
func (v devVal) size() int { return v.shape.TotalSize() }

// rows splits v's shape like rows does.
func (v devVal) rows() (n, d int) { return rows(v.shape) }

// at returns the address of element i of a float32 value.
func (v devVal) at(i int) cu.DevicePtr { return v.p + cu.DevicePtr(4*i) }

// devValue returns the device address and shape of a value the machine
// hands a CUDADoer: a tensor or a scalar in device memory (a scalar's
// address is where its number lies on the device; it is never read on the
// host).
func devValue(v G.Value) (devVal, error) {
	switch x := v.(type) {
	case *tensor.Dense:
		return devVal{cu.DevicePtr(x.Uintptr()), x.Shape().Clone()}, nil
	case G.Scalar:
		return devVal{cu.DevicePtr(v.Uintptr()), tensor.ScalarShape()}, nil
	}
	return devVal{}, fmt.Errorf("a %T is not a device tensor or scalar", v)
}

// CUDADo computes the op into prealloc, in device memory, as the CPU kernel
// does, from inputs in device memory.
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
	in := make([]devVal, len(inputs))
	for i, v := range inputs {
		if in[i], err = devValue(v); err != nil {
			return nil, fmt.Errorf("nn: %s: input %d: %w", d.name, i, err)
		}
	}
	if prealloc == nil {
		return nil, fmt.Errorf("nn: %s: the machine preallocated no output", d.name)
	}
	out, err := devValue(prealloc)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: output: %w", d.name, err)
	}
	if out.shape.TotalSize() != d.shape.TotalSize() {
		return nil, fmt.Errorf("nn: %s: the machine preallocated %v for an output of shape %v", d.name, out.shape, d.shape)
	}
	e := &m.Engines()[int(dev)]
	if d.gemm != nil {
		err = d.product(extern, dev, e, out, in)
	} else {
		err = d.launch(extern, dev, e, out, in)
	}
	if err != nil {
		return nil, err
	}
	return prealloc, nil
}

// product computes a matrix product on cuBLAS: cuBLAS is column-major, so
// it computes outᵀ = op(B)ᵀ·op(A)ᵀ over the same memory; the bias is a
// rank-one update outᵀ += bias·1ᵀ. A batched product runs one product per
// matrix.
func (d *deviceOp) product(extern G.External, dev G.Device, e *gcuda.Engine, out devVal, in []devVal) (err error) {
	batch, rowsOut, cols := 1, 0, 0
	if d.gemm.batched {
		batch, rowsOut, cols = d.shape[0], d.shape[1], d.shape[2]
	} else {
		rowsOut, cols = rows(d.shape)
	}
	mm, n, k, lda, ldb, ldc := d.gemm.dims(rowsOut, cols, in[0].size()/max(batch, 1))
	if mm == 0 || n == 0 || batch == 0 {
		return nil
	}
	if k == 0 {
		return fmt.Errorf("nn: %s: a product over an empty inner dimension (input %v)", d.name, in[0].shape)
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if d.gemm.transA {
		ta = blas.Trans
	}
	if d.gemm.transB {
		tb = blas.Trans
	}
	var ones tensor.Memory
	if d.gemm.bias {
		if d.ones == nil || d.ones.Shape()[0] != mm {
			d.ones = tensor.New(tensor.WithShape(mm), tensor.WithBacking(onesF32(mm)))
		}
		if ones, err = extern.GetFromValue(dev, d.ones); err != nil {
			return fmt.Errorf("nn: %s: copying the bias multiplier to the device: %w", d.name, err)
		}
		defer extern.Put(dev, ones, int64(4*mm))
	}
	ctx := e.Context()
	flush(e)
	bl := e.BLASContext()
	if err := ctx.Do(func() error {
		for i := range batch {
			a := floats(in[0].at(i*mm*k), mm*k)
			b := floats(in[1].at(i*k*n), k*n)
			c := floats(out.at(i*mm*n), mm*n)
			bl.Sgemm(tb, ta, n, mm, k, 1, b, ldb, a, lda, 0, c, ldc)
			if d.gemm.bias {
				bl.Sger(n, mm, 1, floats(in[2].p, n), 1, floats(cu.DevicePtr(ones.Uintptr()), mm), 1, c, ldc)
			}
		}
		return bl.Err()
	}); err != nil {
		return fmt.Errorf("nn: %s on cuBLAS (batch %d, m %d, n %d, k %d): %w", d.name, batch, mm, n, k, err)
	}
	return nil
}

// flush runs the CUDA calls gorgonia's machine has batched on e so far
// (copies of inputs, its own kernels), so that the op's work follows them.
// gorgonia's machine runs the batch from two goroutines (the program's, at
// a flush, and the engine's worker, when the batch fills up), unordered, so
// the build scripts patch gorgonia.org/cu to serialize it (see
// internal/cuda's doc).
func flush(e *gcuda.Engine) { e.Context().DoWork() }

// floats is a []float32 header over n floats of device memory at p, for
// cuBLAS, which reads only its address: the host never touches it.
func floats(p cu.DevicePtr, n int) []float32 {
	return tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n), tensor.FromMemory(uintptr(p), uintptr(4*n))).Float32s()
}

// onesF32 returns n float32 ones.
func onesF32(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}
