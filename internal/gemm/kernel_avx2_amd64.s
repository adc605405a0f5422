//go:build amd64 && !purego

#include "textflag.h"

// Register use:
//   AX  packed A (6 floats per step)      Y0..Y11  C accumulators, row r in Y(2r), Y(2r+1)
//   BX  packed B (16 floats per step)     Y12, Y13 the B row of the step
//   CX  k % 4, R9 k / 4                   Y14, Y15 broadcast A elements
//   DX  C, R8 ldc in bytes

// STEP6x16 does one rank-1 update of the 6×16 tile: A at ao(AX), B at bo(BX).
#define STEP6x16(ao, bo) \
	VMOVUPS      bo(BX), Y12; \
	VMOVUPS      (bo+32)(BX), Y13; \
	VBROADCASTSS ao(AX), Y14; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VBROADCASTSS (ao+4)(AX), Y15; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS (ao+8)(AX), Y14; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VBROADCASTSS (ao+12)(AX), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	VBROADCASTSS (ao+16)(AX), Y14; \
	VFMADD231PS  Y12, Y14, Y8; \
	VFMADD231PS  Y13, Y14, Y9; \
	VBROADCASTSS (ao+20)(AX), Y15; \
	VFMADD231PS  Y12, Y15, Y10; \
	VFMADD231PS  Y13, Y15, Y11

// STORE16 writes alpha*(lo, hi) to one 16-float row of C at DX.
#define STORE16(lo, hi) \
	VMULPS  Y14, lo, lo; \
	VMULPS  Y14, hi, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX); \
	ADDQ    R8, DX

// UPDATE16 writes alpha*(lo, hi) + beta*row to one 16-float row of C at DX.
#define UPDATE16(lo, hi) \
	VMULPS      Y14, lo, lo; \
	VMULPS      Y14, hi, hi; \
	VFMADD231PS (DX), Y15, lo; \
	VFMADD231PS 32(DX), Y15, hi; \
	VMOVUPS     lo, (DX); \
	VMOVUPS     hi, 32(DX); \
	ADDQ        R8, DX

// func tileAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·tileAVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

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

	MOVQ CX, R9
	SHRQ $2, R9
	ANDQ $3, CX
	TESTQ R9, R9
	JZ   tail

loop4:
	STEP6x16(0, 0)
	STEP6x16(24, 64)
	STEP6x16(48, 128)
	STEP6x16(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ R9
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    epilogue

loop1:
	STEP6x16(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1

epilogue:
	VBROADCASTSS alpha+40(FP), Y14
	MOVL         beta+44(FP), R10
	ANDL         $0x7fffffff, R10 // ±0 means "do not read C"; NaN still reads
	JZ           store

	VBROADCASTSS beta+44(FP), Y15
	UPDATE16(Y0, Y1)
	UPDATE16(Y2, Y3)
	UPDATE16(Y4, Y5)
	UPDATE16(Y6, Y7)
	UPDATE16(Y8, Y9)
	UPDATE16(Y10, Y11)
	VZEROUPPER
	RET

store:
	STORE16(Y0, Y1)
	STORE16(Y2, Y3)
	STORE16(Y4, Y5)
	STORE16(Y6, Y7)
	STORE16(Y8, Y9)
	STORE16(Y10, Y11)
	VZEROUPPER
	RET
