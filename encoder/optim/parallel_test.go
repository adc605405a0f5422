package optim

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/testutil"
)

// withWorkers runs fn with the package's goroutine count set to n.
func withWorkers(n int, fn func()) {
	old := workers
	workers = n
	defer func() { workers = old }()
	fn()
}

// oddSizes are parameter sizes around and across chunk boundaries, so that
// chunks both split parameters and group several small ones.
var oddSizes = map[string]int{
	"a.weight":           3*chunkLen + 17,
	"b.bias":             1,
	"c.weight":           chunkLen - 1,
	"d.LayerNorm.weight": 7,
	"e.weight":           100003,
	"f.bias":             chunkLen + 1,
	"g.weight":           2 * chunkLen,
	"h.bias":             0,
}

func oddParams(seed uint64) []*Param {
	var names []string
	for n := range oddSizes {
		names = append(names, n)
	}
	sort.Strings(names)
	return randomParams(seed, names, oddSizes)
}

// TestForChunksCoversOnce checks that forChunks visits every element of
// every slice exactly once, for several worker counts.
func TestForChunksCoversOnce(t *testing.T) {
	lens := []int{0, 5, 3*chunkLen + 1, 0, chunkLen, 1, chunkLen - 3, 0}
	for _, w := range []int{1, 2, 3, 8} {
		withWorkers(w, func() {
			counts := make([][]int32, len(lens))
			for i, n := range lens {
				counts[i] = make([]int32, n)
			}
			var mu sync.Mutex
			forChunks(lens, func(i, lo, hi int) {
				assert.LessOrEqual(t, hi-lo, chunkLen, "workers %d: piece [%d, %d) of slice %d is longer than a chunk", w, lo, hi, i)
				mu.Lock()
				defer mu.Unlock()
				for j := lo; j < hi; j++ {
					counts[i][j]++
				}
			})
			for i, c := range counts {
				for j, n := range c {
					require.EqualValues(t, 1, n, "workers %d: visits of slice %d element %d", w, i, j)
				}
			}
		})
	}
}

// TestParallelMatchesSerial runs three AdamW steps (with a parameter that
// has no gradient on the second) and a gradient clipping that scales, once
// on one goroutine and once on several, and requires identical bits: the
// parameters, both moments, the clipped gradients and the total norm.
func TestParallelMatchesSerial(t *testing.T) {
	type result struct {
		params []*Param
		state  State
		norm   float64
	}
	run := func(w int) result {
		var r result
		withWorkers(w, func() {
			r.params = oddParams(5)
			opt, err := NewAdamW(Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, SplitDecay(r.params, 0.01)...)
			require.NoError(t, err)
			for k := range 3 {
				saved := r.params[1].Grad // b.bias
				if k == 1 {
					r.params[1].Grad = nil
				}
				require.NoError(t, opt.Step(1e-3*float64(k+1)))
				r.params[1].Grad = saved
			}
			g := grads(r.params)
			g[3] = nil // d.LayerNorm.weight: skipped by the norm
			r.norm = ClipGradNorm(g, 0.5)
			r.state = opt.State()
		})
		return r
	}
	serial := run(1)
	require.Greater(t, serial.norm, 0.5, "a total norm under 0.5 would not exercise the scaling")
	for _, w := range []int{2, 4, 7} {
		t.Run(fmt.Sprintf("workers=%d", w), func(t *testing.T) {
			par := run(w)
			assert.Equal(t, math.Float64bits(serial.norm), math.Float64bits(par.norm), "total norm: parallel %v, serial %v", par.norm, serial.norm)
			for i, p := range par.params {
				testutil.Identical(t, p.Name, p.Data, serial.params[i].Data)
				testutil.Identical(t, "grad."+p.Name, p.Grad, serial.params[i].Grad)
				ps, ss := par.state.Params[p.Name], serial.state.Params[p.Name]
				assert.Equal(t, ss.Step, ps.Step, "%s: step count", p.Name)
				testutil.Identical(t, "exp_avg."+p.Name, ps.ExpAvg, ss.ExpAvg)
				testutil.Identical(t, "exp_avg_sq."+p.Name, ps.ExpAvgSq, ss.ExpAvgSq)
			}
		})
	}
}

var (
	benchOnce   sync.Once
	benchParams []*Param
)

// distilbertParams returns random parameters of distilbert-base's sizes,
// built once per test binary (66M values take seconds to draw).
func distilbertParams() []*Param {
	benchOnce.Do(func() {
		sizes := distilbertBase()
		var names []string
		for n := range sizes {
			names = append(names, n)
		}
		sort.Strings(names)
		benchParams = randomParams(1, names, sizes)
	})
	return benchParams
}

// benchWorkers are the goroutine counts the benchmarks compare: the serial
// code path and GOMAXPROCS.
func benchWorkers() []int { return []int{1, runtime.GOMAXPROCS(0)} }

// BenchmarkStep is one AdamW step over distilbert-base's 66M parameters.
func BenchmarkStep(b *testing.B) {
	ps := distilbertParams()
	opt, err := NewAdamW(Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, SplitDecay(ps, 0.01)...)
	require.NoError(b, err)
	require.NoError(b, opt.Step(2e-5)) // allocate the moments outside the timing
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			withWorkers(w, func() {
				for b.Loop() {
					require.NoError(b, opt.Step(2e-5))
				}
			})
		})
	}
}

// BenchmarkClipGradNorm clips distilbert-base's 66M gradients; each call
// clips to 0.999 of the previous norm, so that every call also scales.
func BenchmarkClipGradNorm(b *testing.B) {
	g := grads(distilbertParams())
	norm := ClipGradNorm(g, math.Inf(1))
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			withWorkers(w, func() {
				for b.Loop() {
					norm = ClipGradNorm(g, 0.999*norm)
				}
			})
		})
	}
}
