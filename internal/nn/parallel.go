package nn

import (
	"runtime"
	"sync"
)

// parallelFor calls f on contiguous chunks [lo, hi) covering [0, n), on up to
// GOMAXPROCS goroutines, each chunk at least grain items long; work too
// small to split runs on the calling goroutine.
func parallelFor(n, grain int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if workers <= 1 {
		f(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		wg.Go(func() { f(lo, min(lo+chunk, n)) })
	}
	f(0, min(chunk, n))
	wg.Wait()
}

// elemGrain is the fewest elements of a cheap element-wise loop worth
// handing to another goroutine.
const elemGrain = 1 << 14
