//go:build cuda

package kernels

import "gorgonia.org/cu"

// Gather copies row ids[i] of table (vocab × d) to row i of dst (n × d),
// for i < n: an embedding lookup, as kernel.Gather. ids holds n int64s. A
// device kernel cannot return kernel.Gather's error, so check the ids on
// the host (where they come from); a row whose id is outside [0, vocab) is
// set to NaN, which then shows in every result it reaches.
func (l *Launcher) Gather(dst, table, ids cu.DevicePtr, n, d, vocab int) error {
	return errNotYet("Gather")
}

// ScatterAdd adds row i of dy (n × d) to row ids[i] of dtable, for i < n:
// the gradient of Gather, accumulated (repeated ids add up) with atomic
// float32 additions, whose order, and so the last bits of a sum, varies
// between runs. Clear dtable first (Fill) for the gradient alone; ids must
// be valid.
func (l *Launcher) ScatterAdd(dtable, dy, ids cu.DevicePtr, n, d int) error {
	return errNotYet("ScatterAdd")
}

// PositionBias sets dst (batch × heads × positions) to T5's attention bias,
// as kernel.PositionBias: dst[b,h,i] = table[buckets[i]·heads + h] +
// mask[b,i], the relative position bias looked up by bucket (buckets holds
// positions = S·T int64s, table is numBuckets × heads) plus the additive
// mask (batch × positions; 0 for none).
func (l *Launcher) PositionBias(dst, table, buckets, mask cu.DevicePtr, positions, batch, heads int) error {
	return errNotYet("PositionBias")
}

// PositionBiasBackward sets dtable (numBuckets × heads) to the gradient of
// PositionBias with respect to its table from dy (batch × heads ×
// positions): the sum of dy over the positions of each bucket, as
// kernel.PositionBiasBackward (summed with atomic additions: the last bits
// vary between runs).
func (l *Launcher) PositionBiasBackward(dtable, dy, buckets cu.DevicePtr, positions, batch, heads, numBuckets int) error {
	return errNotYet("PositionBiasBackward")
}

// Fill sets dst[i] = v for i < n (Fill(dst, n, 0) clears a gradient before
// ScatterAdd).
func (l *Launcher) Fill(dst cu.DevicePtr, n int, v float32) error { return errNotYet("Fill") }
