//go:build amd64 && !purego

#include "textflag.h"

// HSUM reduces the eight lanes of Y register y into the low float of x (the
// same register's X half), using tmp as scratch, and stores it at off(DX).
#define HSUM(y, x, tmp, off) \
	VEXTRACTF128 $1, y, tmp; \
	VADDPS tmp, x, x; \
	VHADDPS x, x, x; \
	VHADDPS x, x, x; \
	VMOVSS x, off(DX)

// func dot4x3(q *float32, qstride int, c *float32, cstride int, n int, out *[12]float32)
// out[3*i+j] = sum over the first n floats (n a positive multiple of 8) of
// query row i (i < 4, rows qstride bytes apart) times corpus row j (j < 3,
// rows cstride bytes apart).
TEXT ·dot4x3(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ qstride+8(FP), BX
	MOVQ c+16(FP), DI
	MOVQ cstride+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DX
	SHLQ $2, CX                 // bytes per row to scan
	LEAQ (SI)(BX*1), R10        // q1
	LEAQ (R10)(BX*1), R11       // q2
	LEAQ (R11)(BX*1), R12       // q3
	LEAQ (DI)(R9*1), R13        // c1
	LEAQ (R13)(R9*1), R14       // c2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX

loop4x3:
	VMOVUPS (DI)(AX*1), Y12
	VMOVUPS (R13)(AX*1), Y13
	VMOVUPS (R14)(AX*1), Y14
	VMOVUPS (SI)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS (R10)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS (R11)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS (R12)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  loop4x3

	HSUM(Y0, X0, X12, 0)
	HSUM(Y1, X1, X12, 4)
	HSUM(Y2, X2, X12, 8)
	HSUM(Y3, X3, X12, 12)
	HSUM(Y4, X4, X12, 16)
	HSUM(Y5, X5, X12, 20)
	HSUM(Y6, X6, X12, 24)
	HSUM(Y7, X7, X12, 28)
	HSUM(Y8, X8, X12, 32)
	HSUM(Y9, X9, X12, 36)
	HSUM(Y10, X10, X12, 40)
	HSUM(Y11, X11, X12, 44)
	VZEROUPPER
	RET

// func dot1x3(q *float32, c *float32, cstride int, n int, out *[3]float32)
// out[j] = sum over the first n floats (a positive multiple of 8) of q times
// corpus row j (j < 3, rows cstride bytes apart).
TEXT ·dot1x3(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ c+8(FP), DI
	MOVQ cstride+16(FP), R9
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), DX
	SHLQ $2, CX
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), R14
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	XORQ AX, AX

loop1x3:
	VMOVUPS (SI)(AX*1), Y15
	VFMADD231PS (DI)(AX*1), Y15, Y0
	VFMADD231PS (R13)(AX*1), Y15, Y1
	VFMADD231PS (R14)(AX*1), Y15, Y2
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  loop1x3

	HSUM(Y0, X0, X12, 0)
	HSUM(Y1, X1, X12, 4)
	HSUM(Y2, X2, X12, 8)
	VZEROUPPER
	RET
