//go:build amd64 && !purego

#include "textflag.h"

// Both kernels scan three corpus rows at DI, R13 and R14 (see CORPUS3) with
// AX the byte offset into every row and CX the bytes to scan; each query row
// keeps one accumulator per corpus row.

// CORPUS3 turns the float count in CX into bytes and points R13 and R14 at
// corpus rows 1 and 2 (R9 bytes after DI and after each other).
#define CORPUS3 \
	SHLQ $2, CX; \
	LEAQ (DI)(R9*1), R13; \
	LEAQ (R13)(R9*1), R14

// CORPUSARGS loads the arguments c, cstride, n and out, which stand from
// off(FP) on, into DI, R9, CX and DX, then does CORPUS3.
#define CORPUSARGS(off) \
	MOVQ c+(off)(FP), DI; \
	MOVQ cstride+(off+8)(FP), R9; \
	MOVQ n+(off+16)(FP), CX; \
	MOVQ out+(off+24)(FP), DX; \
	CORPUS3

// ZERO3 clears the three accumulators of one query row.
#define ZERO3(a0, a1, a2) \
	VXORPS a0, a0, a0; \
	VXORPS a1, a1, a1; \
	VXORPS a2, a2, a2

// QROW adds the eight floats at offset AX of query row q times those of the
// three corpus rows, loaded in Y12, Y13, Y14, into the accumulators a0..a2.
#define QROW(q, a0, a1, a2) \
	VMOVUPS     (q)(AX*1), Y15; \
	VFMADD231PS Y12, Y15, a0; \
	VFMADD231PS Y13, Y15, a1; \
	VFMADD231PS Y14, Y15, a2

// HSUM reduces the eight lanes of Y register y into the low float of x (the
// same register's X half), using X12 as scratch, and stores it at off(DX).
#define HSUM(y, x, off) \
	VEXTRACTF128 $1, y, X12; \
	VADDPS X12, x, x; \
	VHADDPS x, x, x; \
	VHADDPS x, x, x; \
	VMOVSS x, off(DX)

// SUMS3 stores the three dot products of one query row, the sums of the
// accumulators (y0, y1, y2) whose X halves are x0, x1, x2, from off(DX) on.
#define SUMS3(y0, x0, y1, x1, y2, x2, off) \
	HSUM(y0, x0, off); \
	HSUM(y1, x1, (off+4)); \
	HSUM(y2, x2, (off+8))

// func dot4x3(q *float32, qstride int, c *float32, cstride int, n int, out *[12]float32)
// out[3*i+j] = sum over the first n floats (n a positive multiple of 8) of
// query row i (i < 4, rows qstride bytes apart) times corpus row j (j < 3,
// rows cstride bytes apart). Query rows at SI, R10, R11, R12.
TEXT ·dot4x3(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ qstride+8(FP), BX
	CORPUSARGS(16)
	LEAQ (SI)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	LEAQ (R11)(BX*1), R12
	ZERO3(Y0, Y1, Y2)
	ZERO3(Y3, Y4, Y5)
	ZERO3(Y6, Y7, Y8)
	ZERO3(Y9, Y10, Y11)
	XORQ AX, AX

loop4x3:
	VMOVUPS (DI)(AX*1), Y12
	VMOVUPS (R13)(AX*1), Y13
	VMOVUPS (R14)(AX*1), Y14
	QROW(SI, Y0, Y1, Y2)
	QROW(R10, Y3, Y4, Y5)
	QROW(R11, Y6, Y7, Y8)
	QROW(R12, Y9, Y10, Y11)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  loop4x3

	SUMS3(Y0, X0, Y1, X1, Y2, X2, 0)
	SUMS3(Y3, X3, Y4, X4, Y5, X5, 12)
	SUMS3(Y6, X6, Y7, X7, Y8, X8, 24)
	SUMS3(Y9, X9, Y10, X10, Y11, X11, 36)
	VZEROUPPER
	RET

// func dot1x3(q *float32, c *float32, cstride int, n int, out *[3]float32)
// out[j] = sum over the first n floats (a positive multiple of 8) of q times
// corpus row j (j < 3, rows cstride bytes apart).
TEXT ·dot1x3(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	CORPUSARGS(8)
	ZERO3(Y0, Y1, Y2)
	XORQ AX, AX

loop1x3:
	VMOVUPS (SI)(AX*1), Y15
	VFMADD231PS (DI)(AX*1), Y15, Y0
	VFMADD231PS (R13)(AX*1), Y15, Y1
	VFMADD231PS (R14)(AX*1), Y15, Y2
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  loop1x3

	SUMS3(Y0, X0, Y1, X1, Y2, X2, 0)
	VZEROUPPER
	RET
