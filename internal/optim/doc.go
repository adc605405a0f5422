// Package optim holds the optimizer side of sentence-transformers' fit loop as
// plain Go over []float32 slices (the backing slices of the model's gorgonia
// tensors), so that one training step reproduces PyTorch's numbers:
//
//	total := optim.ClipGradNorm(grads, 1.0)             // torch.nn.utils.clip_grad_norm_
//	opt.LR = baseLR * optim.WarmupLinear(step, warmup, total) // get_linear_schedule_with_warmup
//	err := opt.Step()                                    // torch.optim.AdamW
//
// Parameters are grouped as fit groups them: SplitDecay puts every parameter
// whose name matches NoDecay into a group without weight decay.
//
// # Numerics
//
// AdamW follows torch 1.13's single-tensor (non-foreach, non-fused,
// non-amsgrad) implementation operation by operation in float32, with the
// scalars (1 − lr·wd, the bias corrections, the step size) computed in
// float64 and rounded to float32 where torch passes them to a float32 kernel.
// On the golden fit step of testdata/fixtures/{distilbert,bert}-tiny it
// reproduces every parameter to a few float32 ulps.
package optim
