package kernel

import "github.com/genq-go/genq/internal/parallel"

// Workers returns how many goroutines ForEach and ParallelFor use at most:
// GOMAXPROCS.
func Workers() int { return parallel.Workers() }

// ParallelFor calls f on contiguous chunks [lo, hi) covering [0, n), on up
// to Workers goroutines, each chunk at least grain items long; work too
// small to split runs on the calling goroutine. f must not depend on how
// [0, n) is cut. (internal/parallel, which internal/gemm shares.)
func ParallelFor(n, grain int, f func(lo, hi int)) { parallel.For(n, grain, f) }

// ForEach calls f(worker, i) for every i in [0, n) on up to Workers
// goroutines (worker < Workers() identifies the goroutine, for per-worker
// scratch), handing out indices one at a time so that a core slowed down by
// other work takes fewer of them. With one worker or one index it runs on
// the calling goroutine.
func ForEach(n int, f func(worker, i int)) { parallel.Each(n, f) }

// ForEachOn is ForEach on up to workers goroutines (at least one).
func ForEachOn(workers, n int, f func(worker, i int)) { parallel.EachOn(workers, n, f) }

// ElemGrain is the fewest elements of a cheap element-wise loop worth
// handing to another goroutine.
const ElemGrain = 1 << 14

// RowGrain is the fewest rows of width d worth handing to another goroutine.
func RowGrain(d int) int { return max(1, ElemGrain/max(d, 1)) }

// eachRow calls f(r) for every row r < n of rows of width d, in parallel
// (ParallelFor with RowGrain(d)).
func eachRow(n, d int, f func(r int)) {
	ParallelFor(n, RowGrain(d), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			f(r)
		}
	})
}
