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
// R11 ldd in bytes, R12 steps left, R13 store pointer; Y0..Y7 the rows,
// then the half-transposed pairs; Y8..Y15 scratch, then the columns.
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
	VMOVUPS (AX), Y0
	VMOVUPS (BX), Y1
	VMOVUPS (CX), Y2
	VMOVUPS (DX), Y3
	VMOVUPS (SI), Y4
	VMOVUPS (DI), Y5
	VMOVUPS (R8), Y6
	VMOVUPS (R9), Y7

	// Interleave row pairs: Y8 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] ...
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Gather four rows per 128-bit lane: Y0 = column 0 | column 4 of rows 0..3.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Join the rows 0..3 and 4..7 halves: Y8 = column 0, ..., Y15 = column 7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	MOVQ    R10, R13
	VMOVUPS Y8, (R13)
	ADDQ    R11, R13
	VMOVUPS Y9, (R13)
	ADDQ    R11, R13
	VMOVUPS Y10, (R13)
	ADDQ    R11, R13
	VMOVUPS Y11, (R13)
	ADDQ    R11, R13
	VMOVUPS Y12, (R13)
	ADDQ    R11, R13
	VMOVUPS Y13, (R13)
	ADDQ    R11, R13
	VMOVUPS Y14, (R13)
	ADDQ    R11, R13
	VMOVUPS Y15, (R13)
	ADDQ    R11, R13
	MOVQ    R13, R10

	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, CX
	ADDQ $32, DX
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ R12
	JNZ  loop

done:
	VZEROUPPER
	RET
