package train

// Permutation returns a random order of 0..n-1 drawn from seed with the
// batcher's generator (PCG and a Fisher–Yates shuffle defined in this
// package), so a given seed gives the same order on every platform and Go
// version: an epoch's order for a shuffling data loader that keeps no state
// besides the seed and the epoch.
func Permutation(n int, seed uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	newRNG(seed).shuffle(p)
	return p
}
