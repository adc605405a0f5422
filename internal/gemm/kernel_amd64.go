//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// tileAVX2 computes a 6×16 tile (see tileFunc) with AVX2 and FMA3.
//
//go:noescape
func tileAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

// tileAVX512 computes a 12×32 tile (see tileFunc) with AVX-512F.
//
//go:noescape
func tileAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

var avx2Kernel = &kernel{
	name: "avx2-6x16",
	mr:   6, nr: 16,
	mc: 144, kc: 256, nc: 3072,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15] // the assembly trusts these bounds
		tileAVX2(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
}

var avx512Kernel = &kernel{
	name: "avx512-12x32",
	mr:   12, nr: 32,
	mc: 144, kc: 192, nc: 3072,
	tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31] // the assembly trusts these bounds
		tileAVX512(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	},
}

func init() {
	switch {
	case cpu.X86.HasAVX512F:
		active = avx512Kernel
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		active = avx2Kernel
	}
}

// transpose8 sets dst[q*ldd+r] = rows[r][q] for r < 8 and q < n (a multiple
// of 8); see transpose_amd64.s for the spill past the last step.
//
//go:noescape
func transpose8(dst *float32, ldd int, rows *[8]*float32, n int)

// hasTranspose8 reports whether transpose8 can run (it needs AVX2).
var hasTranspose8 = cpu.X86.HasAVX2
