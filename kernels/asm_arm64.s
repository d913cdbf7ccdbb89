//go:build !purego

#include "textflag.h"

// arm64 kernels, written by hand (avo generates amd64 only). The Go
// assembler lacks most Advanced SIMD floating-point and widening integer
// instructions, so they are emitted with WORD from the macros below; each
// encoding was checked against GNU as (binutils-aarch64-linux-gnu) and the
// kernels are tested bit for bit against the Go references under qemu.
// Arguments are vector register numbers: d destination, n and m sources.
#define ENC3(base, d, n, m) WORD $((base) | ((m)<<16) | ((n)<<5) | (d))
#define ENC2(base, d, n) WORD $((base) | ((n)<<5) | (d))

#define SDOT(d, n, m) ENC3(0x4E809400, d, n, m)     // SDOT Vd.4S, Vn.16B, Vm.16B (FEAT_DotProd)
// ZERO4 clears four vector registers.
#define ZERO4(a, b, c, d) \
	VEOR a.B16, a.B16, a.B16 \
	VEOR b.B16, b.B16, b.B16 \
	VEOR c.B16, c.B16, c.B16 \
	VEOR d.B16, d.B16, d.B16

// ROWS4 points R5-R7 at the 3 rows after R0's, R1 bytes apart.
#define ROWS4 \
	ADD R1, R0, R5 \
	ADD R1, R5, R6 \
	ADD R1, R6, R7

#define SMMLA(d, n, m) ENC3(0x4E80A400, d, n, m)    // SMMLA Vd.4S, Vn.16B, Vm.16B (FEAT_I8MM)
#define MLAE(d, n, m, i) WORD $(0x6F800000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d)) // MLA Vd.4S, Vn.4S, Vm.S[i] (m < 16)
#define SMULL(d, n, m) ENC3(0x0E20C000, d, n, m)    // SMULL Vd.8H, Vn.8B, Vm.8B
#define SMLAL2(d, n, m) ENC3(0x4E208000, d, n, m)   // SMLAL2 Vd.8H, Vn.16B, Vm.16B
#define SADALP(d, n) ENC2(0x4E606800, d, n)         // SADALP Vd.4S, Vn.8H
#define SADDLP(d, n) ENC2(0x4E202800, d, n)         // SADDLP Vd.8H, Vn.16B
#define FADD(d, n, m) ENC3(0x4E20D400, d, n, m)     // FADD Vd.4S, Vn.4S, Vm.4S
#define FSUB(d, n, m) ENC3(0x4EA0D400, d, n, m)     // FSUB Vd.4S, Vn.4S, Vm.4S
#define FMUL(d, n, m) ENC3(0x6E20DC00, d, n, m)     // FMUL Vd.4S, Vn.4S, Vm.4S
#define FDIV(d, n, m) ENC3(0x6E20FC00, d, n, m)     // FDIV Vd.4S, Vn.4S, Vm.4S
#define FMAX(d, n, m) ENC3(0x4E20F400, d, n, m)     // FMAX Vd.4S, Vn.4S, Vm.4S
#define FMIN(d, n, m) ENC3(0x4EA0F400, d, n, m)     // FMIN Vd.4S, Vn.4S, Vm.4S
#define FABS(d, n) ENC2(0x4EA0F800, d, n)           // FABS Vd.4S, Vn.4S
#define FNEG(d, n) ENC2(0x6EA0F800, d, n)           // FNEG Vd.4S, Vn.4S
#define FCVTNS(d, n) ENC2(0x4E21A800, d, n)         // FCVTNS Vd.4S, Vn.4S (to int32, nearest even, saturating)
#define FCVTZS(d, n) ENC2(0x4EA1B800, d, n)         // FCVTZS Vd.4S, Vn.4S
#define FRINTN(d, n) ENC2(0x4E218800, d, n)         // FRINTN Vd.4S, Vn.4S (round to nearest even)
#define SCVTF(d, n) ENC2(0x4E21D800, d, n)          // SCVTF Vd.4S, Vn.4S
#define FCVTL(d, n) ENC2(0x0E217800, d, n)          // FCVTL Vd.4S, Vn.4H (half to single, exact)
#define FCVTL2(d, n) ENC2(0x4E217800, d, n)         // FCVTL2 Vd.4S, Vn.8H
#define FCVTLD(d, n) ENC2(0x0E617800, d, n)         // FCVTL Vd.2D, Vn.2S
#define FCVTL2D(d, n) ENC2(0x4E617800, d, n)        // FCVTL2 Vd.2D, Vn.4S
#define FADDD(d, n, m) ENC3(0x4E60D400, d, n, m)    // FADD Vd.2D, Vn.2D, Vm.2D
#define FADDPD(d, n) ENC2(0x7E70D800, d, n)         // FADDP Dd, Vn.2D
#define FADDPS(d, n) ENC2(0x7E30D800, d, n)         // FADDP Sd, Vn.2S
#define FMAXV(d, n) ENC2(0x6E30F800, d, n)          // FMAXV Sd, Vn.4S
#define FCMGTZ(d, n) ENC2(0x4EA0C800, d, n)         // FCMGT Vd.4S, Vn.4S, #0.0
#define SQXTN4H(d, n) ENC2(0x0E614800, d, n)        // SQXTN Vd.4H, Vn.4S
#define SQXTN8H(d, n) ENC2(0x4E614800, d, n)        // SQXTN2 Vd.8H, Vn.4S
#define SQXTN8B(d, n) ENC2(0x0E214800, d, n)        // SQXTN Vd.8B, Vn.8H
#define SQXTN16B(d, n) ENC2(0x4E214800, d, n)       // SQXTN2 Vd.16B, Vn.8H
#define SXTL8H(d, n) ENC2(0x0F08A400, d, n)         // SXTL Vd.8H, Vn.8B
#define SXTL28H(d, n) ENC2(0x4F08A400, d, n)        // SXTL2 Vd.8H, Vn.16B
#define SXTL4S(d, n) ENC2(0x0F10A400, d, n)         // SXTL Vd.4S, Vn.4H
#define SXTL24S(d, n) ENC2(0x4F10A400, d, n)        // SXTL2 Vd.4S, Vn.8H
#define IADD(d, n, m) ENC3(0x4EA08400, d, n, m)     // ADD Vd.4S, Vn.4S, Vm.4S
#define SHL23(d, n) ENC2(0x4F375400, d, n)          // SHL Vd.4S, Vn.4S, #23

// I2_S: byte j of a 32-byte block holds the codes of k = j, j+32, j+64,
// j+96 in bits 7-6, 5-4, 3-2, 1-0. With the block's bytes in two registers
// (j < 16, j ≥ 16), code plane p (k in [32p, 32p+32)) is (raw >> (6-2p)) & 3,
// already in 16-byte order; mask holds 3 in every byte.
#define PLANE0(lo, hi, c0, c1, mask) \
	VUSHR $6, lo.B16, c0.B16 \
	VUSHR $6, hi.B16, c1.B16

#define PLANE1(lo, hi, c0, c1, mask) \
	VUSHR $4, lo.B16, c0.B16 \
	VUSHR $4, hi.B16, c1.B16 \
	VAND  mask.B16, c0.B16, c0.B16 \
	VAND  mask.B16, c1.B16, c1.B16

#define PLANE2(lo, hi, c0, c1, mask) \
	VUSHR $2, lo.B16, c0.B16 \
	VUSHR $2, hi.B16, c1.B16 \
	VAND  mask.B16, c0.B16, c0.B16 \
	VAND  mask.B16, c1.B16, c1.B16

#define PLANE3(lo, hi, c0, c1, mask) \
	VAND mask.B16, lo.B16, c0.B16 \
	VAND mask.B16, hi.B16, c1.B16

// DOTS(acc, c, a): acc.4S += the 4-byte dot products of c and a. With
// FEAT_DotProd one SDOT; without, 16-bit products (SMULL, SMLAL2: |c·a| ≤
// 256, two per lane) widened pairwise into acc (SADALP), with V30 as the
// scratch register; both give the exact sum of the 16 products, lane by
// lane in a different grouping, which the final horizontal add erases.
#define DOTS_DOT(acc, c, a) SDOT(acc, c, a)
#define DOTS_NEON(acc, c, a) \
	SMULL(30, c, a) \
	SMLAL2(30, c, a) \
	SADALP(acc, 30)

// I2S_ROW1(DOTS, ptr, e, o): one 32-byte block of the row at ptr against
// the token's 128 activations in V0-V7; planes 0 and 2 go to accumulator
// e, planes 1 and 3 to o (two chains halve the dependency latency).
#define I2S_ROW1(DOTS, ptr, e, o) \
	VLD1.P 32(ptr), [V24.B16, V25.B16] \
	PLANE0(V24, V25, V26, V27, V31) \
	DOTS(e, 26, 0) \
	DOTS(e, 27, 1) \
	PLANE1(V24, V25, V26, V27, V31) \
	DOTS(o, 26, 2) \
	DOTS(o, 27, 3) \
	PLANE2(V24, V25, V28, V29, V31) \
	DOTS(e, 28, 4) \
	DOTS(e, 29, 5) \
	PLANE3(V24, V25, V28, V29, V31) \
	DOTS(o, 28, 6) \
	DOTS(o, 29, 7)

#define I2S_4X1(DOTS) \
	MOVD w+0(FP), R0 \
	MOVD rb+8(FP), R1 \
	MOVD q+16(FP), R2 \
	MOVD nb+24(FP), R3 \
	MOVD acc+32(FP), R4 \
	ROWS4 \
	VMOVI $3, V31.B16 \
	ZERO4(V16, V17, V18, V19) \
	ZERO4(V20, V21, V22, V23) \
loop: \
	VLD1.P 64(R2), [V0.B16, V1.B16, V2.B16, V3.B16] \
	VLD1.P 64(R2), [V4.B16, V5.B16, V6.B16, V7.B16] \
	I2S_ROW1(DOTS, R0, 16, 17) \
	I2S_ROW1(DOTS, R5, 18, 19) \
	I2S_ROW1(DOTS, R6, 20, 21) \
	I2S_ROW1(DOTS, R7, 22, 23) \
	SUBS $1, R3, R3 \
	BNE  loop \
	VADD  V17.S4, V16.S4, V16.S4 \
	VADD  V19.S4, V18.S4, V18.S4 \
	VADD  V21.S4, V20.S4, V20.S4 \
	VADD  V23.S4, V22.S4, V22.S4 \
	VADDP V18.S4, V16.S4, V0.S4 \
	VADDP V22.S4, V20.S4, V1.S4 \
	VADDP V1.S4, V0.S4, V2.S4 \
	VST1  [V2.S4], (R4) \
	RET

// I2S_PLANE4(DOTS, PLANE): one code plane (32 k) of the block against 4
// tokens. The tokens' 32 activations of the plane are loaded into V0-V7
// (token t in V2t, V2t+1) from R10-R13; then for each row r (pointer
// R0, R5-R7, not advanced here) its block is loaded, the plane unpacked
// into V10, V11 and dotted into accumulator V16+4t+r.
#define I2S_PLANE4_ROW(DOTS, PLANE, ptr, r) \
	VLD1 (ptr), [V8.B16, V9.B16] \
	PLANE(V8, V9, V10, V11, V15) \
	DOTS(16+r, 10, 0) \
	DOTS(16+r, 11, 1) \
	DOTS(20+r, 10, 2) \
	DOTS(20+r, 11, 3) \
	DOTS(24+r, 10, 4) \
	DOTS(24+r, 11, 5) \
	DOTS(28+r, 10, 6) \
	DOTS(28+r, 11, 7)

#define I2S_PLANE4(DOTS, PLANE) \
	VLD1.P 32(R10), [V0.B16, V1.B16] \
	VLD1.P 32(R11), [V2.B16, V3.B16] \
	VLD1.P 32(R12), [V4.B16, V5.B16] \
	VLD1.P 32(R13), [V6.B16, V7.B16] \
	I2S_PLANE4_ROW(DOTS, PLANE, R0, 0) \
	I2S_PLANE4_ROW(DOTS, PLANE, R5, 1) \
	I2S_PLANE4_ROW(DOTS, PLANE, R6, 2) \
	I2S_PLANE4_ROW(DOTS, PLANE, R7, 3)

// I2S_STORE4(t): the 4 row sums of token t (accumulators V16+4t .. +3) to
// acc[4t .. 4t+3].
#define I2S_STORE4(a0, a1, a2, a3) \
	VADDP a1.S4, a0.S4, V0.S4 \
	VADDP a3.S4, a2.S4, V1.S4 \
	VADDP V1.S4, V0.S4, V2.S4 \
	VST1.P [V2.S4], 16(R4)

#define I2S_4X4(DOTS) \
	MOVD w+0(FP), R0 \
	MOVD rb+8(FP), R1 \
	MOVD q+16(FP), R10 \
	MOVD qs+24(FP), R2 \
	MOVD nb+32(FP), R3 \
	MOVD acc+40(FP), R4 \
	ROWS4 \
	ADD  R2, R10, R11 \
	ADD  R2, R11, R12 \
	ADD  R2, R12, R13 \
	VMOVI $3, V15.B16 \
	ZERO4(V16, V17, V18, V19) \
	ZERO4(V20, V21, V22, V23) \
	ZERO4(V24, V25, V26, V27) \
	ZERO4(V28, V29, V30, V31) \
loop: \
	I2S_PLANE4(DOTS, PLANE0) \
	I2S_PLANE4(DOTS, PLANE1) \
	I2S_PLANE4(DOTS, PLANE2) \
	I2S_PLANE4(DOTS, PLANE3) \
	ADD  $32, R0, R0 \
	ADD  $32, R5, R5 \
	ADD  $32, R6, R6 \
	ADD  $32, R7, R7 \
	SUBS $1, R3, R3 \
	BNE  loop \
	I2S_STORE4(V16, V17, V18, V19) \
	I2S_STORE4(V20, V21, V22, V23) \
	I2S_STORE4(V24, V25, V26, V27) \
	I2S_STORE4(V28, V29, V30, V31) \
	RET

// Without SDOT the 4-token kernel needs a scratch register besides the
// 16 accumulators: V12.
#define DOTS_NEON12(acc, c, a) \
	SMULL(12, c, a) \
	SMLAL2(12, c, a) \
	SADALP(acc, 12)

// Dense rows: 32 lanes in V16-V23 (lane j in V(16+j/4), element j%4);
// weights widened into V4-V7 (and V0-V3 or more for 32), x in V8-V15.
// DENSE_REDUCE is dotReduce: lane i plus lane i+16, then +8, +4, +2, +1;
// the sum lands in F16.
#define DENSE_REDUCE \
	FADD(16, 16, 20) \
	FADD(17, 17, 21) \
	FADD(18, 18, 22) \
	FADD(19, 19, 23) \
	FADD(16, 16, 18) \
	FADD(17, 17, 19) \
	FADD(16, 16, 17) \
	VEXT $8, V16.B16, V16.B16, V17.B16 \
	FADD(16, 16, 17) \
	FADDPS(16, 16)

#define DENSE_ZERO \
	ZERO4(V16, V17, V18, V19) \
	ZERO4(V20, V21, V22, V23)

// DENSE_FMA8: the 32 lanes += the 32 weights in wa-wh times the next 32
// values of x (loaded into V8-V15 from R7).
#define DENSE_FMA8(wa, wb, wc, wd, we, wf, wg, wh) \
	VLD1.P 64(R7), [V8.S4, V9.S4, V10.S4, V11.S4] \
	VLD1.P 64(R7), [V12.S4, V13.S4, V14.S4, V15.S4] \
	VFMLA V8.S4, wa.S4, V16.S4 \
	VFMLA V9.S4, wb.S4, V17.S4 \
	VFMLA V10.S4, wc.S4, V18.S4 \
	VFMLA V11.S4, wd.S4, V19.S4 \
	VFMLA V12.S4, we.S4, V20.S4 \
	VFMLA V13.S4, wf.S4, V21.S4 \
	VFMLA V14.S4, wg.S4, V22.S4 \
	VFMLA V15.S4, wh.S4, V23.S4

// DENSE_ROWS(LOADW): for each row, ng groups of 32: LOADW leaves the 32
// widened weights in V0-V7 (advancing R6), then the fused multiply-adds.
#define DENSE_ROWS(LOADW) \
	MOVD w+0(FP), R0 \
	MOVD rb+8(FP), R1 \
	MOVD x+16(FP), R2 \
	MOVD ng+24(FP), R3 \
	MOVD rows+32(FP), R4 \
	MOVD out+40(FP), R5 \
	VEOR V30.B16, V30.B16, V30.B16 \
rows: \
	MOVD R0, R6 \
	MOVD R2, R7 \
	MOVD R3, R8 \
	DENSE_ZERO \
groups: \
	LOADW \
	DENSE_FMA8(V0, V1, V2, V3, V4, V5, V6, V7) \
	SUBS $1, R8, R8 \
	BNE  groups \
	DENSE_REDUCE \
	FMOVS.P F16, 4(R5) \
	ADD  R1, R0, R0 \
	SUBS $1, R4, R4 \
	BNE  rows \
	RET

#define LOADW_F16 \
	VLD1.P 64(R6), [V24.H8, V25.H8, V26.H8, V27.H8] \
	FCVTL(0, 24) \
	FCVTL2(1, 24) \
	FCVTL(2, 25) \
	FCVTL2(3, 25) \
	FCVTL(4, 26) \
	FCVTL2(5, 26) \
	FCVTL(6, 27) \
	FCVTL2(7, 27)

#define LOADW_F32 \
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4] \
	VLD1.P 64(R6), [V4.S4, V5.S4, V6.S4, V7.S4]

// bfloat16 to float32 is the half in the top 16 bits: interleave zeros
// (V30) below each half.
#define LOADW_BF16 \
	VLD1.P 64(R6), [V24.H8, V25.H8, V26.H8, V27.H8] \
	VZIP1 V24.H8, V30.H8, V0.H8 \
	VZIP2 V24.H8, V30.H8, V1.H8 \
	VZIP1 V25.H8, V30.H8, V2.H8 \
	VZIP2 V25.H8, V30.H8, V3.H8 \
	VZIP1 V26.H8, V30.H8, V4.H8 \
	VZIP2 V26.H8, V30.H8, V5.H8 \
	VZIP1 V27.H8, V30.H8, V6.H8 \
	VZIP2 V27.H8, V30.H8, V7.H8

// Q8_0: a block is an F16 scale d and 32 int8; each weight is
// float32(d·float32(q)), a rounded product as in denseGroup.
#define LOADW_Q80 \
	MOVHU.P 2(R6), R9 \
	FMOVS R9, F24 \
	FCVTHS F24, F24 \
	VDUP V24.S[0], V29.S4 \
	VLD1.P 32(R6), [V25.B16, V26.B16] \
	SXTL8H(27, 25) \
	SXTL28H(28, 25) \
	SXTL4S(0, 27) \
	SXTL24S(1, 27) \
	SXTL4S(2, 28) \
	SXTL24S(3, 28) \
	SXTL8H(27, 26) \
	SXTL28H(28, 26) \
	SXTL4S(4, 27) \
	SXTL24S(5, 27) \
	SXTL4S(6, 28) \
	SXTL24S(7, 28) \
	SCVTF(0, 0) \
	SCVTF(1, 1) \
	SCVTF(2, 2) \
	SCVTF(3, 3) \
	SCVTF(4, 4) \
	SCVTF(5, 5) \
	SCVTF(6, 6) \
	SCVTF(7, 7) \
	FMUL(0, 0, 29) \
	FMUL(1, 1, 29) \
	FMUL(2, 2, 29) \
	FMUL(3, 3, 29) \
	FMUL(4, 4, 29) \
	FMUL(5, 5, 29) \
	FMUL(6, 6, 29) \
	FMUL(7, 7, 29)

// EXP_CONSTS loads expf32's constants: V20 -87, V21 88, V22 log2e, V23
// ln2hi, V24 ln2lo, V25 1/720, V26 1/120, V27 1/24, V28 1/6, V29 1/2,
// V30 1, V31 127 (int32).
#define DUPW(bits, v) \
	MOVW $bits, R9 \
	VDUP R9, v.S4

#define EXP_CONSTS \
	DUPW(0xC2AE0000, V20) \
	DUPW(0x42B00000, V21) \
	DUPW(0x3FB8AA3B, V22) \
	DUPW(0x3F317200, V23) \
	DUPW(0x35BFBE8E, V24) \
	DUPW(0x3AB60B61, V25) \
	DUPW(0x3C088889, V26) \
	DUPW(0x3D2AAAAB, V27) \
	DUPW(0x3E2AAAAB, V28) \
	DUPW(0x3F000000, V29) \
	DUPW(0x3F800000, V30) \
	DUPW(127, V31)

// EXP(x, n, p): V(p) = expf32(V(x)), clobbering x and n: clamp, n =
// round_half_even(x·log2e), r = (x − float32(n·ln2hi)) − float32(n·ln2lo),
// Horner's rule with each product and sum rounded, times 2ⁿ built from
// n's bits. Every step is a separately rounded float32 operation, as in
// expf32.
#define EXP(x, n, p, t) \
	FMAX(x, x, 20) \
	FMIN(x, x, 21) \
	FMUL(n, x, 22) \
	FRINTN(n, n) \
	FMUL(t, n, 23) \
	FSUB(x, x, t) \
	FMUL(t, n, 24) \
	FSUB(x, x, t) \
	FMUL(p, 25, x) \
	FADD(p, p, 26) \
	FMUL(p, p, x) \
	FADD(p, p, 27) \
	FMUL(p, p, x) \
	FADD(p, p, 28) \
	FMUL(p, p, x) \
	FADD(p, p, 29) \
	FMUL(p, p, x) \
	FADD(p, p, 30) \
	FMUL(p, p, x) \
	FADD(p, p, 30) \
	FCVTZS(n, n) \
	IADD(n, n, 31) \
	SHL23(n, n) \
	FMUL(p, p, n)

// ROTATE: (a, b) = (float32(a·cos) − float32(b·sin), float32(a·sin) +
// float32(b·cos)) with a in V0, b in V1, sin V2, cos V3.
#define ROTATE \
	FMUL(4, 0, 3) \
	FMUL(5, 1, 2) \
	FMUL(6, 0, 2) \
	FMUL(7, 1, 3) \
	FSUB(0, 4, 5) \
	FADD(1, 6, 7)

// The SMMLA kernel: 4 rows × 8 tokens. SMMLA multiplies a 2×8 block of
// int8 (two rows' codes at 8 positions, Vn) by the transpose of another
// (two tokens' activations at the same positions, Vm) into a 2×2 tile of
// int32 sums (lanes r0t0, r0t1, r1t0, r1t1). The activations come
// interleaved in pairs (interleavePairs); the codes of a row pair are
// interleaved here with ZIP1/ZIP2 on 64-bit halves. Accumulator
// V(24 + 4·rp + jp) is row pair rp with token pair jp; zipped codes
// V(16 + 4·rp + c) are row pair rp at the plane's positions [8c, 8c+8).
#define MMLA_ROWPAIR(PLANE, ra, rb, z0, z1, z2, z3) \
	VLD1 (ra), [V4.B16, V5.B16] \
	PLANE(V4, V5, V6, V7, V10) \
	VLD1 (rb), [V4.B16, V5.B16] \
	PLANE(V4, V5, V8, V9, V10) \
	VZIP1 V8.D2, V6.D2, z0.D2 \
	VZIP2 V8.D2, V6.D2, z1.D2 \
	VZIP1 V9.D2, V7.D2, z2.D2 \
	VZIP2 V9.D2, V7.D2, z3.D2

#define MMLA_TOKENPAIR(ptr, jp) \
	VLD1.P 64(ptr), [V0.B16, V1.B16, V2.B16, V3.B16] \
	SMMLA(24+jp, 16, 0) \
	SMMLA(24+jp, 17, 1) \
	SMMLA(24+jp, 18, 2) \
	SMMLA(24+jp, 19, 3) \
	SMMLA(28+jp, 20, 0) \
	SMMLA(28+jp, 21, 1) \
	SMMLA(28+jp, 22, 2) \
	SMMLA(28+jp, 23, 3)

#define MMLA_PLANE(PLANE) \
	MMLA_ROWPAIR(PLANE, R0, R5, V16, V17, V18, V19) \
	MMLA_ROWPAIR(PLANE, R6, R7, V20, V21, V22, V23) \
	MMLA_TOKENPAIR(R10, 0) \
	MMLA_TOKENPAIR(R11, 1) \
	MMLA_TOKENPAIR(R12, 2) \
	MMLA_TOKENPAIR(R13, 3)

// Q6_K: per super-block of 256 weights, halves h of 128: ql (64 bytes at
// 64h) in V0-V3 (A = bytes 0-31, B = 32-63), qh (32 bytes at 128+32h) in
// V4, V5. Quarter r of the half takes the low nibbles of A (r=0) or B
// (r=1), or the high ones (r=2, 3), and bits 2r+1..2r of qh as bits 5-4;
// minus 32 that is the signed code. Each 16 codes × 16 activations is one
// sub-block: its dot product (DOTS into the zeroed V14) times the
// sub-block's scale (int32 lanes of V6-V9) accumulates into V13 (MLA by
// element): the exact integer sum of q6KDotGeneric, in another order.
// V10 holds 0x0F, V11 0x30, V12 32 in every byte.
#define Q6_LOW_AND(src, dst) VAND V10.B16, src.B16, dst.B16
#define Q6_LOW_SHR(src, dst) VUSHR $4, src.B16, dst.B16
#define Q6_HB_SHL4(h, dst) \
	VSHL $4, h.B16, dst.B16 \
	VAND V11.B16, dst.B16, dst.B16
#define Q6_HB_SHL2(h, dst) \
	VSHL $2, h.B16, dst.B16 \
	VAND V11.B16, dst.B16, dst.B16
#define Q6_HB_AND(h, dst) VAND V11.B16, h.B16, dst.B16
#define Q6_HB_SHR2(h, dst) \
	VUSHR $2, h.B16, dst.B16 \
	VAND  V11.B16, dst.B16, dst.B16

#define Q6_SUB(DOTS, LOW, HB, ql, qh, act, sreg, si) \
	LOW(ql, V15) \
	HB(qh, V16) \
	VORR V16.B16, V15.B16, V15.B16 \
	VSUB V12.B16, V15.B16, V15.B16 \
	VEOR V14.B16, V14.B16, V14.B16 \
	DOTS(14, 15, act) \
	MLAE(13, 14, sreg, si)

// Q6_QUARTER: quarter r (LOW/HB select it; la, lb: its ql registers for
// positions 0-15 and 16-31) of half h: scales 8h+2r and 8h+2r+1.
#define Q6_QUARTER(DOTS, LOW, HB, la, lb, sreg, si) \
	VLD1.P 32(R8), [V17.B16, V18.B16] \
	Q6_SUB(DOTS, LOW, HB, la, V4, 17, sreg, si) \
	Q6_SUB(DOTS, LOW, HB, lb, V5, 18, sreg, si+1)

#define Q6_HALF(DOTS, off, sa, sb) \
	ADD  $off, R7, R12 \
	VLD1 (R12), [V0.B16, V1.B16, V2.B16, V3.B16] \
	ADD  $(128+off/2), R7, R12 \
	VLD1 (R12), [V4.B16, V5.B16] \
	Q6_QUARTER(DOTS, Q6_LOW_AND, Q6_HB_SHL4, V0, V1, sa, 0) \
	Q6_QUARTER(DOTS, Q6_LOW_AND, Q6_HB_SHL2, V2, V3, sa, 2) \
	Q6_QUARTER(DOTS, Q6_LOW_SHR, Q6_HB_AND, V0, V1, sb, 0) \
	Q6_QUARTER(DOTS, Q6_LOW_SHR, Q6_HB_SHR2, V2, V3, sb, 2)

// Q6K_ROWS(DOTS): every row against one token; per super-block the
// integer sum, then acc += float32(float32(f16(d)·d_a)·float32(isum)) in
// scalar float32, super-blocks in order, as q6KDotGeneric.
#define Q6K_ROWS(DOTS) \
	MOVD w+0(FP), R0 \
	MOVD rb+8(FP), R1 \
	MOVD q+16(FP), R2 \
	MOVD d+24(FP), R3 \
	MOVD nsb+32(FP), R4 \
	MOVD rows+40(FP), R5 \
	MOVD out+48(FP), R6 \
	VMOVI $15, V10.B16 \
	VMOVI $48, V11.B16 \
	VMOVI $32, V12.B16 \
rows: \
	MOVD R0, R7 \
	MOVD R2, R8 \
	MOVD R3, R9 \
	MOVD R4, R11 \
	VEOR V20.B16, V20.B16, V20.B16 \
blocks: \
	VEOR V13.B16, V13.B16, V13.B16 \
	ADD  $192, R7, R12 \
	VLD1 (R12), [V6.B16] \
	SXTL8H(14, 6) \
	SXTL28H(15, 6) \
	SXTL4S(6, 14) \
	SXTL24S(7, 14) \
	SXTL4S(8, 15) \
	SXTL24S(9, 15) \
	Q6_HALF(DOTS, 0, 6, 7) \
	Q6_HALF(DOTS, 64, 8, 9) \
	VADDV V13.S4, V13 \
	FMOVS F13, R12 \
	SCVTFWS R12, F21 \
	MOVHU 208(R7), R12 \
	FMOVS R12, F22 \
	FCVTHS F22, F22 \
	FMOVS.P 4(R9), F23 \
	FMULS F23, F22, F22 \
	FMULS F22, F21, F21 \
	FADDS F21, F20, F20 \
	ADD  $210, R7, R7 \
	SUBS $1, R11, R11 \
	BNE  blocks \
	FMOVS.P F20, 4(R6) \
	ADD  R1, R0, R0 \
	SUBS $1, R5, R5 \
	BNE  rows \
	RET

// WIDEN(LOADW): ng groups of 32 weights at w, widened by LOADW as the
// dense kernels do, stored as float32 at dst.
#define WIDEN(LOADW) \
	MOVD dst+0(FP), R5 \
	MOVD w+8(FP), R6 \
	MOVD ng+16(FP), R8 \
	VEOR V30.B16, V30.B16, V30.B16 \
loop: \
	LOADW \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R5) \
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R5) \
	SUBS $1, R8, R8 \
	BNE  loop \
	RET

// func absMaxNEON(x *float32, n int) float32
TEXT ·absMaxNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	ZERO4(V0, V1, V2, V3)

absmax_loop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FABS(4, 4)
	FABS(5, 5)
	FABS(6, 6)
	FABS(7, 7)
	FMAX(0, 0, 4)
	FMAX(1, 1, 5)
	FMAX(2, 2, 6)
	FMAX(3, 3, 7)
	SUBS $16, R1, R1
	BNE  absmax_loop
	FMAX(0, 0, 1)
	FMAX(2, 2, 3)
	FMAX(0, 0, 2)
	FMAXV(0, 0)
	FMOVS F0, ret+16(FP)
	RET

// func quantRowNEON(q *int8, x *float32, n int, s float32)
TEXT ·quantRowNEON(SB), NOSPLIT, $0-28
	MOVD  q+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  n+16(FP), R2
	FMOVS s+24(FP), F16
	VDUP  V16.S[0], V17.S4

quant_loop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMUL(0, 0, 17)
	FMUL(1, 1, 17)
	FMUL(2, 2, 17)
	FMUL(3, 3, 17)
	FCVTNS(0, 0)
	FCVTNS(1, 1)
	FCVTNS(2, 2)
	FCVTNS(3, 3)
	SQXTN4H(4, 0)
	SQXTN8H(4, 1)
	SQXTN4H(5, 2)
	SQXTN8H(5, 3)
	SQXTN8B(6, 4)
	SQXTN16B(6, 5)
	VST1.P [V6.B16], 16(R0)
	SUBS   $16, R2, R2
	BNE    quant_loop
	RET

// func sumInt8NEON(q *int8, n int) int32
TEXT ·sumInt8NEON(SB), NOSPLIT, $0-20
	MOVD q+0(FP), R0
	MOVD n+8(FP), R1
	VEOR V0.B16, V0.B16, V0.B16

sum8_loop:
	VLD1.P 16(R0), [V1.B16]
	SADDLP(2, 1)
	SADALP(0, 2)
	SUBS $16, R1, R1
	BNE  sum8_loop
	VADDV V0.S4, V0
	FMOVS F0, R2
	MOVW  R2, ret+16(FP)
	RET

// func i2sDot4x1DOT(w *byte, rb int, q *int8, nb int, acc *[4]int32)
TEXT ·i2sDot4x1DOT(SB), NOSPLIT, $0-40
	I2S_4X1(DOTS_DOT)

// func i2sDot4x1NEON(w *byte, rb int, q *int8, nb int, acc *[4]int32)
TEXT ·i2sDot4x1NEON(SB), NOSPLIT, $0-40
	I2S_4X1(DOTS_NEON)

// func i2sDot4x4DOT(w *byte, rb int, q *int8, qs int, nb int, acc *[16]int32)
TEXT ·i2sDot4x4DOT(SB), NOSPLIT, $0-48
	I2S_4X4(DOTS_DOT)

// func i2sDot4x4NEON(w *byte, rb int, q *int8, qs int, nb int, acc *[16]int32)
TEXT ·i2sDot4x4NEON(SB), NOSPLIT, $0-48
	I2S_4X4(DOTS_NEON12)

// func denseF16NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)
TEXT ·denseF16NEON(SB), NOSPLIT, $0-48
	DENSE_ROWS(LOADW_F16)

// func denseF32NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)
TEXT ·denseF32NEON(SB), NOSPLIT, $0-48
	DENSE_ROWS(LOADW_F32)

// func denseBF16NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)
TEXT ·denseBF16NEON(SB), NOSPLIT, $0-48
	DENSE_ROWS(LOADW_BF16)

// func denseQ80NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)
TEXT ·denseQ80NEON(SB), NOSPLIT, $0-48
	DENSE_ROWS(LOADW_Q80)

// func weightedSumNEON(o *float32, v *float32, stride int, w *float32, n int, hd int)
TEXT ·weightedSumNEON(SB), NOSPLIT, $0-48
	MOVD o+0(FP), R0
	MOVD v+8(FP), R1
	MOVD stride+16(FP), R2
	MOVD w+24(FP), R3
	MOVD n+32(FP), R4
	MOVD hd+40(FP), R5

ws_cols:
	ZERO4(V0, V1, V2, V3)
	MOVD R1, R6
	MOVD R3, R7
	MOVD R4, R8

ws_pos:
	VLD1R.P 4(R7), [V4.S4]
	VLD1    (R6), [V8.S4, V9.S4, V10.S4, V11.S4]
	ADD     R2, R6, R6
	VFMLA   V8.S4, V4.S4, V0.S4
	VFMLA   V9.S4, V4.S4, V1.S4
	VFMLA   V10.S4, V4.S4, V2.S4
	VFMLA   V11.S4, V4.S4, V3.S4
	SUBS    $1, R8, R8
	BNE     ws_pos
	VST1.P  [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	ADD     $64, R1, R1
	SUBS    $16, R5, R5
	BNE     ws_cols
	RET

// func addNEON(dst *float32, x *float32, n int)
TEXT ·addNEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R2

add_loop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	FADD(0, 0, 1)
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R2, R2
	BNE    add_loop
	RET

// func scaleMulNEON(dst *float32, x *float32, w *float32, s float32, n int)
TEXT ·scaleMulNEON(SB), NOSPLIT, $0-40
	MOVD  dst+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  w+16(FP), R2
	FMOVS s+24(FP), F16
	MOVD  n+32(FP), R3
	VDUP  V16.S[0], V17.S4

scalemul_loop:
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V1.S4]
	FMUL(0, 0, 17)
	FMUL(0, 0, 1)
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3, R3
	BNE    scalemul_loop
	RET

// func relu2MulNEON(dst *float32, gate *float32, up *float32, n int)
TEXT ·relu2MulNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD gate+8(FP), R1
	MOVD up+16(FP), R2
	MOVD n+24(FP), R3

relu2_loop:
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V1.S4]
	FCMGTZ(2, 0)
	VAND   V2.B16, V0.B16, V0.B16
	FMUL(0, 0, 0)
	FMUL(0, 0, 1)
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3, R3
	BNE    relu2_loop
	RET

// func siluMulNEON(dst *float32, gate *float32, up *float32, n int)
TEXT ·siluMulNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD gate+8(FP), R1
	MOVD up+16(FP), R2
	MOVD n+24(FP), R3
	EXP_CONSTS

silu_loop:
	VLD1.P 16(R1), [V0.S4]
	FNEG(1, 0)
	EXP(1, 2, 3, 4)
	FADD(3, 3, 30)
	FDIV(0, 0, 3)
	VLD1.P 16(R2), [V5.S4]
	FMUL(0, 0, 5)
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3, R3
	BNE    silu_loop
	RET

// func expSubNEON(x *float32, m float32, n int)
TEXT ·expSubNEON(SB), NOSPLIT, $0-24
	MOVD  x+0(FP), R0
	FMOVS m+8(FP), F16
	MOVD  n+16(FP), R3
	VDUP  V16.S[0], V17.S4
	EXP_CONSTS

expsub_loop:
	VLD1 (R0), [V0.S4]
	FSUB(0, 0, 17)
	EXP(0, 2, 3, 4)
	VST1.P [V3.S4], 16(R0)
	SUBS   $4, R3, R3
	BNE    expsub_loop
	RET

// func sumSquaresNEON(x *float32, n int) float64
TEXT ·sumSquaresNEON(SB), NOSPLIT, $0-24
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	ZERO4(V4, V5, V6, V7)

sumsq_loop:
	VLD1.P 32(R0), [V0.S4, V1.S4]
	FMUL(0, 0, 0)
	FMUL(1, 1, 1)
	FCVTLD(2, 0)
	FCVTL2D(3, 0)
	FADDD(4, 4, 2)
	FADDD(5, 5, 3)
	FCVTLD(2, 1)
	FCVTL2D(3, 1)
	FADDD(6, 6, 2)
	FADDD(7, 7, 3)
	SUBS $8, R1, R1
	BNE  sumsq_loop
	FADDD(4, 4, 5)
	FADDD(6, 6, 7)
	FADDD(4, 4, 6)
	FADDPD(4, 4)
	FMOVD F4, ret+16(FP)
	RET

// func ropePairsNEON(x *float32, sin *float32, cos *float32, pairs int)
TEXT ·ropePairsNEON(SB), NOSPLIT, $0-32
	MOVD x+0(FP), R0
	MOVD sin+8(FP), R1
	MOVD cos+16(FP), R2
	MOVD pairs+24(FP), R3

rope_pairs:
	VLD2   (R0), [V0.S4, V1.S4]
	VLD1.P 16(R1), [V2.S4]
	VLD1.P 16(R2), [V3.S4]
	ROTATE
	VST2.P [V0.S4, V1.S4], 32(R0)
	SUBS   $4, R3, R3
	BNE    rope_pairs
	RET

// func ropeHalvesNEON(x *float32, sin *float32, cos *float32, half int)
TEXT ·ropeHalvesNEON(SB), NOSPLIT, $0-32
	MOVD x+0(FP), R0
	MOVD sin+8(FP), R1
	MOVD cos+16(FP), R2
	MOVD half+24(FP), R3
	ADD  R3<<2, R0, R4

rope_halves:
	VLD1   (R0), [V0.S4]
	VLD1   (R4), [V1.S4]
	VLD1.P 16(R1), [V2.S4]
	VLD1.P 16(R2), [V3.S4]
	ROTATE
	VST1.P [V0.S4], 16(R0)
	VST1.P [V1.S4], 16(R4)
	SUBS   $4, R3, R3
	BNE    rope_halves
	RET

// func prefetchL2NEON(p *byte, lines int)
TEXT ·prefetchL2NEON(SB), NOSPLIT, $0-16
	MOVD p+0(FP), R0
	MOVD lines+8(FP), R1

prefetch_loop:
	PRFM (R0), PLDL2KEEP
	ADD  $64, R0, R0
	SUBS $1, R1, R1
	BNE  prefetch_loop
	RET

// func i2sDot4x8MMLA(w *byte, rb int, p *int8, ps int, nb int, acc *[32]int32)
TEXT ·i2sDot4x8MMLA(SB), NOSPLIT, $0-48
	MOVD  w+0(FP), R0
	MOVD  rb+8(FP), R1
	MOVD  p+16(FP), R10
	MOVD  ps+24(FP), R2
	MOVD  nb+32(FP), R3
	MOVD  acc+40(FP), R4
	ROWS4
	ADD   R2, R10, R11
	ADD   R2, R11, R12
	ADD   R2, R12, R13
	VMOVI $3, V10.B16
	ZERO4(V24, V25, V26, V27)
	ZERO4(V28, V29, V30, V31)

mmla_loop:
	MMLA_PLANE(PLANE0)
	MMLA_PLANE(PLANE1)
	MMLA_PLANE(PLANE2)
	MMLA_PLANE(PLANE3)
	ADD  $32, R0, R0
	ADD  $32, R5, R5
	ADD  $32, R6, R6
	ADD  $32, R7, R7
	SUBS $1, R3, R3
	BNE  mmla_loop
	VST1.P [V24.S4, V25.S4, V26.S4, V27.S4], 64(R4)
	VST1   [V28.S4, V29.S4, V30.S4, V31.S4], (R4)
	RET

// func q6KRowsDOT(w *byte, rb int, q *int8, d *float32, nsb int, rows int, out *float32)
TEXT ·q6KRowsDOT(SB), NOSPLIT, $0-56
	Q6K_ROWS(DOTS_DOT)

// func q6KRowsNEON(w *byte, rb int, q *int8, d *float32, nsb int, rows int, out *float32)
TEXT ·q6KRowsNEON(SB), NOSPLIT, $0-56
	Q6K_ROWS(DOTS_NEON)

// func widenF16NEON(dst *float32, w *byte, ng int)
TEXT ·widenF16NEON(SB), NOSPLIT, $0-24
	WIDEN(LOADW_F16)

// func widenBF16NEON(dst *float32, w *byte, ng int)
TEXT ·widenBF16NEON(SB), NOSPLIT, $0-24
	WIDEN(LOADW_BF16)

// func widenQ80NEON(dst *float32, w *byte, ng int)
TEXT ·widenQ80NEON(SB), NOSPLIT, $0-24
	WIDEN(LOADW_Q80)
