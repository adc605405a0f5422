package nn

import (
	"github.com/stretchr/testify/assert"
	"math"
	"runtime"
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
	assert.Equal(t, one, many, "the mask depends on GOMAXPROCS")
	dropped := 0
	for _, k := range one {
		if !k {
			dropped++
		}
	}
	frac, sd := float64(dropped)/n, math.Sqrt(p*(1-p)/n)
	assert.InDelta(t, p, frac, 5*sd, "dropped fraction")
	t.Logf("dropped fraction %.5f", frac)
}
