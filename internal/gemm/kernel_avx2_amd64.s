//go:build amd64 && !purego

#include "textflag.h"
#include "tile_amd64.h"

// Register use (besides those of tile_amd64.h):
//   Y0..Y11  C accumulators, row r in Y(2r), Y(2r+1)
//   Y12, Y13 the B row of the step (16 floats)
//   Y14, Y15 broadcast A elements (6 floats a step); alpha, beta at the end

// STEP6x16 does one rank-1 update of the 6×16 tile: A at ao(AX), B at bo(BX).
#define STEP6x16(ao, bo) \
	VMOVUPS bo(BX), Y12; \
	VMOVUPS (bo+32)(BX), Y13; \
	TILE_ROWS6(ao, Y12, Y13, Y14, Y15, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)

// func tileAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·tileAVX2(SB), NOSPLIT, $0-48
	TILE_ARGS
	ZERO12(VXORPS, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	TILE_LOOP(STEP6x16, 24, 64)
	TILE_SCALARS(Y14, Y15, store)
	TILE_UPDATE6(Y14, Y15, 32, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VZEROUPPER
	RET

store:
	TILE_STORE6(Y14, 32, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VZEROUPPER
	RET
