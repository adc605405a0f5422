// Package devopt runs a training loop's gradient clipping and AdamW on the
// GPU, for encoder.Fit and t5.Fit in a `cuda` build.
//
// In the default build (and whenever cuda.Enabled reports false) New
// returns nil and the loops use encoder/optim on the host. With the GPU,
// an Optimizer keeps a device copy of every parameter, its gradient and
// AdamW's two moments in a CUDA context of its own for the whole Fit. The
// training graphs hand it their gradients on the device (Feed, FeedRows:
// an op per gradient that copies it, device to device, into the
// optimizer's buffer the moment it is computed; a second gradient of the
// same parameter in a step is added to the first, and the word
// embeddings' gathered rows are scattered into their table there). Step
// then clips the gradients to their global norm and applies AdamW through
// internal/cuda/kernels' Launcher (the twins of encoder/optim's
// ClipGradNorm and AdamW.Step, held to them by their own tests), reads
// back the norm (4 bytes) and copies the updated parameters to the host
// slices, which gorgonia's machines upload again at their next run.
//
// The optimizer state stays where encoder/optim keeps it between runs:
// the first Step uploads the host optimizer's state (fresh, or what a
// resumed run loaded into it), and Download writes the device moments
// back into it before a checkpoint is saved.
package devopt
