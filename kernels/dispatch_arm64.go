//go:build !purego

package kernels

import (
	"sync"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// Speed on arm64 is derived, not measured here (qemu proves results, not
// time): each kernel's doc comment in asm_arm64.go counts its steady-state
// instructions. Decoding one token reads every weight once, so a kernel
// keeps up with memory when its instructions per byte, at the core's
// issue rate, take no longer than the byte takes to arrive. The I2_S
// decode kernel on the dotprod tier runs 22 instructions per 128 weights
// (32 bytes) of a row, 0.69 per byte; a core that retires 4 vector
// instructions per cycle at 3 GHz then consumes 17 GB/s, so 6 such cores
// cover Apple M2's ~100 GB/s (4 P-cores at 3.5 GHz consume 81 GB/s, within
// a fifth of the roofline) and 20 of Graviton3's 64 cover its ~300 GB/s
// (at its 2.6 GHz: 15 GB/s a core). The NEON tier (38 instructions, 1.2 per byte)
// gives 10 GB/s a core: a Raspberry Pi 4's ~4 GB/s needs one of its four
// Cortex-A72 cores. The F16 head (19 instructions per 64 bytes, 0.3 per
// byte) consumes 40 GB/s a core at 3 GHz, never the bottleneck.

// archPaths lists the arm64 tiers this CPU offers, slowest first; each
// keeps the portable Go path for what its assembly leaves. Advanced SIMD
// is mandatory in ARMv8-A, so every arm64 core has the neon tier;
// FEAT_DotProd (ARMv8.2+: Apple M1 and later, Graviton2 and later,
// Cortex-A76 and later) adds SDOT, and FEAT_I8MM (Apple M2 and later,
// Graviton3 and later) SMMLA for batches of 8 tokens. cpuid reads HWCAP on
// Linux and sysctl on Darwin.
func archPaths() []kernelPath {
	p := []kernelPath{{"neon", pathFlags{neon: true, portable: true}}}
	if cpuid.CPU.Supports(cpuid.ASIMDDP) {
		p = append(p, kernelPath{"dotprod", pathFlags{neon: true, dot: true, portable: true}})
		if cpuid.CPU.Supports(cpuid.I8MM) {
			p = append(p, kernelPath{"i8mm", pathFlags{neon: true, dot: true, i8mm: true, portable: true}})
		}
	}
	return p
}

// quantizeActs runs the vector loop on the largest multiple of 16
// elements and the reference on the tail; max and rounding are
// elementwise, so the split changes nothing.
func quantizeActs(q []int8, x []float32) float32 {
	n := len(x) &^ 15
	if !useNEON || n == 0 {
		return quantizeActsFallback(q, x)
	}
	q = q[:len(x)]
	s := actScale(absMax(x))
	quantRowNEON(&q[0], &x[0], n, s)
	quantizeRowGeneric(q[n:], x[n:], s)
	return s
}

// absMax is max|x| with the vector loop on the largest multiple of 16.
func absMax(x []float32) float32 {
	n := len(x) &^ 15
	if !useNEON || n == 0 {
		return absMaxGeneric(x)
	}
	return max(absMaxNEON(&x[0], n), absMaxGeneric(x[n:]))
}

// sumInt8 is Σq with the vector loop on the largest multiple of 16 bytes.
func sumInt8(q []int8) int32 {
	n := len(q) &^ 15
	if !useNEON || n == 0 {
		return sumInt8Generic(q)
	}
	return sumInt8NEON(&q[0], n) + sumInt8Generic(q[n:])
}

// i2sRows runs the assembly on groups of 4 rows when rows start at block
// boundaries (K a multiple of 128): 8 tokens at a time with SMMLA (i8mm),
// then 4 at a time, then the last tokens one by one; other shapes and the
// last rows of a group take the fallback. The kernels return exact integer
// sums, which i2sStore scales.
func i2sRows(out []float32, w *I2S, a *QActs, tok *i2sTokens, _ []byte, m0, m1 int) {
	K := w.K
	if !useNEON || K%i2sBlock != 0 || m1-m0 < 4 {
		i2sRowsFallback(out, w, a, tok, m0, m1)
		return
	}
	nb, rb := K/i2sBlock, K/4
	_ = out[(a.N-1)*w.M+m1-1]
	_ = a.Q[a.N*K-1]
	var acc8 [32]int32
	var acc [16]int32
	var acc1 [4]int32
	n8 := len(tok.pairs) / K // whole 8-token tiles interleaved for SMMLA
	m := m0
	for ; m+4 <= m1; m += 4 {
		rows := w.Data[m*rb : (m+4)*rb]
		n := 0
		for ; n+8 <= n8; n += 8 {
			i2sDot4x8MMLA(&rows[0], rb, &tok.pairs[n*K], 2*K, nb, &acc8)
			for i, v := range acc8 {
				rp, jp, l := i/16, i/4%4, i%4
				i2sStore(out, w, tok, n+2*jp+l%2, m+2*rp+l/2, v)
			}
		}
		for ; n+4 <= a.N; n += 4 {
			if useDot {
				i2sDot4x4DOT(&rows[0], rb, &a.Q[n*K], K, nb, &acc)
			} else {
				i2sDot4x4NEON(&rows[0], rb, &a.Q[n*K], K, nb, &acc)
			}
			for t := range 4 {
				for r := range 4 {
					i2sStore(out, w, tok, n+t, m+r, acc[4*t+r])
				}
			}
		}
		for ; n < a.N; n++ {
			if useDot {
				i2sDot4x1DOT(&rows[0], rb, &a.Q[n*K], nb, &acc1)
			} else {
				i2sDot4x1NEON(&rows[0], rb, &a.Q[n*K], nb, &acc1)
			}
			for r := range 4 {
				i2sStore(out, w, tok, n, m+r, acc1[r])
			}
		}
	}
	if m < m1 {
		i2sRowsFallback(out, w, a, tok, m, m1)
	}
}

// denseRows runs the assembly for F32, F16, BF16 and Q8_0 rows when K is a
// multiple of 32, and for Q6_K rows. One token reads each row once. A
// batch widens 4 rows at a time to float32 in L1 (widen*NEON: the same
// values the row kernels compute) and runs the F32 kernel for every
// token on them, so the weights still come from memory once, not once
// per token. Other shapes take the fallback.
func denseRows(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	if useNEON && w.Type == DQ6_K && m1 > m0 {
		q6KRows(out, w, a, n, m0, m1)
		return
	}
	if !useNEON || w.Type == DQ6_K || w.K%denseLane != 0 || m1 <= m0 {
		denseRowsFallback(out, w, x, a, n, m0, m1)
		return
	}
	K, M, rb := w.K, w.M, w.rowBytes()
	rows := w.Data[m0*rb : m1*rb]
	_ = out[(n-1)*M+m1-1]
	_ = x[n*K-1]
	if n > 1 && w.Type != DF32 {
		denseBatch(out, w, x, n, m0, m1)
		return
	}
	for t := 0; t < n; t++ {
		o := &out[t*M+m0]
		switch w.Type {
		case DF16:
			denseF16NEON(&rows[0], rb, &x[t*K], K/denseLane, m1-m0, o)
		case DF32:
			denseF32NEON(&rows[0], rb, &x[t*K], K/denseLane, m1-m0, o)
		case DBF16:
			denseBF16NEON(&rows[0], rb, &x[t*K], K/denseLane, m1-m0, o)
		case DQ8_0:
			denseQ80NEON(&rows[0], rb, &x[t*K], K/denseLane, m1-m0, o)
		}
	}
}

// widened is the per-call scratch of denseBatch: 4 rows of float32.
var widened = sync.Pool{New: func() any { return new([]float32) }}

// denseBatch is denseRows for n > 1 tokens of F16, BF16 or Q8_0 rows
// (bounds checked by the caller).
func denseBatch(out []float32, w *Dense, x []float32, n, m0, m1 int) {
	K, M, rb := w.K, w.M, w.rowBytes()
	sp := widened.Get().(*[]float32)
	buf := growSlice(*sp, 4*K)
	for m := m0; m < m1; m += 4 {
		r := min(4, m1-m)
		src, ng := &w.Data[m*rb], r*K/denseLane
		switch w.Type {
		case DF16:
			widenF16NEON(&buf[0], src, ng)
		case DBF16:
			widenBF16NEON(&buf[0], src, ng)
		case DQ8_0:
			widenQ80NEON(&buf[0], src, ng)
		}
		for t := 0; t < n; t++ {
			denseF32NEON((*byte)(unsafe.Pointer(&buf[0])), 4*K, &x[t*K], K/denseLane, r, &out[t*M+m])
		}
	}
	*sp = buf
	widened.Put(sp)
}

// q6KPortableRows reports whether MatMulDense gives any of w's rows to the
// portable Q6_K kernel, which needs its activation layout: only without
// NEON, since q6KRows takes every row.
func q6KPortableRows(*Dense) bool { return usePortable && !useNEON }

// q6KRows runs the integer Q6_K kernel over rows [m0, m1) for each token.
func q6KRows(out []float32, w *Dense, a *blockActs, n, m0, m1 int) {
	K, M, rb, nsb := w.K, w.M, w.rowBytes(), w.K/q6KBlock
	rows := w.Data[m0*rb : m1*rb]
	_ = out[(n-1)*M+m1-1]
	_ = a.q[n*K-1]
	_ = a.d[n*nsb-1]
	for t := 0; t < n; t++ {
		if useDot {
			q6KRowsDOT(&rows[0], rb, &a.q[t*K], &a.d[t*nsb], nsb, m1-m0, &out[t*M+m0])
		} else {
			q6KRowsNEON(&rows[0], rb, &a.q[t*K], &a.d[t*nsb], nsb, m1-m0, &out[t*M+m0])
		}
	}
}

// dotRowsF32 runs the F32 dense kernel over n rows stride floats apart
// when len(x) is a multiple of 32; other sizes take the fallback.
func dotRowsF32(out, rows []float32, stride int, x []float32, n int) {
	k := len(x)
	if !useNEON || k%denseLane != 0 || k == 0 || n == 0 {
		dotRowsFallback(out, rows, stride, x, n)
		return
	}
	_ = rows[(n-1)*stride+k-1]
	_ = out[n-1]
	denseF32NEON((*byte)(unsafe.Pointer(&rows[0])), 4*stride, &x[0], k/denseLane, n, &out[0])
}

// scoresVector leaves the attention scores to dotRowsF32 and a scaling
// loop (there is no fused scores kernel on arm64).
func scoresVector(_, _ []float32, _ int, _ []float32, _ float32) bool { return false }

// weightedSum runs the NEON kernel when the head size is a multiple of 16.
func weightedSum(o, v []float32, stride int, w []float32) {
	hd, n := len(o), len(w)
	if !useNEON || hd%16 != 0 || hd == 0 || n == 0 {
		weightedSumFallback(o, v, stride, w)
		return
	}
	_ = v[(n-1)*stride+hd-1]
	weightedSumNEON(&o[0], &v[0], 4*stride, &w[0], n, hd)
}

// vector4 is how many of n elements the 4-lane element-wise kernels take:
// the largest multiple of 4, or none without NEON. The callers finish the
// rest with the reference.
func vector4(n int) int {
	if !useNEON {
		return 0
	}
	return n &^ 3
}

// siluMulVector runs siluMulNEON on the first vector4 elements and returns
// how many that is; so do the other *Vector functions with their kernels.
func siluMulVector(dst, gate, up []float32) int {
	n := vector4(len(dst))
	if n > 0 {
		siluMulNEON(&dst[0], &gate[0], &up[0], n)
	}
	return n
}

func expSubVector(x []float32, m float32) int {
	n := vector4(len(x))
	if n > 0 {
		expSubNEON(&x[0], m, n)
	}
	return n
}

func relu2MulVector(dst, gate, up []float32) int {
	n := vector4(len(dst))
	if n > 0 {
		relu2MulNEON(&dst[0], &gate[0], &up[0], n)
	}
	return n
}

func addVector(dst, x []float32) int {
	n := vector4(len(dst))
	if n > 0 {
		addNEON(&dst[0], &x[0], n)
	}
	return n
}

func scaleMulVector(dst, x, w []float32, s float32) int {
	n := vector4(len(dst))
	if n > 0 {
		scaleMulNEON(&dst[0], &x[0], &w[0], s, n)
	}
	return n
}

// sumSquaresVector sums the squares of the first multiple of 8 elements
// of x with sumSquaresNEON (in no particular order, see rmsMean) and
// returns the sum and how many elements that is.
func sumSquaresVector(x []float32) (float64, int) {
	n := len(x) &^ 7
	if !useNEON || n == 0 {
		return 0, 0
	}
	return sumSquaresNEON(&x[0], n), n
}

// ropeVector rotates the first pairs of one head (v) with the NEON
// kernels, a multiple of 4 adjacent or NeoX pairs, and returns how many.
func ropeVector(v, sin, cos []float32, neox bool) int {
	half := len(sin)
	if !useNEON {
		return 0
	}
	if neox {
		if half == 0 || half%4 != 0 {
			return 0 // the kernel needs whole vectors in both halves
		}
		_ = v[2*half-1]
		ropeHalvesNEON(&v[0], &sin[0], &cos[0], half)
		return half
	}
	n := half &^ 3
	if n == 0 {
		return 0
	}
	_ = v[2*n-1]
	ropePairsNEON(&v[0], &sin[0], &cos[0], n)
	return n
}

// prefetchAvailable reports whether prefetchBytes does anything.
func prefetchAvailable() bool { return true }

// prefetchBytes asks for the whole cache lines of b to be brought into L2.
func prefetchBytes(b []byte) {
	if len(b) >= 64 {
		prefetchL2NEON(&b[0], len(b)/64)
	}
}
