// Package parallel is genq's one parallel-for, shared by the kernel layer
// (internal/kernel re-exports it) and the matrix kernels of internal/gemm,
// which sits below it. Work is split over at most GOMAXPROCS goroutines,
// the calling goroutine taking a share; small work runs on the caller
// alone. Callers must not depend on how the work is cut.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers returns GOMAXPROCS: the most goroutines For and Each use.
func Workers() int { return max(1, runtime.GOMAXPROCS(0)) }

// For calls f on contiguous chunks [lo, hi) covering [0, n), on up to
// Workers goroutines, each chunk at least grain items long; work too small
// to split runs on the calling goroutine.
func For(n, grain int, f func(lo, hi int)) { ForOn(Workers(), n, grain, f) }

// ForOn is For on up to workers goroutines: n is cut into at most
// min(workers, n/grain) chunks of equal length (the last one shorter).
func ForOn(workers, n, grain int, f func(lo, hi int)) {
	workers = min(workers, n/max(grain, 1))
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
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

// Each calls f(worker, i) for every i in [0, n) on up to Workers goroutines
// (worker < Workers() identifies the goroutine, for per-worker scratch),
// handing out indices one at a time so that a core slowed down by other
// work takes fewer of them. With one worker or one index it runs on the
// calling goroutine.
func Each(n int, f func(worker, i int)) { EachOn(Workers(), n, f) }

// EachOn is Each on up to workers goroutines (at least one).
func EachOn(workers, n int, f func(worker, i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(w, i)
			}
		})
	}
	wg.Wait()
}
