package nn

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestDropoutFill checks the masks: the dropped fraction of 10⁶ draws is P
// within 5 standard deviations, and a reseeded source draws the same mask
// whatever the number of threads.
func TestDropoutFill(t *testing.T) {
	const n, p = 1_000_000, 0.1
	draw := func(procs int) []bool {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		d := NewDropout(p, 7)
		keep := make([]bool, n)
		d.fill(keep)
		return keep
	}
	one, many := draw(1), draw(4)
	if !slices.Equal(one, many) {
		t.Error("the mask depends on GOMAXPROCS")
	}
	dropped := 0
	for _, k := range one {
		if !k {
			dropped++
		}
	}
	frac, sd := float64(dropped)/n, math.Sqrt(p*(1-p)/n)
	if math.Abs(frac-p) > 5*sd {
		t.Errorf("dropped fraction %.5f, want %.2f ± %.5f", frac, p, 5*sd)
	}
	t.Logf("dropped fraction %.5f", frac)
}
