//go:build cuda

package kernels

import (
	"gorgonia.org/cu"

	"github.com/genq-go/genq/internal/kernel"
)

// MaxKeys is the most keys an attention row may have on the device (its
// scores live in shared memory): GENQ_MAX_KEYS of genq.h.
const MaxKeys = 2048

// MaxHeadDim is the largest head dimension attention supports on the
// device: GENQ_MAX_HEAD_DIM of genq.h.
const MaxHeadDim = 256

// Attention describes multi-head attention over a batch as kernel.Attention
// does, with the same layouts (kernel.Layout: element j of row i of head h
// of sequence b at Off + b·Batch + h·Head + i·Row + j; a stride of 0
// broadcasts): for each sequence b < Batch and head h < Heads,
//
//	out[b,h] = dropout(softmax(Scale · q[b,h]·k[b,h]ᵀ + bias[b,h])) · v[b,h]
//
// Keys ≤ MaxKeys and HeadDim ≤ MaxHeadDim. The dropout keep mask, when
// given, is a device tensor of bytes (Go bools: 1 keeps), [Batch, Heads,
// Queries, Keys] row-major; kept probabilities are multiplied by KeepScale.
// There are no packed operands (kernel.Attention's PackedK/PackedV).
type Attention struct {
	Batch, Heads, Queries, Keys, HeadDim int

	// Scale multiplies q·kᵀ before the bias is added.
	Scale float64

	// Q, K, V and Out locate the operands; Bias the bias when one is given.
	Q, K, V, Out, Bias kernel.Layout

	// KeepScale multiplies the kept probabilities under dropout (1/(1 − p)).
	KeepScale float64
}

// Attend computes a's attention into out from q, k, v, bias (0 for none)
// and keep (the dropout keep mask, 0 for none), as kernel.Attend: one block
// per (sequence, head, query row), the scores in shared memory, the softmax
// as kernel.SoftmaxRow's. q, k and v may be one fused projection. It writes
// every head row of out and nothing else.
func (l *Launcher) Attend(a *Attention, out, q, k, v, bias, keep cu.DevicePtr) error {
	return errNotYet("Attend")
}

// AttendBackward computes the gradients of Attend from its inputs and the
// output gradient dout (in a.Out's layout), recomputing the probabilities,
// as kernel.AttendBackward: dq, dk and dv in the layouts of q, k and v (each
// may be 0 to skip it; a fused gradient may be one tensor), and, when dbias
// is not 0, the gradient of the scores as a contiguous [Batch, Heads,
// Queries, Keys] tensor. Only head rows are written. It uses the Launcher's
// scratch memory (per query row statistics), and no atomic additions: dk and
// dv are summed over the queries by one block per key row.
func (l *Launcher) AttendBackward(a *Attention, dq, dk, dv, dbias, q, k, v, bias, keep, dout cu.DevicePtr) error {
	return errNotYet("AttendBackward")
}
