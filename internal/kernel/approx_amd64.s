//go:build amd64 && !purego

#include "textflag.h"

// Four-lane float64 versions of exp and normal (gelu.go's scalar
// algorithms, the same polynomials), on float32 data widened to float64 and
// rounded back on the way out. Lanes are independent, so the results do not
// depend on where a slice starts; the Go callers handle the last len%4 elements.
//
// Register use of EXP: Y1 the argument (kept), Y2 r, Y3 t then 2^n, Y4 n then
// the underflow mask, Y5 the result; Y15 holds lo (-708).

// HORNER4 takes four Horner steps, p = p·x + k, with the coefficients k3,
// k2, k1, k0 (four-lane constants) in turn: p in register p, x in x.
#define HORNER4(x, p, k3, k2, k1, k0) \
	VFMADD213PD k3<>(SB), x, p; \
	VFMADD213PD k2<>(SB), x, p; \
	VFMADD213PD k1<>(SB), x, p; \
	VFMADD213PD k0<>(SB), x, p

// EXP sets Y5 = e^Y1 in each lane: x = n·ln2 + r, e^r by its Taylor series to
// r⁸ (Horner, with FMA), times 2^n built in the exponent bits; lanes below
// -708 give 0. The argument is clamped at -708 first, so that the
// computation stays finite (a NaN argument stays NaN: VMAXPD returns its
// second source when either is NaN).
#define EXP \
	VMAXPD      Y1, Y15, Y2; \
	VMOVUPD     round<>(SB), Y3; \
	VFMADD231PD log2e<>(SB), Y2, Y3; \
	VSUBPD      round<>(SB), Y3, Y4; \
	VFNMADD231PD ln2hi<>(SB), Y4, Y2; \
	VFNMADD231PD ln2lo<>(SB), Y4, Y2; \
	VMOVUPD     c8<>(SB), Y5; \
	HORNER4(Y2, Y5, c7, c6, c5, c4); \
	HORNER4(Y2, Y5, c3, half, one, one); \
	VPADDQ      bias<>(SB), Y3, Y3; \
	VPSLLQ      $52, Y3, Y3; \
	VMULPD      Y3, Y5, Y5; \
	VCMPPD      $1, Y15, Y1, Y4; \
	VANDNPD     Y5, Y4, Y5

// NORMAL computes, from f in Y0 (kept), e = e^(-f²/2) in Y5 and Φ(f) in Y12
// (A&S 7.1.26 for erf); it uses Y1..Y11.
#define NORMAL \
	VMULPD      Y0, Y0, Y1; \
	VMULPD      neghalf<>(SB), Y1, Y1; \
	EXP; \
	VANDPD      absmask<>(SB), Y0, Y6; \
	VMULPD      invsqrt2<>(SB), Y6, Y6; \
	VMOVUPD     one<>(SB), Y7; \
	VFMADD231PD erfp<>(SB), Y6, Y7; \
	VMOVUPD     one<>(SB), Y8; \
	VDIVPD      Y7, Y8, Y8; \
	VMOVUPD     a5<>(SB), Y9; \
	HORNER4(Y8, Y9, a4, a3, a2, a1); \
	VMULPD      Y8, Y9, Y9; \
	VMULPD      half<>(SB), Y9, Y9; \
	VMULPD      Y5, Y9, Y9; \
	VCMPPD      $1, zero<>(SB), Y0, Y10; \
	VMOVUPD     one<>(SB), Y11; \
	VSUBPD      Y9, Y11, Y11; \
	VBLENDVPD   Y10, Y9, Y11, Y12

// XGROUPS loads x (the first argument of geluAVX2 and geluGradAVX2) into SI
// and its number of groups of four into CX, jumps to done when there is
// none, and loads lo into Y15 for EXP.
#define XGROUPS(done) \
	MOVQ    x_base+0(FP), SI; \
	MOVQ    x_len+8(FP), CX; \
	SHRQ    $2, CX; \
	JZ      done; \
	VMOVUPD lo<>(SB), Y15

// NEXT4 moves SI on by four floats and goes back to loop while groups of
// four are left.
#define NEXT4(loop) \
	ADDQ $16, SI; \
	DECQ CX; \
	JNZ  loop

// func geluAVX2(x, y []float32)
// y[i] = x[i]·Φ(x[i]) for the first len(x)/4·4 elements.
// SI x, DI y, CX groups of four left.
TEXT ·geluAVX2(SB), NOSPLIT, $0-48
	MOVQ y_base+24(FP), DI
	XGROUPS(geluDone)

geluLoop:
	VCVTPS2PD  (SI), Y0
	NORMAL
	VMULPD     Y12, Y0, Y12
	VCVTPD2PSY Y12, X12
	VMOVUPS    X12, (DI)
	ADDQ       $16, DI
	NEXT4(geluLoop)

geluDone:
	VZEROUPPER
	RET

// func geluGradAVX2(x, g, dx []float32)
// dx[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])) for the first len(x)/4·4 elements.
// SI x, DX g, DI dx, CX groups of four left.
TEXT ·geluGradAVX2(SB), NOSPLIT, $0-72
	MOVQ g_base+24(FP), DX
	MOVQ dx_base+48(FP), DI
	XGROUPS(gradDone)

gradLoop:
	VCVTPS2PD   (SI), Y0
	NORMAL
	VMULPD      invsqrt2pi<>(SB), Y5, Y13
	VFMADD231PD Y13, Y0, Y12
	VCVTPS2PD   (DX), Y14
	VMULPD      Y14, Y12, Y12
	VCVTPD2PSY  Y12, X12
	VMOVUPS     X12, (DI)
	ADDQ        $16, DX
	ADDQ        $16, DI
	NEXT4(gradLoop)

gradDone:
	VZEROUPPER
	RET

// func expShiftAVX2(row []float32, hi float64, sums *[4]float64)
// row[i] = float32(e^(row[i] - hi)) for the first len(row)/4·4 elements;
// sums gets the four lanes' sums of the unrounded exponentials.
// SI row, CX groups of four left, Y14 hi, Y13 the lane sums.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-40
	MOVQ         row_base+0(FP), SI
	MOVQ         row_len+8(FP), CX
	MOVQ         sums+32(FP), DI
	VBROADCASTSD hi+24(FP), Y14
	VXORPD       Y13, Y13, Y13
	SHRQ         $2, CX
	JZ           expDone
	VMOVUPD      lo<>(SB), Y15

expLoop:
	VCVTPS2PD  (SI), Y1
	VSUBPD     Y14, Y1, Y1
	EXP
	VADDPD     Y5, Y13, Y13
	VCVTPD2PSY Y5, X5
	VMOVUPS    X5, (SI)
	NEXT4(expLoop)

expDone:
	VMOVUPD Y13, (DI)
	VZEROUPPER
	RET

// func addMaxAVX2(row, mask []float32) float32
// row[i] += mask[i] for the first len(row)/8·8 elements; returns their
// maximum (-Inf for none), ignoring NaNs as the scalar loop does.
// SI row, DX mask, CX groups of eight left, Y0 the lane maxima.
TEXT ·addMaxAVX2(SB), NOSPLIT, $0-52
	MOVQ         row_base+0(FP), SI
	MOVQ         row_len+8(FP), CX
	MOVQ         mask_base+24(FP), DX
	VBROADCASTSS neginf<>(SB), Y0
	SHRQ         $3, CX
	JZ           maxReduce

maxLoop:
	VMOVUPS (SI), Y1
	VADDPS  (DX), Y1, Y1
	VMOVUPS Y1, (SI)
	VMAXPS  Y0, Y1, Y0
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     maxLoop

maxReduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X0, X1, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X0, X1, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X0, X1, X0
	VMOVSS       X0, ret+48(FP)
	VZEROUPPER
	RET

// func scaleAVX2(row []float32, s float64)
// row[i] = float32(float64(row[i])·s) for the first len(row)/4·4 elements.
// SI row, CX groups of four left, Y1 s.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	MOVQ         row_base+0(FP), SI
	MOVQ         row_len+8(FP), CX
	VBROADCASTSD s+24(FP), Y1
	SHRQ         $2, CX
	JZ           scaleDone

scaleLoop:
	VCVTPS2PD  (SI), Y0
	VMULPD     Y1, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS    X0, (SI)
	NEXT4(scaleLoop)

scaleDone:
	VZEROUPPER
	RET

// F64X4 defines sym<> as four float64 lanes of the bits given.
#define F64X4(sym, bits) \
	DATA sym<>+0(SB)/8, $bits; \
	DATA sym<>+8(SB)/8, $bits; \
	DATA sym<>+16(SB)/8, $bits; \
	DATA sym<>+24(SB)/8, $bits; \
	GLOBL sym<>(SB), RODATA|NOPTR, $32

// -Inf as a float32
DATA neginf<>+0(SB)/4, $0xff800000
GLOBL neginf<>(SB), RODATA|NOPTR, $4

// below it exp flushes to 0
F64X4(lo, 0xc086200000000000)
// log2(e)
F64X4(log2e, 0x3ff71547652b82fe)
// adding it rounds to an integer in the low mantissa bits
F64X4(round, 0x4338000000000000)
// ln2, high part
F64X4(ln2hi, 0x3fe62e42fee00000)
// ln2, low part
F64X4(ln2lo, 0x3dea39ef35793c76)
// 1/8!
F64X4(c8, 0x3efa01a01a01a01a)
// 1/7!
F64X4(c7, 0x3f2a01a01a01a01a)
// 1/6!
F64X4(c6, 0x3f56c16c16c16c17)
// 1/5!
F64X4(c5, 0x3f81111111111111)
// 1/4!
F64X4(c4, 0x3fa5555555555555)
// 1/3!
F64X4(c3, 0x3fc5555555555555)
// 1/2
F64X4(half, 0x3fe0000000000000)
// 1
F64X4(one, 0x3ff0000000000000)
// -1/2
F64X4(neghalf, 0xbfe0000000000000)
// 1/√2
F64X4(invsqrt2, 0x3fe6a09e667f3bcd)
// A&S 7.1.26 p
F64X4(erfp, 0x3fd4f740a93d7b8c)
// A&S 7.1.26 a1
F64X4(a1, 0x3fd04f20c6ec5a7e)
// a2
F64X4(a2, 0xbfd23531cc3c1469)
// a3
F64X4(a3, 0x3ff6be1c55bae157)
// a4
F64X4(a4, 0xbff7401c57014c39)
// a5
F64X4(a5, 0x3ff0fb844255a12d)
// 1/√(2π)
F64X4(invsqrt2pi, 0x3fd9884533d43651)
// 0
F64X4(zero, 0x0000000000000000)
// the exponent bias, as four int64
F64X4(bias, 1023)
// clears the sign bit of a float64
F64X4(absmask, 0x7fffffffffffffff)
