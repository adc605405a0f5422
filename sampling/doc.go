// Package sampling turns next-token logits into a sampled token the way
// Hugging Face transformers 4.40 does for generate(do_sample=True).
//
// # Warping
//
// [Config.Warp] applies, in place and in this order, the logits warpers that
// generate() builds from a GenerationConfig:
//
//   - TemperatureLogitsWarper: scores / temperature (skipped when the
//     temperature is 1, or 0, which means unset like temperature=None: it
//     is not greedy decoding, and transformers refuses temperature=0.0),
//   - TopKLogitsWarper: every score below the k-th largest becomes -Inf; ties
//     with the k-th value are all kept, so more than k tokens may survive,
//   - TopPLogitsWarper (nucleus): scores sorted ascending, softmax, cumulative
//     sum; tokens whose cumulative probability is <= 1 - top_p become -Inf,
//     except the last MinTokensToKeep of the sorted order (applied for
//     top_p < 1: top_p 1 turns it off, top_p 0 keeps only the
//     MinTokensToKeep most likely tokens). Which of several
//     equal scores is removed first follows torch.sort, which is not stable
//     on the CPU: it is libstdc++'s introsort, reproduced step by step here.
//
// Note that generate(do_sample=True, top_p=0.95) with a default
// GenerationConfig also applies top_k=50: the equivalent Config is
// {TopK: 50, TopP: 0.95}, see [GenerateDefaults].
//
// # Float arithmetic
//
// Decisions at a threshold (top-p's cumulative mass, top-k's k-th value) are
// taken on the same float32 values torch computes: the temperature division is
// a float32 division, the softmax is float32 exp(x - max) times the float32
// reciprocal of its sum, and the cumulative sum is accumulated in float64 and
// rounded to float32 at each position (torch's CPU cumsum accumulates in
// double). A float32 hyper-parameter such as TopP 0.95 is read as the decimal
// the user wrote (the Python float 0.95), not as the float32 nearest to it.
//
// # Sampling
//
// [Sampler] draws a token by inverse-CDF sampling in float64 over
// softmax(scores), driven by math/rand/v2's PCG generator, whose algorithm is
// fixed: the same seed gives the same tokens on every machine and Go version.
// torch.multinomial's random stream cannot be reproduced outside torch, so
// individual draws differ from Python; the distribution is the same.
package sampling
