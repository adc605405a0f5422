//go:build cuda

package kernels

import (
	"fmt"

	"gorgonia.org/cu"
)

// Pooling modes, as internal/nn's PoolMode numbers them.
const (
	PoolMean        = 0 // Σ mask·x / max(Σ mask, 1e-9)
	PoolCLS         = 1 // the first token's row
	PoolMax         = 2 // the maximum over the tokens with mask 1 (padding counts as -1e9)
	PoolMeanSqrtLen = 3 // Σ mask·x / sqrt(max(Σ mask, 1e-9))
)

// Pool sets dst (batch × d) to sentence-transformers' pooling of the token
// rows x (batch·seq × d) under the 0/1 float mask (batch × seq), as
// internal/nn's Pool op computes it on the CPU: sums over the tokens in
// token order in double, so the results match bit for bit.
func (l *Launcher) Pool(dst, x, mask cu.DevicePtr, batch, seq, d, mode int) error {
	if err := poolArgs("Pool", batch, seq, d, mode, dst, x, mask); err != nil || batch == 0 || d == 0 {
		return err
	}
	return l.launch(kPool, dims{batch, (d + block - 1) / block, 1}, dims{block, 1, 1}, dst, x, mask, seq, d, mode)
}

// PoolBackward sets dx (batch·seq × d) to the gradient of Pool from its
// inputs and the output gradient dy (batch × d); it writes every element.
func (l *Launcher) PoolBackward(dx, x, mask, dy cu.DevicePtr, batch, seq, d, mode int) error {
	if err := poolArgs("PoolBackward", batch, seq, d, mode, dx, x, mask, dy); err != nil || batch == 0 || d == 0 {
		return err
	}
	return l.launch(kPoolBackward, dims{batch, (d + block - 1) / block, 1}, dims{block, 1, 1}, dx, x, mask, dy, seq, d, mode)
}

// poolArgs checks the sizes, mode and operands of a pooling.
func poolArgs(what string, batch, seq, d, mode int, ptrs ...cu.DevicePtr) error {
	if err := checkSizes(what, batch, seq, d, batch*seq*d); err != nil {
		return err
	}
	if mode < PoolMean || mode > PoolMeanSqrtLen {
		return fmt.Errorf("kernels: %s: unknown pooling mode %d", what, mode)
	}
	if batch == 0 || d == 0 {
		return nil
	}
	if seq == 0 {
		return fmt.Errorf("kernels: %s: sequences of no tokens", what)
	}
	return need(what, ptrs...)
}

// Dropout sets dst[i] = x[i]·scale where keep[i] (n bytes, Go bools drawn on
// the host) is 1 and 0 elsewhere, the product in double rounded to float32
// as internal/nn's dropout kernel computes it: the same mask gives the same
// values on the CPU and the GPU. dst may be x; the gradient is Dropout of dy
// with the same mask.
func (l *Launcher) Dropout(dst, x, keep cu.DevicePtr, n int, scale float64) error {
	if err := checkSizes("Dropout", n); err != nil || n == 0 {
		return err
	}
	if err := need("Dropout", dst, x, keep); err != nil {
		return err
	}
	// scale as three floats whose sum is exactly it (a float carries 24 of
	// its 53 bits): the kernel takes no double.
	hi := float32(scale)
	r := scale - float64(hi)
	mid := float32(r)
	lo := float32(r - float64(mid))
	return l.launch(kDropout, elemGrid(n), dims{block, 1, 1}, dst, x, keep, n, hi, mid, lo)
}
