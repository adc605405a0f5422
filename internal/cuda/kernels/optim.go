//go:build cuda

package kernels

import (
	"fmt"
	"math"

	"gorgonia.org/cu"
)

// AdamW applies one step of torch.optim.AdamW, exactly as encoder/optim's
// AdamW.Step does for one parameter of n float32s (the same float32
// operations in the same order, no fused multiply-adds where torch rounds
// twice): with t = step (the parameter's step count, from 1) and the
// scalars computed in float64 and rounded to float32 as optim does,
//
//	p ← p·(1 − lr·λ)
//	m ← β₁·m + (1 − β₁)·g
//	v ← β₂·v + (1 − β₂)·g²
//	p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)
//
// param, expAvg (m) and expAvgSq (v) are updated in place; grad is read.
func (l *Launcher) AdamW(param, grad, expAvg, expAvgSq cu.DevicePtr, n int, lr, weightDecay, beta1, beta2, eps float64, step int) error {
	if err := checkSizes("AdamW", n); err != nil || n == 0 {
		return err
	}
	if step < 1 {
		return fmt.Errorf("kernels: AdamW step %d: step counts start at 1", step)
	}
	if err := need("AdamW", param, grad, expAvg, expAvgSq); err != nil {
		return err
	}
	t := float64(step)
	return l.launch(kAdamW, elemGrid(n), dims{block, 1, 1}, param, grad, expAvg, expAvgSq, n,
		float32(1-lr*weightDecay),
		float32(beta1), float32(1-beta1),
		float32(beta2), float32(1-beta2),
		float32(math.Sqrt(1-math.Pow(beta2, t))),
		float32(-(lr / (1 - math.Pow(beta1, t)))),
		float32(eps))
}

// clipChunks is how many blocks sum the squares of one gradient for
// ClipGradNorm.
const clipChunks = 32

// ClipGradNorm scales the gradients grads[i] (lens[i] float32s each; a zero
// pointer is skipped, as torch skips a None gradient) in place so that
// their global L2 norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_
// (and optim.ClipGradNorm): each gradient's norm (summed in double) rounded
// to float32, the total the norm of those, coef = maxNorm/(total + 1e-6) in
// float32, applied only when below 1. It writes the total norm (one
// float32) to total unless total is 0, and reads nothing back to the host.
// It uses the Launcher's scratch memory.
func (l *Launcher) ClipGradNorm(grads []cu.DevicePtr, lens []int, maxNorm float64, total cu.DevicePtr) error {
	if len(grads) != len(lens) {
		return fmt.Errorf("kernels: ClipGradNorm of %d gradients with %d lengths", len(grads), len(lens))
	}
	if err := checkSizes("ClipGradNorm", lens...); err != nil {
		return err
	}
	if err := checkSizes("ClipGradNorm", len(grads)*clipChunks); err != nil {
		return err
	}
	var live []int
	for i, g := range grads {
		if g != 0 {
			live = append(live, i)
		}
	}
	scratch, err := l.scratchPtr(8 * int64(len(live)*clipChunks+1))
	if err != nil {
		return err
	}
	coef, partials := scratch, scratch+8
	for k, i := range live {
		if err := l.launch(kSumSq, dims{clipChunks, 1, 1}, dims{block, 1, 1}, partials+cu.DevicePtr(8*k*clipChunks), grads[i], lens[i]); err != nil {
			return err
		}
	}
	if err := l.launch(kClipCoef, dims{1, 1, 1}, dims{block, 1, 1}, coef, total, partials, len(live), clipChunks, float32(maxNorm)); err != nil {
		return err
	}
	for _, i := range live {
		if lens[i] == 0 {
			continue
		}
		if err := l.launch(kClipScale, elemGrid(lens[i]), dims{block, 1, 1}, grads[i], lens[i], coef); err != nil {
			return err
		}
	}
	return nil
}
