package train

import (
	"math/bits"
	"math/rand/v2"
)

// rng is the batcher's random source: math/rand/v2's PCG (a specified
// algorithm, PCG-DXSM) with a shuffle and bounded draws defined here, so
// that the sequence depends only on the seed.
type rng struct{ pcg *rand.PCG }

func newRNG(seed uint64) rng {
	// The second word is a fixed odd constant: one seed selects one stream.
	return rng{rand.NewPCG(seed, 0x9e3779b97f4a7c15)}
}

// below returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method (no modulo bias).
func (r rng) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.pcg.Uint64(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(r.pcg.Uint64(), n)
		}
	}
	return hi
}

// shuffle permutes x in place with Fisher–Yates from the end, the order
// Python's random.shuffle uses.
func (r rng) shuffle(x []int) {
	for i := len(x) - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		x[i], x[j] = x[j], x[i]
	}
}
