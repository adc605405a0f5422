//go:build !amd64 || purego

package kernel

// haveAVX2 is false: the vector kernels exist only on amd64.
const haveAVX2 = false

func geluAVX2(x, y []float32)         { panic("kernel: no AVX2 kernels on this platform") }
func geluGradAVX2(x, g, dx []float32) { panic("kernel: no AVX2 kernels on this platform") }
func expShiftAVX2(row []float32, hi float64, sums *[4]float64) {
	panic("kernel: no AVX2 kernels on this platform")
}
func addMaxAVX2(row, mask []float32) float32 { panic("kernel: no AVX2 kernels on this platform") }
func scaleAVX2(row []float32, s float64)     { panic("kernel: no AVX2 kernels on this platform") }

func sumSquares16(x *float32, n int) float64 { panic("kernel: no AVX2 kernels on this platform") }
