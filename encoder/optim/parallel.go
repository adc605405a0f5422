package optim

import (
	"sort"

	"github.com/genq-go/genq/internal/kernel"
)

// workers, when positive, is the number of goroutines Step and ClipGradNorm
// use; otherwise they use kernel.Workers() (GOMAXPROCS). Tests set it to compare the
// parallel results with the serial ones.
var workers int

// chunkLen is how many elements one goroutine takes at a time when the
// elementwise kernels split the parameters: large enough that handing out a
// chunk costs nothing next to processing it, small enough that a few
// hundred chunks keep every core busy on a 66M-parameter model.
const chunkLen = 1 << 15

func numWorkers() int {
	if workers > 0 {
		return workers
	}
	return kernel.Workers()
}

// forEach calls fn(i) for every i in [0, n), on up to numWorkers goroutines
// that take the next index as they become free (kernel.ForEachOn), and
// returns when all calls have. With one worker (or one index) it runs in the
// caller's goroutine.
func forEach(n int, fn func(i int)) {
	kernel.ForEachOn(numWorkers(), n, func(_, i int) { fn(i) })
}

// forChunks views slices of the given lengths as one concatenation, cuts it
// into chunks of chunkLen elements and calls fn(i, lo, hi) for each piece of
// a chunk: elements [lo, hi) of slice i. A large slice is thus split across
// goroutines and small ones are grouped into one chunk; the pieces of one
// chunk run in order on one goroutine. Every element is covered exactly once,
// so an elementwise fn gives the same result however the work is split.
func forChunks(lens []int, fn func(i, lo, hi int)) {
	offsets := make([]int, len(lens)+1) // slice i is [offsets[i], offsets[i+1])
	for i, n := range lens {
		offsets[i+1] = offsets[i] + n
	}
	total := offsets[len(lens)]
	forEach((total+chunkLen-1)/chunkLen, func(c int) {
		a, b := c*chunkLen, min((c+1)*chunkLen, total)
		// The first slice that ends after a.
		i := sort.Search(len(lens), func(i int) bool { return offsets[i+1] > a })
		for ; i < len(lens) && offsets[i] < b; i++ {
			lo, hi := max(a, offsets[i])-offsets[i], min(b, offsets[i+1])-offsets[i]
			if lo < hi {
				fn(i, lo, hi)
			}
		}
	})
}
