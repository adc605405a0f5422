//go:build amd64 && !purego

#include "textflag.h"
#include "tile_amd64.h"

// Register use (besides those of tile_amd64.h):
//   Z0..Z23  C accumulators, row r in Z(2r), Z(2r+1)
//   Z24, Z25 the B row of the step (32 floats)
//   Z26, Z27 broadcast A elements (12 floats a step); alpha, beta at the end

// STEP12x32 does one rank-1 update of the 12×32 tile: A at ao(AX), B at
// bo(BX), rows 0..5 then rows 6..11.
#define STEP12x32(ao, bo) \
	VMOVUPS bo(BX), Z24; \
	VMOVUPS (bo+64)(BX), Z25; \
	TILE_ROWS6(ao, Z24, Z25, Z26, Z27, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	TILE_ROWS6((ao+24), Z24, Z25, Z26, Z27, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)

// func tileAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·tileAVX512(SB), NOSPLIT, $0-48
	TILE_ARGS
	ZERO12(VPXORD, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11)
	ZERO12(VPXORD, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	TILE_LOOP(STEP12x32, 48, 128)
	TILE_SCALARS(Z26, Z27, store)
	TILE_UPDATE6(Z26, Z27, 64, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11)
	TILE_UPDATE6(Z26, Z27, 64, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

store:
	TILE_STORE6(Z26, 64, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11)
	TILE_STORE6(Z26, 64, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET
