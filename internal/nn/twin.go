package nn

// devKind names the device kernel family of an op's twin.
type devKind uint8

// The op families with a device twin.
const (
	devNone         devKind = iota
	devGELU                 // kernel.GELU, GELUBackward
	devGELUNew              // kernel.GELUNew, GELUNewBackward
	devReLU                 // kernel.ReLU, ReLUBackward
	devSoftmax              // kernel.Softmax, SoftmaxBackward (from the output)
	devLogSoftmax           // kernel.LogSoftmax, LogSoftmaxBackward (from the output)
	devNormalize            // kernel.L2Normalize, L2NormalizeBackward
	devLayerNorm            // kernel.LayerNorm, LayerNormBackward (dx or dw)
	devRMSNorm              // kernel.RMSNorm, RMSNormBackward (dx or dw)
	devSumRows              // kernel.SumRows (a bias gradient)
	devEmbedding            // kernel.Gather, ScatterAdd
	devCrossEntropy         // kernel.CrossEntropy, CrossEntropyBackward
	devPositionBias         // kernel.PositionBias, PositionBiasBackward
	devAttend               // kernel.Attend, AttendBackward
	devPool                 // Pool and its gradient
	devDropout              // Dropout and its gradient (the mask drawn on the host)
	devPart                 // a view of part of the input: a device copy
	devStack                // the concatenation of the parts (Stack, Concat): a device copy
)

// twin describes an op's device twin: which kernel of
// internal/cuda/kernels computes the op, and its arguments beyond the
// inputs and the sizes, which follow from the op's shapes when it runs.
// Every build records it the same way; only a `cuda` build launches it
// (device_cuda.go), and ops without one (kind devNone, float64 ops) run on
// the CPU.
type twin struct {
	kind devKind
	// grad selects the kernel: 0 the forward one; for a backward kernel
	// with several outputs 1 for the first (dx), 2 for the second (dw); 1
	// for one with a single output.
	grad  int
	eps   float64  // the norms' epsilon
	res   bool     // LayerNorm of x + res (inputs x, res, w, ...)
	heads int      // PositionBias: attention heads
	mode  PoolMode // Pool
	off   int      // Part: where the part starts in its input; Stack: the input index of the first part
	attn  *attendState
	drop  *dropState
}

// dev returns the twin of the forward kernel of family k.
func dev(k devKind) twin { return twin{kind: k} }

// back returns the twin of the backward kernel's output g (see twin.grad).
func (t twin) back(g int) twin { t.grad = g; return t }

// withTwin sets the twin of an op before it is applied (placed looks at it).
func withTwin(o *op, t twin) *op {
	o.dev = t
	return o
}
