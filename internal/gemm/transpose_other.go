//go:build !amd64 || purego

package gemm

import "unsafe"

// Without amd64 assembly packing transposes element by element.
const hasTranspose8 = false

// transpose8 is the portable form of the assembly routine (without its
// spill); packing does not call it when hasTranspose8 is false.
func transpose8(dst *float32, ldd int, rows *[8]*float32, n int) {
	d := unsafe.Slice(dst, (n-1)*ldd+8)
	for r, row := range rows {
		for q, v := range unsafe.Slice(row, n) {
			d[q*ldd+r] = v
		}
	}
}
