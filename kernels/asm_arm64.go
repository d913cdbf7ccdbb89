//go:build !purego

package kernels

// Stubs of asm_arm64.s. Each kernel's doc comment is the Go it computes
// (its reference) and its steady-state instruction count. Speed on arm64
// is derived from those counts, never measured here (qemu proves results,
// not time), assuming a core that issues 4 vector instructions a cycle
// (Apple M1–M4 P-cores and Neoverse V1/V2 have four 128-bit SIMD pipes;
// loads count as instructions, which is conservative) at 3 GHz: 12·10⁹
// instructions a second. Against memory: Apple M2 ≈ 100 GB/s for 4
// P-cores, Graviton3 ≈ 300 GB/s for 64 cores (../shared/ARM64.md). Slices
// are passed as pointers with the lengths the dispatch functions checked.

// absMaxNEON returns max|x[i]| over n floats, n a positive multiple of 16
// (absMaxGeneric; a NaN may propagate). 1.5 instructions per float.
//
//go:noescape
func absMaxNEON(x *float32, n int) float32

// quantRowNEON sets q[i] = clamp(round_half_even(float32(x[i]*s)), -128,
// 127) for n floats, n a positive multiple of 16 (quantizeRowGeneric):
// FMUL, FCVTNS (round to nearest even, saturating), two saturating
// narrows. 1.25 instructions per float.
//
//go:noescape
func quantRowNEON(q *int8, x *float32, n int, s float32)

// sumInt8NEON returns Σq[i] over n bytes, n a positive multiple of 16
// (sumInt8Generic): pairwise widening adds, exact.
//
//go:noescape
func sumInt8NEON(q *int8, n int) int32

// i2sDot4x1DOT sets acc[r] = Σ_k c[r,k]·q[k] for the 4 I2_S rows at w,
// w+rb, w+2rb, w+3rb (whole 128-code blocks, nb of them) and one token q
// (i2sRowsGeneric's integer sum; codes c are 0..2). Per 128 weights of a
// row: one 32-byte load, 12 shift/mask instructions that unpack the four
// code planes of FEAT_DotProd operands, 8 SDOT, plus a quarter of the
// token's two 64-byte loads and the loop: 22 instructions per 32 bytes,
// so one core consumes 12e9/22·32 = 17.5 GB/s: 4 M2 P-cores 70 GB/s of
// its 100 (more at its 3.5 GHz, and the E-cores add), and Graviton3's
// 300 GB/s needs 18 of its 64 cores (20 at its 2.6 GHz). Decoding stays
// memory-bound.
//
//go:noescape
func i2sDot4x1DOT(w *byte, rb int, q *int8, nb int, acc *[4]int32)

// i2sDot4x1NEON is i2sDot4x1DOT for ARMv8.0 cores without SDOT: each SDOT
// becomes SMULL, SMLAL2 and SADALP (16-bit products, exact: |c·q| ≤ 256,
// two per 16-bit lane before the widening add). 38 instructions per 128
// weights (32 bytes) of a row: 10 GB/s a core at 3 GHz, 4.5 GB/s at a
// Raspberry Pi 4's 1.8 GHz with two SIMD pipes, about its whole memory
// bandwidth with one of its four cores.
//
//go:noescape
func i2sDot4x1NEON(w *byte, rb int, q *int8, nb int, acc *[4]int32)

// i2sDot4x4DOT is i2sDot4x1DOT for 4 tokens qs bytes apart: acc[4t+r] is
// row r with token t. The 16 sums stay in registers; each row's 32 bytes
// are unpacked once per code plane for all 4 tokens. Per 128 weights of a
// row and token: 8 SDOT, 1 of unpacking and ¼ of the weight load, ½ of
// the activation loads: about 10 instructions, 150·10⁹ weight·token
// products a second a core at 3 GHz (prompts are compute-bound).
//
//go:noescape
func i2sDot4x4DOT(w *byte, rb int, q *int8, qs int, nb int, acc *[16]int32)

// i2sDot4x4NEON is i2sDot4x4DOT without SDOT (see i2sDot4x1NEON): about 26
// instructions per 128 weights of a row and token.
//
//go:noescape
func i2sDot4x4NEON(w *byte, rb int, q *int8, qs int, nb int, acc *[16]int32)

// denseF16NEON sets out[i] to the dot product of x (ng groups of 32
// floats) with the F16 row at w+i*rb, for rows rows (denseRowsGeneric for
// one token): 32 lanes in eight registers, FCVTL widening (exact), FMLA
// (fused, as fma32), then dotReduce's tree. Per 32 weights: one 64-byte
// weight load, two 64-byte loads of x (L1), 8 FCVTL, 8 FMLA: 19
// instructions per 64 bytes, 40 GB/s a core at 3 GHz: the 656 MB F16 head
// of 2B-4T is memory-bound on M2 and Graviton3 alike.
//
//go:noescape
func denseF16NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)

// denseF32NEON is denseF16NEON for F32 rows (no conversion): 12
// instructions per 32 weights.
//
//go:noescape
func denseF32NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)

// denseBF16NEON is denseF16NEON for BF16 rows, widened by interleaving
// with zeros (ZIP1/ZIP2, exact): 19 instructions per 32 weights.
//
//go:noescape
func denseBF16NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)

// denseQ80NEON is denseF16NEON for Q8_0 rows (34-byte blocks of an F16
// scale d and 32 int8): each weight d·float32(q) rounded as denseGroup
// does, then fused into its lane. 35 instructions per 32 weights (34
// bytes): 11.6 GB/s a core at 3 GHz.
//
//go:noescape
func denseQ80NEON(w *byte, rb int, x *float32, ng int, rows int, out *float32)

// weightedSumNEON sets o[d] = Σ_p w[p]·v[p·stride+d] for d < hd (a positive
// multiple of 16) and n positions, each product fused into the sum in
// position order (weightedSumGeneric); stride is in bytes. 16 outputs per
// pass: one broadcast load, four loads, four FMLA per position.
//
//go:noescape
func weightedSumNEON(o *float32, v *float32, stride int, w *float32, n int, hd int)

// addNEON sets dst[i] += x[i] for n floats, n a positive multiple of 4.
//
//go:noescape
func addNEON(dst *float32, x *float32, n int)

// scaleMulNEON sets dst[i] = float32(x[i]*s) * w[i] (scaleMulGeneric), n
// a positive multiple of 4.
//
//go:noescape
func scaleMulNEON(dst *float32, x *float32, w *float32, s float32, n int)

// relu2MulNEON sets dst[i] = float32(g·g)·up[i] with g = gate[i] if
// gate[i] > 0 else 0 (relu2MulGeneric), n a positive multiple of 4.
//
//go:noescape
func relu2MulNEON(dst *float32, gate *float32, up *float32, n int)

// siluMulNEON sets dst[i] = float32(g/float32(1+expf32(-g)))·up[i]
// (siluMulGeneric), n a positive multiple of 4; the exponential is
// expf32's operation for operation.
//
//go:noescape
func siluMulNEON(dst *float32, gate *float32, up *float32, n int)

// expSubNEON sets x[i] = expf32(x[i]-m) for n floats, n a positive
// multiple of 4.
//
//go:noescape
func expSubNEON(x *float32, m float32, n int)

// sumSquaresNEON returns Σ float64(float32(x[i]·x[i])) over n floats (n a
// positive multiple of 8) in no particular order (see rmsMean).
//
//go:noescape
func sumSquaresNEON(x *float32, n int) float64

// ropePairsNEON rotates adjacent pairs (x[2i], x[2i+1]) by (cos[i],
// sin[i]) for i < pairs (a positive multiple of 4) as ropeGeneric does.
//
//go:noescape
func ropePairsNEON(x *float32, sin *float32, cos *float32, pairs int)

// ropeHalvesNEON rotates NeoX pairs (x[i], x[i+half]) for i < half (a
// positive multiple of 4) as ropeGeneric does.
//
//go:noescape
func ropeHalvesNEON(x *float32, sin *float32, cos *float32, half int)

// prefetchL2NEON issues PRFM PLDL2KEEP for lines 64-byte lines from p.
//
//go:noescape
func prefetchL2NEON(p *byte, lines int)

// i2sDot4x8MMLA is i2sDot4x4DOT for 8 tokens with FEAT_I8MM's SMMLA, each
// instruction a 2-row × 2-token tile of 8 positions (twice SDOT's
// multiplies). p holds the tokens interleaved in pairs, ps bytes from one
// pair to the next (interleavePairs); acc[4(4rp+jp) + l] is row 2rp+l/2
// with token 2jp+l%2. Per 32 positions and 4 rows × 8 tokens: 2 row
// loads, 4 to 16 unpacking instructions, 8 ZIP, 4 activation loads and 32
// SMMLA: about 6 instructions per 128 weights of a row and token, against
// 10 for the SDOT kernel: 250·10⁹ weight·token products a second a core
// at 3 GHz.
//
//go:noescape
func i2sDot4x8MMLA(w *byte, rb int, p *int8, ps int, nb int, acc *[32]int32)

// q6KRowsDOT sets out[i] = q6KDotGeneric(row i, q, d) for rows rows of
// Q6_K at w, rb bytes apart, and one token's block-quantized activations
// (q: nsb·256 int8, d: nsb block scales). Per super-block (256 weights,
// 210 bytes): 4 row loads, 80 instructions rebuilding the signed 6-bit
// codes, 16 activation loads and zeroings, 16 SDOT, 16 MLA by element
// with the sub-block scales, 7 to widen the scales and 10 for the float
// step: about 150, 0.7 per byte, 16.8 GB/s a core at 3 GHz.
//
//go:noescape
func q6KRowsDOT(w *byte, rb int, q *int8, d *float32, nsb int, rows int, out *float32)

// q6KRowsNEON is q6KRowsDOT without SDOT (SMULL, SMLAL2, SADALP; |code·q|
// ≤ 4096 fits the 16-bit products): about 180 instructions per
// super-block.
//
//go:noescape
func q6KRowsNEON(w *byte, rb int, q *int8, d *float32, nsb int, rows int, out *float32)

// widenF16NEON writes ng groups of 32 F16 weights at w to dst as float32
// (exact), as the F16 row kernel widens them; batches widen a few rows
// once into L1 and run the F32 kernel for every token.
//
//go:noescape
func widenF16NEON(dst *float32, w *byte, ng int)

// widenBF16NEON is widenF16NEON for BF16 (exact).
//
//go:noescape
func widenBF16NEON(dst *float32, w *byte, ng int)

// widenQ80NEON is widenF16NEON for Q8_0 blocks: float32(d·float32(q)),
// the rounded weight of denseGroup.
//
//go:noescape
func widenQ80NEON(dst *float32, w *byte, ng int)
