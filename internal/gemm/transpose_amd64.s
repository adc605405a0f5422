//go:build amd64 && !purego

#include "textflag.h"

// func transpose8(dst *float32, ldd int, rows *[8]*float32, n int)
//
// For q < n (a multiple of 8) and r < 8 it sets dst[q*ldd+r] = rows[r][q],
// eight steps at a time: load an 8×8 block (one ymm per row), transpose it
// in registers, store one ymm per step. Each store writes 8 floats, so with
// ldd < 8 a store spills into the next step, which the next store then
// overwrites; the last one spills 8-ldd floats past dst[(n-1)*ldd+7].
//
// Register use: AX BX CX DX SI DI R8 R9 the eight row pointers; R10 dst,
// moved on by R11 = ldd in bytes a store; R12 steps left, R13 rows; Y0..Y7
// the rows, then the transposed 4×4 blocks; Y8..Y15 scratch, then the
// columns.

// ROW loads the next eight floats of the row at p into y.
#define ROW(p, y) \
	VMOVUPS (p), y; \
	ADDQ    $32, p

// TRANSPOSE4 transposes four rows r0..r3 within each 128-bit lane, using
// t0..t3: afterwards r0 = column 0 | column 4 of the four rows, r1 = column
// 1 | column 5, and so on.
#define TRANSPOSE4(r0, r1, r2, r3, t0, t1, t2, t3) \
	VUNPCKLPS r1, r0, t0; \
	VUNPCKHPS r1, r0, t1; \
	VUNPCKLPS r3, r2, t2; \
	VUNPCKHPS r3, r2, t3; \
	VSHUFPS   $0x44, t2, t0, r0; \
	VSHUFPS   $0xEE, t2, t0, r1; \
	VSHUFPS   $0x44, t3, t1, r2; \
	VSHUFPS   $0xEE, t3, t1, r3

// JOIN joins the low lanes of rows 0..3 (a) and 4..7 (b) into the column c,
// their high lanes into the column c4 four places on.
#define JOIN(a, b, c, c4) \
	VPERM2F128 $0x20, b, a, c; \
	VPERM2F128 $0x31, b, a, c4

// PUT stores the column y at R10 and moves R10 to the next step.
#define PUT(y) \
	VMOVUPS y, (R10); \
	ADDQ    R11, R10

TEXT ·transpose8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), R10
	MOVQ ldd+8(FP), R11
	SHLQ $2, R11
	MOVQ rows+16(FP), R13
	MOVQ n+24(FP), R12
	MOVQ 0(R13), AX
	MOVQ 8(R13), BX
	MOVQ 16(R13), CX
	MOVQ 24(R13), DX
	MOVQ 32(R13), SI
	MOVQ 40(R13), DI
	MOVQ 48(R13), R8
	MOVQ 56(R13), R9
	SHRQ $3, R12
	JZ   done

loop:
	ROW(AX, Y0)
	ROW(BX, Y1)
	ROW(CX, Y2)
	ROW(DX, Y3)
	ROW(SI, Y4)
	ROW(DI, Y5)
	ROW(R8, Y6)
	ROW(R9, Y7)
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11)
	TRANSPOSE4(Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15)
	JOIN(Y0, Y4, Y8, Y12)
	JOIN(Y1, Y5, Y9, Y13)
	JOIN(Y2, Y6, Y10, Y14)
	JOIN(Y3, Y7, Y11, Y15)
	PUT(Y8)
	PUT(Y9)
	PUT(Y10)
	PUT(Y11)
	PUT(Y12)
	PUT(Y13)
	PUT(Y14)
	PUT(Y15)
	DECQ R12
	JNZ  loop

done:
	VZEROUPPER
	RET
