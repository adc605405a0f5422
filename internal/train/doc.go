// Package train holds the model-independent plumbing of sentence-transformers'
// fit loop:
//
//   - NoDuplicates: batches of example indices in which no text repeats, as
//     sentence-transformers 2.7's NoDuplicatesDataLoader builds them for
//     MultipleNegativesRankingLoss, from a seeded generator whose state can be
//     saved and restored.
//   - Store: atomic, crash-safe checkpoints of a training run (step, epoch,
//     batcher state, optimizer state and named parameter tensors), so that an
//     interrupted run resumes without losing or repeating a step. Every
//     checkpoint is synced to disk (files and folders) before Save returns;
//     the two latest are kept, and Load falls back to the older one when the
//     latest is damaged.
//   - Progress: a progress bar with step/total, loss and rate, silent when
//     disabled.
//
// # Reproducibility
//
// Python's random.shuffle (a Mersenne Twister behind random.random) is not
// reproduced: the batches follow the same algorithm as the Python loader but
// their order comes from Go's PCG generator, seeded explicitly. A given seed
// gives the same batches on every platform and Go version, because the
// shuffle and the bounded draws are implemented here on top of PCG's
// specified 64-bit output.
package train
