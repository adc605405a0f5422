//go:build cuda

package kernels

import (
	"fmt"

	"gorgonia.org/cu"
)

// MaxBuckets is the most relative position buckets PositionBiasBackward
// takes (its per-block histogram lives in shared memory): GENQ_MAX_BUCKETS
// of embed.cu. T5 uses 32.
const MaxBuckets = 256

// Gather copies row ids[i] of table (vocab × d) to row i of dst (n × d),
// for i < n: an embedding lookup, as kernel.Gather. ids holds n int64s. A
// device kernel cannot return kernel.Gather's error, so check the ids on
// the host (where they come from); a row whose id is outside [0, vocab) is
// set to NaN, which then shows in every result it reaches.
func (l *Launcher) Gather(dst, table, ids cu.DevicePtr, n, d, vocab int) error {
	if err := checkSizes("Gather", n, d, vocab, n*d); err != nil || n*d == 0 {
		return err
	}
	if err := need("Gather", dst, table, ids); err != nil {
		return err
	}
	return l.launch(kGather, elemGrid(n*d), dims{block, 1, 1}, dst, table, ids, n, d, vocab)
}

// ScatterAdd adds row i of dy (n × d) to row ids[i] of dtable, for i < n:
// the gradient of Gather, accumulated (repeated ids add up) with atomic
// float32 additions, whose order, and so the last bits of a sum, varies
// between runs. Clear dtable first (Fill) for the gradient alone; ids must
// be valid.
func (l *Launcher) ScatterAdd(dtable, dy, ids cu.DevicePtr, n, d int) error {
	if err := checkSizes("ScatterAdd", n, d, n*d); err != nil || n*d == 0 {
		return err
	}
	if err := need("ScatterAdd", dtable, dy, ids); err != nil {
		return err
	}
	return l.launch(kScatterAdd, elemGrid(n*d), dims{block, 1, 1}, dtable, dy, ids, n, d)
}

// PositionBias sets dst (batch × heads × positions) to T5's attention bias,
// as kernel.PositionBias: dst[b,h,i] = table[buckets[i]·heads + h] +
// mask[b,i], the relative position bias looked up by bucket (buckets holds
// positions = S·T int64s, table is numBuckets × heads) plus the additive
// mask (batch × positions; 0 for none).
func (l *Launcher) PositionBias(dst, table, buckets, mask cu.DevicePtr, positions, batch, heads int) error {
	total := batch * heads * positions
	if err := checkSizes("PositionBias", positions, batch, heads, total); err != nil || total == 0 {
		return err
	}
	if err := need("PositionBias", dst, table, buckets); err != nil {
		return err
	}
	return l.launch(kPositionBias, elemGrid(total), dims{block, 1, 1}, dst, table, buckets, mask, positions, batch, heads)
}

// PositionBiasBackward sets dtable (numBuckets × heads, numBuckets ≤
// MaxBuckets) to the gradient of PositionBias with respect to its table
// from dy (batch × heads × positions): the sum of dy over the positions of
// each bucket, as kernel.PositionBiasBackward. Each block sums its share of
// the positions in double; the blocks' sums meet in atomic float32
// additions, so the last bits vary between runs.
func (l *Launcher) PositionBiasBackward(dtable, dy, buckets cu.DevicePtr, positions, batch, heads, numBuckets int) error {
	if err := checkSizes("PositionBiasBackward", positions, batch, heads, numBuckets, batch*heads*positions); err != nil {
		return err
	}
	if numBuckets > MaxBuckets {
		return fmt.Errorf("kernels: PositionBiasBackward: %d buckets, at most %d", numBuckets, MaxBuckets)
	}
	if numBuckets*heads == 0 {
		return nil
	}
	if err := need("PositionBiasBackward", dtable, dy, buckets); err != nil {
		return err
	}
	if err := l.Fill(dtable, numBuckets*heads, 0); err != nil {
		return err
	}
	grid := dims{min((positions+block-1)/block, 64), heads, 1}
	return l.launch(kPositionBiasBackward, grid, dims{block, 1, 1}, dtable, dy, buckets, positions, batch, heads, numBuckets)
}
