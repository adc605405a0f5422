// Package optim is the optimizer side of sentence-transformers' fit loop, as
// plain Go over []float32 slices (the backing slices of a model's tensors), so
// that one training step reproduces PyTorch's numbers:
//
//	norm := optim.ClipGradNorm(grads, 1.0)                       // torch.nn.utils.clip_grad_norm_
//	err := opt.Step(baseLR * optim.WarmupLinear(step, warmup, total)) // torch.optim.AdamW under
//	                                                             // get_linear_schedule_with_warmup
//
// Parameters are grouped as fit groups them: SplitDecay puts every parameter
// whose name matches NoDecay into a group without weight decay. An optimizer's
// moments are saved with AdamW.State and restored with AdamW.LoadState, so an
// interrupted run resumes bit for bit.
//
// The package has no dependency on gorgonia or on the encoder: any Go training
// loop that holds its weights and gradients as []float32 can use it.
//
// # Numerics
//
// AdamW follows torch 1.13's single-tensor (non-foreach, non-fused,
// non-amsgrad) implementation operation by operation in float32, with the
// scalars (1 − lr·wd, the bias corrections, the step size) computed in
// float64 and rounded to float32 where torch passes them to a float32 kernel.
// On the golden fit step of testdata/fixtures/{distilbert,bert}-tiny it
// reproduces every parameter to a few float32 ulps. ClipGradNorm sums squares
// the way torch's vectorized CPU kernel does and reproduces the fixtures'
// gradient norms bit for bit.
//
// # Parallelism
//
// Step and ClipGradNorm split their elementwise work across GOMAXPROCS
// goroutines; the results are bit-identical to a serial run.
package optim
