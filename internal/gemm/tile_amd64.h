// Macros shared by the AVX2 6×16 and AVX-512 12×32 micro-kernels
// (kernel_avx2_amd64.s, kernel_avx512_amd64.s) of
//
//	func tile(k int, a, b, c *float32, ldc int, alpha, beta float32)
//
// Both keep an accumulator pair (lo, hi) per tile row and use the same
// general registers: AX packed A, BX packed B, CX k % 4, R9 k / 4, DX C,
// R8 ldc in bytes, R10 scratch.

// TILE_ARGS loads the arguments and splits k into R9 = k / 4, CX = k % 4.
#define TILE_ARGS \
	MOVQ k+0(FP), CX; \
	MOVQ a+8(FP), AX; \
	MOVQ b+16(FP), BX; \
	MOVQ c+24(FP), DX; \
	MOVQ ldc+32(FP), R8; \
	SHLQ $2, R8; \
	MOVQ CX, R9; \
	SHRQ $2, R9; \
	ANDQ $3, CX

// ZERO12 clears twelve accumulators with the xor instruction op.
#define ZERO12(op, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) \
	op c0, c0, c0; op c1, c1, c1; op c2, c2, c2; op c3, c3, c3; \
	op c4, c4, c4; op c5, c5, c5; op c6, c6, c6; op c7, c7, c7; \
	op c8, c8, c8; op c9, c9, c9; op c10, c10, c10; op c11, c11, c11

// TILE_ROW adds the B row (b0, b1) times the A element at ao(AX),
// broadcast into t, into the accumulator pair (lo, hi).
#define TILE_ROW(ao, b0, b1, t, lo, hi) \
	VBROADCASTSS ao(AX), t; \
	VFMADD231PS  b0, t, lo; \
	VFMADD231PS  b1, t, hi

// TILE_ROWS6 is the rank-1 update of six tile rows: the B row (b0, b1)
// times the six A elements from ao(AX) on, broadcast into t0 and t1 in
// turn, added into the accumulator pairs (c0, c1) ... (c10, c11).
#define TILE_ROWS6(ao, b0, b1, t0, t1, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) \
	TILE_ROW(ao, b0, b1, t0, c0, c1); \
	TILE_ROW((ao+4), b0, b1, t1, c2, c3); \
	TILE_ROW((ao+8), b0, b1, t0, c4, c5); \
	TILE_ROW((ao+12), b0, b1, t1, c6, c7); \
	TILE_ROW((ao+16), b0, b1, t0, c8, c9); \
	TILE_ROW((ao+20), b0, b1, t1, c10, c11)

// TILE_LOOP runs step(ao, bo), the rank-1 update from the A elements at
// ao(AX) and the B row at bo(BX), for each of the k steps: four at a time,
// then one at a time, advancing AX by astep and BX by bstep bytes a step.
#define TILE_LOOP(step, astep, bstep) \
	TESTQ R9, R9; \
	JZ    tail; \
loop4: \
	step(0, 0); \
	step(astep, bstep); \
	step((2*astep), (2*bstep)); \
	step((3*astep), (3*bstep)); \
	ADDQ  $(4*astep), AX; \
	ADDQ  $(4*bstep), BX; \
	DECQ  R9; \
	JNZ   loop4; \
tail: \
	TESTQ CX, CX; \
	JZ    looped; \
loop1: \
	step(0, 0); \
	ADDQ  $astep, AX; \
	ADDQ  $bstep, BX; \
	DECQ  CX; \
	JNZ   loop1; \
looped:

// TILE_SCALARS broadcasts alpha into va and, unless beta is ±0 (which
// means "do not read C"; NaN still reads), beta into vb; for beta ±0 it
// jumps to store.
#define TILE_SCALARS(va, vb, store) \
	VBROADCASTSS alpha+40(FP), va; \
	MOVL         beta+44(FP), R10; \
	ANDL         $0x7fffffff, R10; \
	JZ           store; \
	VBROADCASTSS beta+44(FP), vb

// TILE_ROW_STORE writes va·(lo, hi) to the row of C at DX, hi w bytes after
// lo, and moves DX to the next row.
#define TILE_ROW_STORE(va, w, lo, hi) \
	VMULPS  va, lo, lo; \
	VMULPS  va, hi, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, w(DX); \
	ADDQ    R8, DX

// TILE_ROW_UPDATE is TILE_ROW_STORE of va·(lo, hi) + vb·row.
#define TILE_ROW_UPDATE(va, vb, w, lo, hi) \
	VMULPS      va, lo, lo; \
	VMULPS      va, hi, hi; \
	VFMADD231PS (DX), vb, lo; \
	VFMADD231PS w(DX), vb, hi; \
	VMOVUPS     lo, (DX); \
	VMOVUPS     hi, w(DX); \
	ADDQ        R8, DX

// TILE_STORE6 stores six rows of accumulator pairs with TILE_ROW_STORE.
#define TILE_STORE6(va, w, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) \
	TILE_ROW_STORE(va, w, c0, c1); \
	TILE_ROW_STORE(va, w, c2, c3); \
	TILE_ROW_STORE(va, w, c4, c5); \
	TILE_ROW_STORE(va, w, c6, c7); \
	TILE_ROW_STORE(va, w, c8, c9); \
	TILE_ROW_STORE(va, w, c10, c11)

// TILE_UPDATE6 updates six rows of accumulator pairs with TILE_ROW_UPDATE.
#define TILE_UPDATE6(va, vb, w, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) \
	TILE_ROW_UPDATE(va, vb, w, c0, c1); \
	TILE_ROW_UPDATE(va, vb, w, c2, c3); \
	TILE_ROW_UPDATE(va, vb, w, c4, c5); \
	TILE_ROW_UPDATE(va, vb, w, c6, c7); \
	TILE_ROW_UPDATE(va, vb, w, c8, c9); \
	TILE_ROW_UPDATE(va, vb, w, c10, c11)
