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

var (
	avx2Kernel   = asmKernel("avx2-6x16", 6, 16, 256, tileAVX2)
	avx512Kernel = asmKernel("avx512-12x32", 12, 32, 192, tileAVX512)
)

// asmKernel is the kernel of an assembly mr×nr tile (blocks mc 144, kc
// given, nc 3072), bounds-checked before the call: the assembly trusts them.
func asmKernel(name string, mr, nr, kc int, tile func(k int, a, b, c *float32, ldc int, alpha, beta float32)) *kernel {
	return &kernel{
		name: name,
		mr:   mr, nr: nr,
		mc: 144, kc: kc, nc: 3072,
		tile: func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
			_, _, _ = a[mr*k-1], b[nr*k-1], c[(mr-1)*ldc+nr-1]
			tile(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
		},
	}
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
