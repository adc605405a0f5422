//go:build cuda

package kernels

import "gorgonia.org/cu"

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
	return errNotYet("AdamW")
}

// ClipGradNorm scales the gradients grads[i] (lens[i] float32s each) in
// place so that their global L2 norm is at most maxNorm, as
// torch.nn.utils.clip_grad_norm_ (and optim.ClipGradNorm): each gradient's
// norm rounded to float32, the total the norm of those, coef = maxNorm /
// (total + 1e-6) in float32, applied only when below 1. It writes the total
// norm (one float32) to total unless total is 0, without reading anything
// back to the host. It uses the Launcher's scratch memory.
func (l *Launcher) ClipGradNorm(grads []cu.DevicePtr, lens []int, maxNorm float64, total cu.DevicePtr) error {
	return errNotYet("ClipGradNorm")
}
