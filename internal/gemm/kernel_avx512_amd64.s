//go:build amd64 && !purego

#include "textflag.h"

// Register use:
//   AX  packed A (12 floats per step)     Z0..Z23  C accumulators, row r in Z(2r), Z(2r+1)
//   BX  packed B (32 floats per step)     Z24, Z25 the B row of the step
//   CX  k % 4, R9 k / 4                   Z26, Z27 broadcast A elements
//   DX  C, R8 ldc in bytes                Z26 alpha, Z27 beta in the epilogue

// ROW12x32 multiplies A element ao(AX) into accumulator pair (lo, hi), using t.
#define ROW12x32(ao, t, lo, hi) \
	VBROADCASTSS ao(AX), t; \
	VFMADD231PS  Z24, t, lo; \
	VFMADD231PS  Z25, t, hi

// STEP12x32 does one rank-1 update of the 12×32 tile: A at ao(AX), B at bo(BX).
#define STEP12x32(ao, bo) \
	VMOVUPS bo(BX), Z24; \
	VMOVUPS (bo+64)(BX), Z25; \
	ROW12x32(ao, Z26, Z0, Z1); \
	ROW12x32((ao+4), Z27, Z2, Z3); \
	ROW12x32((ao+8), Z26, Z4, Z5); \
	ROW12x32((ao+12), Z27, Z6, Z7); \
	ROW12x32((ao+16), Z26, Z8, Z9); \
	ROW12x32((ao+20), Z27, Z10, Z11); \
	ROW12x32((ao+24), Z26, Z12, Z13); \
	ROW12x32((ao+28), Z27, Z14, Z15); \
	ROW12x32((ao+32), Z26, Z16, Z17); \
	ROW12x32((ao+36), Z27, Z18, Z19); \
	ROW12x32((ao+40), Z26, Z20, Z21); \
	ROW12x32((ao+44), Z27, Z22, Z23)

// STORE32 writes alpha*(lo, hi) to one 32-float row of C at DX.
#define STORE32(lo, hi) \
	VMULPS  Z26, lo, lo; \
	VMULPS  Z26, hi, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 64(DX); \
	ADDQ    R8, DX

// UPDATE32 writes alpha*(lo, hi) + beta*row to one 32-float row of C at DX.
#define UPDATE32(lo, hi) \
	VMULPS      Z26, lo, lo; \
	VMULPS      Z26, hi, hi; \
	VFMADD231PS (DX), Z27, lo; \
	VFMADD231PS 64(DX), Z27, hi; \
	VMOVUPS     lo, (DX); \
	VMOVUPS     hi, 64(DX); \
	ADDQ        R8, DX

// func tileAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·tileAVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	MOVQ  CX, R9
	SHRQ  $2, R9
	ANDQ  $3, CX
	TESTQ R9, R9
	JZ    tail

loop4:
	STEP12x32(0, 0)
	STEP12x32(48, 128)
	STEP12x32(96, 256)
	STEP12x32(144, 384)
	ADDQ $192, AX
	ADDQ $512, BX
	DECQ R9
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    epilogue

loop1:
	STEP12x32(0, 0)
	ADDQ $48, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  loop1

epilogue:
	VBROADCASTSS alpha+40(FP), Z26
	MOVL         beta+44(FP), R10
	ANDL         $0x7fffffff, R10 // ±0 means "do not read C"; NaN still reads
	JZ           store

	VBROADCASTSS beta+44(FP), Z27
	UPDATE32(Z0, Z1)
	UPDATE32(Z2, Z3)
	UPDATE32(Z4, Z5)
	UPDATE32(Z6, Z7)
	UPDATE32(Z8, Z9)
	UPDATE32(Z10, Z11)
	UPDATE32(Z12, Z13)
	UPDATE32(Z14, Z15)
	UPDATE32(Z16, Z17)
	UPDATE32(Z18, Z19)
	UPDATE32(Z20, Z21)
	UPDATE32(Z22, Z23)
	VZEROUPPER
	RET

store:
	STORE32(Z0, Z1)
	STORE32(Z2, Z3)
	STORE32(Z4, Z5)
	STORE32(Z6, Z7)
	STORE32(Z8, Z9)
	STORE32(Z10, Z11)
	STORE32(Z12, Z13)
	STORE32(Z14, Z15)
	STORE32(Z16, Z17)
	STORE32(Z18, Z19)
	STORE32(Z20, Z21)
	STORE32(Z22, Z23)
	VZEROUPPER
	RET
