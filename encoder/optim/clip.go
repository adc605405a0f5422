package optim

import "sort"

// ClipGradNorm scales the gradients in place so that their global L2 norm
// (the norm of all of them concatenated) is at most maxNorm, and returns that
// norm before clipping, as torch.nn.utils.clip_grad_norm_(params, maxNorm)
// does in torch 1.13: each gradient's norm is taken in float32 (see norm32),
// the total is the norm of those norms, coef = maxNorm / (total + 1e-6) (computed as
// torch does, 1/(total + 1e-6) · maxNorm in float32), and the gradients are
// multiplied by coef only when coef < 1. Nil gradients are skipped. A NaN or
// Inf gradient makes the total NaN or Inf and, as in torch without
// error_if_nonfinite, spreads into every gradient; check the returned norm.
//
// The per-gradient norms run in parallel across gradients (each one summed in
// torch's order, so the total is the same bit for bit) and the scaling in
// chunks across goroutines.
func ClipGradNorm(grads [][]float32, maxNorm float64) float64 {
	var nonNil []int // indices of the non-nil gradients, largest first
	for i, g := range grads {
		if g != nil {
			nonNil = append(nonNil, i)
		}
	}
	// Largest first, so that the goroutine that takes the word embeddings
	// is not the one left finishing last.
	sort.SliceStable(nonNil, func(a, b int) bool { return len(grads[nonNil[a]]) > len(grads[nonNil[b]]) })
	perGrad := make([]float32, len(grads))
	forEach(len(nonNil), func(k int) {
		i := nonNil[k]
		perGrad[i] = norm32(grads[i])
	})
	norms := make([]float32, 0, len(nonNil)) // in the order of grads, as torch stacks them
	for i, g := range grads {
		if g != nil {
			norms = append(norms, perGrad[i])
		}
	}
	total := norm32(norms) // torch.norm(torch.stack(norms))
	coef := float32(1/float32(total+1e-6)) * float32(maxNorm)
	if coef < 1 {
		lens := make([]int, len(grads))
		for i, g := range grads {
			lens[i] = len(g)
		}
		forChunks(lens, func(i, lo, hi int) {
			for j, x := range grads[i][lo:hi] {
				grads[i][lo+j] = x * coef
			}
		})
	}
	return float64(total)
}

// norm32 is the L2 norm of x summed the way torch 1.13's CPU kernel sums a
// contiguous float32 tensor (ReduceOpsKernel's vectorized last-dim norm on
// AVX2): eight float32 lane accumulators, each updated with a fused
// multiply-add, then the lanes added in order, then the tail elements, then
// the square root. It reproduces the golden grad_total_norm of both
// bi-encoder fixtures bit for bit, where a float64 sum is one ulp off.
func norm32(x []float32) float32 {
	const lanes = 8
	var acc [lanes]float32
	d := 0
	for ; d+lanes <= len(x); d += lanes {
		for j := range acc {
			acc[j] = fma32(x[d+j], x[d+j], acc[j])
		}
	}
	sum := acc[0]
	for _, a := range acc[1:] {
		sum += a
	}
	for ; d < len(x); d++ {
		sum = fma32(x[d], x[d], sum)
	}
	return sqrt32(sum)
}
