//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// haveAVX2 selects the four-lane assembly of approx_amd64.s.
var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// geluAVX2 sets y[i] = x[i]·Φ(x[i]) for the first len(x)/4·4 elements.
//
//go:noescape
func geluAVX2(x, y []float32)

// geluGradAVX2 sets dx[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])) for the first
// len(x)/4·4 elements.
//
//go:noescape
func geluGradAVX2(x, g, dx []float32)

// expShiftAVX2 sets row[i] = e^(row[i] - hi) for the first len(row)/4·4
// elements and stores the four lanes' sums of the exponentials in sums.
//
//go:noescape
func expShiftAVX2(row []float32, hi float64, sums *[4]float64)

// addMaxAVX2 sets row[i] += mask[i] for the first len(row)/8·8 elements
// (mask at least as long) and returns their maximum, NaNs ignored (-Inf
// for none).
//
//go:noescape
func addMaxAVX2(row, mask []float32) float32

// scaleAVX2 sets row[i] = float32(float64(row[i])·s) for the first
// len(row)/4·4 elements.
//
//go:noescape
func scaleAVX2(row []float32, s float64)

// sumSquares16 returns the float64 sum of the squares of the first n floats
// at x, n a positive multiple of 16 (sumsq_amd64.s: four accumulators of
// four float64 lanes).
//
//go:noescape
func sumSquares16(x *float32, n int) float64
