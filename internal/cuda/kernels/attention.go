//go:build cuda

package kernels

import (
	"fmt"

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
// per (sequence, head) and tile of up to 8 query rows (so that each key and
// value row is read once a tile), the scores in shared memory, the softmax
// as kernel.SoftmaxRow's. q, k and v may be one fused projection. It writes
// every head row of out and nothing else.
func (l *Launcher) Attend(a *Attention, out, q, k, v, bias, keep cu.DevicePtr) error {
	if err := a.check("Attend", false); err != nil || a.Queries == 0 || a.Batch == 0 {
		return err
	}
	if err := need("Attend", out, q, k, v); err != nil {
		return err
	}
	// tiles of up to attnTile query rows whose scores fit attnScores floats
	tile := min(attnTile, attnScores/a.Keys, a.Queries)
	args := append([]any{out, q, k, v, bias, keep}, a.args(tile)...)
	return l.launch(kAttend, dims{(a.Queries + tile - 1) / tile, a.Heads, a.Batch}, dims{block, 1, 1}, args...)
}

// check reports sizes the kernels cannot take: the limits of shared memory
// (MaxKeys, MaxHeadDim; the backward pass also holds a column of Queries)
// and of the grid (Heads and Batch below 65536).
func (a *Attention) check(what string, backward bool) error {
	if a == nil {
		return fmt.Errorf("kernels: %s of a nil Attention", what)
	}
	if a.Batch < 0 || a.Heads <= 0 || a.Queries < 0 || a.Keys <= 0 || a.HeadDim <= 0 {
		return fmt.Errorf("kernels: %s over %d sequences, %d heads, %d queries, %d keys of dim %d: every size must be positive", what, a.Batch, a.Heads, a.Queries, a.Keys, a.HeadDim)
	}
	switch {
	case a.Keys > MaxKeys:
		return fmt.Errorf("kernels: %s over %d keys: at most %d on the device", what, a.Keys, MaxKeys)
	case backward && a.Queries > MaxKeys:
		return fmt.Errorf("kernels: %s over %d queries: the backward pass takes at most %d", what, a.Queries, MaxKeys)
	case a.HeadDim > MaxHeadDim:
		return fmt.Errorf("kernels: %s with heads of dim %d: at most %d on the device", what, a.HeadDim, MaxHeadDim)
	case a.Heads > 65535 || a.Batch > 65535:
		return fmt.Errorf("kernels: %s over %d sequences of %d heads: at most 65535 of each", what, a.Batch, a.Heads)
	}
	return checkSizes(what, a.Queries, a.Batch*a.Heads*a.Queries*a.Keys)
}

// The kernels' tiles (GENQ_ATTN_* of attention.cu): the forward kernel
// takes up to attnTile query rows a block, their scores at most attnScores
// floats; the backward kernels up to attnBackTile query (key) rows, their
// values of p and ds at most attnBackScores (attnKeyScores) floats each.
const (
	attnTile       = 8
	attnScores     = 6144
	attnBackTile   = 4
	attnBackScores = 4096
	attnKeyScores  = 3584
)

// args returns the kernels' arguments after the pointers: sizes, then tile
// (the forward kernel's rows a block) when given, scales and the five
// layouts.
func (a *Attention) args(tile ...any) []any {
	args := append([]any{a.Heads, a.Queries, a.Keys, a.HeadDim}, tile...)
	args = append(args, float32(a.Scale), float32(a.KeepScale))
	for _, l := range []kernel.Layout{a.Q, a.K, a.V, a.Out, a.Bias} {
		args = append(args, l.Off, l.Batch, l.Head, l.Row)
	}
	return args
}

// AttendBackward computes the gradients of Attend from its inputs and the
// output gradient dout (in a.Out's layout), recomputing the probabilities,
// as kernel.AttendBackward: dq, dk and dv in the layouts of q, k and v (each
// may be 0 to skip it; a fused gradient may be one tensor), and, when dbias
// is not 0, the gradient of the scores as a contiguous [Batch, Heads,
// Queries, Keys] tensor. Only head rows are written. It uses the Launcher's
// scratch memory (per query row statistics), and no atomic additions: one
// kernel computes dq and dbias by tiles of query rows, another dk and dv by
// tiles of key rows.
func (l *Launcher) AttendBackward(a *Attention, dq, dk, dv, dbias, q, k, v, bias, keep, dout cu.DevicePtr) error {
	if err := a.check("AttendBackward", true); err != nil || a.Queries == 0 || a.Batch == 0 {
		return err
	}
	if err := need("AttendBackward", q, k, v, dout); err != nil {
		return err
	}
	if dq == 0 && dk == 0 && dv == 0 && dbias == 0 {
		return nil
	}
	stats, err := l.scratchPtr(3 * 8 * int64(a.Batch*a.Heads*a.Queries))
	if err != nil {
		return err
	}
	rows := min(attnBackTile, attnBackScores/a.Keys, a.Queries)
	if err := l.launch(kAttendBackwardRows, dims{(a.Queries + rows - 1) / rows, a.Heads, a.Batch}, dims{block, 1, 1},
		append([]any{dq, dbias, stats, q, k, v, bias, keep, dout}, a.args(rows)...)...); err != nil {
		return err
	}
	if dk == 0 && dv == 0 {
		return nil
	}
	keys := min(attnBackTile, attnKeyScores/a.Queries, a.Keys)
	return l.launch(kAttendBackwardKeys, dims{(a.Keys + keys - 1) / keys, a.Heads, a.Batch}, dims{block, 1, 1},
		append([]any{dk, dv, stats, q, k, v, bias, keep, dout}, a.args(keys)...)...)
}
