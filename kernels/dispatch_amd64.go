//go:build !purego

package kernels

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// archPaths lists the assembly tiers this CPU offers, slowest first; each
// keeps the portable Go path for what its assembly leaves.
func archPaths() []kernelPath {
	c := cpuid.CPU
	var p []kernelPath
	if c.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		p = append(p, kernelPath{"avx2", pathFlags{avx2: true, portable: true}})
		if c.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI) {
			p = append(p, kernelPath{"avx512vnni", pathFlags{avx2: true, vnni: true, portable: true}})
		}
	}
	return p
}

// quantizeActs runs the vector loops on the largest multiple of 32 elements
// and the reference on the tail; max and rounding are elementwise, so the
// split changes nothing.
func quantizeActs(q []int8, x []float32) float32 {
	n := len(x) &^ 31
	if !useAVX2 || n == 0 {
		return quantizeActsFallback(q, x)
	}
	q = q[:len(x)]
	s := actScale(absMax(x))
	if useVNNI {
		quantRowAVX512(&q[0], &x[0], n, s)
	} else {
		quantRowAVX2(&q[0], &x[0], n, s)
	}
	quantizeRowGeneric(q[n:], x[n:], s)
	return s
}

// absMax is max|x| with the vector loop on the largest multiple of 32.
func absMax(x []float32) float32 {
	n := len(x) &^ 31
	if !useAVX2 || n == 0 {
		return absMaxGeneric(x)
	}
	return max(absMaxAVX2(&x[0], n), absMaxGeneric(x[n:]))
}

// sumInt8 is Σq with the VNNI loop on the largest multiple of 64 bytes.
func sumInt8(q []int8) int32 {
	n := len(q) &^ 63
	if !useVNNI || n == 0 {
		return sumInt8Generic(q)
	}
	return sumInt8VNNI(&q[0], n) + sumInt8Generic(q[n:])
}

// i2sDot4 calls the 4-row kernel for t tokens; it stores token t's four
// rows at o + t*os bytes. Direct calls (not a table of funcs) keep the
// noescape of the stubs.
func i2sDot4(vnni bool, t int, w *byte, q *int8, nb int, o *float32, os int, qs *int32, as *float32, ws float32) {
	switch {
	case !vnni && t == 1:
		i2sDotAVX24x1(w, q, nb, o, os, qs, as, ws)
	case !vnni:
		i2sDotAVX24x2(w, q, nb, o, os, qs, as, ws)
	case t == 1:
		i2sDotVNNI4x1(w, q, nb, o, os, qs, as, ws)
	case t == 2:
		i2sDotVNNI4x2(w, q, nb, o, os, qs, as, ws)
	case t == 3:
		i2sDotVNNI4x3(w, q, nb, o, os, qs, as, ws)
	default:
		i2sDotVNNI4x4(w, q, nb, o, os, qs, as, ws)
	}
}

// i2sRows runs the assembly on groups of 4 rows and up to 4 (VNNI) or 2
// (AVX2) tokens when rows start at block boundaries (K a multiple of 128);
// with VNNI and i2sUnpackMinTokens tokens or more, each group of rows is
// unpacked once into codes (4K bytes of the caller's scratch) for all
// whole 4-token tiles;
// other shapes and the last rows of an odd group take the reference. The
// kernels scale and store their sums themselves, as i2sStore does.
func i2sRows(out []float32, w *I2S, a *QActs, tok *i2sTokens, codes []byte, m0, m1 int) {
	K := w.K
	if !useAVX2 || K%i2sBlock != 0 || m1-m0 < 4 {
		i2sRowsFallback(out, w, a, tok, m0, m1)
		return
	}
	vnni, tile := useVNNI, 2
	if vnni {
		tile = 4
	}
	nb, rb, M := K/i2sBlock, K/4, w.M
	_ = out[(a.N-1)*M+m1-1]
	unpack := vnni && a.N >= i2sUnpackMinTokens && len(codes) >= 4*K
	m := m0
	for ; m+4 <= m1; m += 4 {
		rows := w.Data[m*rb : (m+4)*rb]
		n := 0
		if unpack {
			i2sUnpackVNNI(&codes[0], &rows[0], nb)
			for ; n+4 <= a.N; n += 4 {
				i2sDotVNNIU4x4(&codes[0], &a.Q[n*K], nb, &out[n*M+m], 4*M, &tok.qsum[n], &tok.scale[n], w.Scale)
			}
		}
		for ; n < a.N; n += tile {
			t := min(tile, a.N-n)
			q := a.Q[n*K : (n+t)*K]
			i2sDot4(vnni, t, &rows[0], &q[0], nb, &out[n*M+m], 4*M, &tok.qsum[n], &tok.scale[n], w.Scale)
		}
	}
	if m < m1 {
		i2sRowsFallback(out, w, a, tok, m, m1)
	}
}

// denseDot2 calls the 2-row kernel for type t (direct calls keep noescape).
func denseDot2(t DType, w *byte, stride int, x *float32, ng int, out *[2]float32) {
	switch t {
	case DF16:
		denseF16AVX2x2(w, stride, x, ng, out)
	case DF32:
		denseF32AVX2x2(w, stride, x, ng, out)
	case DBF16:
		denseBF16AVX2x2(w, stride, x, ng, out)
	case DQ8_0:
		denseQ80AVX2x2(w, stride, x, ng, out)
	}
}

// denseDot4 calls the 4-row AVX-512 kernel of a float type for t (1 or 2)
// tokens xs floats apart.
func denseDot4(typ DType, t int, w *byte, stride int, x *float32, xs, ng int, out *[8]float32) {
	switch {
	case typ == DF16 && t == 1:
		denseF16AVX512x4x1(w, stride, x, xs, ng, out)
	case typ == DF16:
		denseF16AVX512x4x2(w, stride, x, xs, ng, out)
	case typ == DF32 && t == 1:
		denseF32AVX512x4x1(w, stride, x, xs, ng, out)
	case typ == DF32:
		denseF32AVX512x4x2(w, stride, x, xs, ng, out)
	case typ == DBF16 && t == 1:
		denseBF16AVX512x4x1(w, stride, x, xs, ng, out)
	case typ == DBF16:
		denseBF16AVX512x4x2(w, stride, x, xs, ng, out)
	}
}

// denseRows runs the assembly when K is a multiple of 32. With AVX-512:
// for one F16 token, all rows in one sequential pass; otherwise groups of
// 4 rows, F16 rows one at a time against 8 tokens first, then pairs of
// tokens (each row converted once per pair). With AVX2, pairs of rows one
// token at a time. Leftover rows take the 2-row kernel or the reference.
func denseRows(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	if w.Type == DQ6_K {
		q6KRows(out, w, a, n, m0, m1)
		return
	}
	asm := useAVX2 && w.K%denseLane == 0
	if !asm || m1-m0 < 2 {
		denseRowsFallback(out, w, x, a, n, m0, m1)
		return
	}
	K, M := w.K, w.M
	rb := w.rowBytes()
	m := m0
	if useVNNI && w.Type == DF16 && n == 1 {
		_ = out[m1-1]
		denseRowsF16AVX512(&w.Data[m0*rb], &x[0], K/denseLane, m1-m0, &out[m0])
		return
	}
	if useVNNI && w.Type != DQ8_0 && w.Type != DQ6_K {
		var o [8]float32
		for ; m+4 <= m1; m += 4 {
			rows := w.Data[m*rb : (m+4)*rb]
			t := 0
			for ; w.Type == DF16 && t+8 <= n; t += 8 {
				for r := 0; r < 4; r++ {
					denseF16AVX512x1x8(&rows[r*rb], &x[t*K], K, K/denseLane, &o)
					for j, v := range o {
						out[(t+j)*M+m+r] = v
					}
				}
			}
			for ; t < n; t += 2 {
				nt := min(2, n-t)
				denseDot4(w.Type, nt, &rows[0], rb, &x[t*K], K, K/denseLane, &o)
				for j := 0; j < nt; j++ {
					copy(out[(t+j)*M+m:(t+j)*M+m+4], o[4*j:4*j+4])
				}
			}
		}
	}
	var o [2]float32
	for ; m+2 <= m1; m += 2 {
		rows := w.Data[m*rb : (m+2)*rb]
		for t := 0; t < n; t++ {
			xt := x[t*K : (t+1)*K]
			denseDot2(w.Type, &rows[0], rb, &xt[0], K/denseLane, &o)
			out[t*M+m], out[t*M+m+1] = o[0], o[1]
		}
	}
	if m < m1 {
		denseRowsFallback(out, w, x, a, n, m, m1)
	}
}

// q6KPortableRows reports whether MatMulDense gives any of w's rows to the
// portable Q6_K kernel, which needs its activation layout: every row
// without AVX2, else the last M%4 (q6KRows takes groups of 4, and the
// pool's claims start at multiples of denseRowGroup).
func q6KPortableRows(w *Dense) bool { return usePortable && (!useAVX2 || w.M%4 != 0) }

// q6KRows runs the integer Q6_K kernel on groups of 4 rows, one token at a
// time (the 4 rows stay in L1 across tokens); leftover rows take the
// reference.
func q6KRows(out []float32, w *Dense, a *blockActs, n, m0, m1 int) {
	m := m0
	if useAVX2 {
		K, M := w.K, w.M
		rb, nsb := w.rowBytes(), w.K/q6KBlock
		var o [4]float32
		for ; m+4 <= m1; m += 4 {
			rows := w.Data[m*rb : (m+4)*rb]
			for t := 0; t < n; t++ {
				if useVNNI {
					denseQ6KVNNI4(&rows[0], rb, &a.q[t*K], &a.d[t*nsb], &a.bsum[t*K/16], nsb, &o)
				} else {
					denseQ6KAVX24(&rows[0], rb, &a.q[t*K], &a.d[t*nsb], &a.bsum[t*K/16], nsb, &o)
				}
				copy(out[t*M+m:t*M+m+4], o[:])
			}
		}
	}
	if m < m1 {
		denseRowsFallback(out, w, nil, a, n, m, m1)
	}
}

// dotRowsF32 runs the F32 dense kernels (4 rows with AVX-512, 2 with AVX2)
// over rows stride floats apart when len(x) is a multiple of 32; the last
// rows and other sizes take the reference.
func dotRowsF32(out, rows []float32, stride int, x []float32, n int) {
	k := len(x)
	if !useAVX2 || k%denseLane != 0 || k == 0 {
		dotRowsFallback(out, rows, stride, x, n)
		return
	}
	_ = rows[(n-1)*stride+k-1]
	p := 0
	if useVNNI {
		var o [8]float32
		for ; p+4 <= n; p += 4 {
			denseF32AVX512x4x1((*byte)(unsafe.Pointer(&rows[p*stride])), 4*stride, &x[0], k, k/denseLane, &o)
			copy(out[p:p+4], o[:4])
		}
	}
	var o [2]float32
	for ; p+2 <= n; p += 2 {
		denseF32AVX2x2((*byte)(unsafe.Pointer(&rows[p*stride])), 4*stride, &x[0], k/denseLane, &o)
		out[p], out[p+1] = o[0], o[1]
	}
	if p < n {
		dotRowsFallback(out[p:], rows[p*stride:], stride, x, n-p)
	}
}

// scoresVector computes the attention scores with the AVX-512 kernel when
// there are at least 8 positions and the head size is a multiple of 32, and
// reports whether it did. Positions are independent, so the last partial
// block is the block of the last 8 positions, recomputed.
func scoresVector(sc, k []float32, stride int, q []float32, scale float32) bool {
	hd, n := len(q), len(sc)
	if !useVNNI || hd%denseLane != 0 || hd == 0 || n < 8 {
		return false
	}
	_ = k[(n-1)*stride+hd-1]
	nb := n / 8
	scoresF32AVX512(&sc[0], &k[0], 4*stride, &q[0], hd/denseLane, nb, scale)
	if tail := n - 8*nb; tail > 0 {
		var last [8]float32
		scoresF32AVX512(&last[0], &k[(n-8)*stride], 4*stride, &q[0], hd/denseLane, 1, scale)
		copy(sc[8*nb:], last[8-tail:])
	}
	return true
}

// weightedSum runs the AVX2 kernel when the head size is a multiple of 32.
func weightedSum(o, v []float32, stride int, w []float32) {
	hd, n := len(o), len(w)
	if !useAVX2 || hd%32 != 0 || hd == 0 || n == 0 {
		weightedSumFallback(o, v, stride, w)
		return
	}
	_ = v[(n-1)*stride+hd-1]
	if useVNNI && hd%64 == 0 {
		weightedSumF32AVX512(&o[0], &v[0], 4*stride, &w[0], n, hd)
		return
	}
	weightedSumF32AVX2(&o[0], &v[0], 4*stride, &w[0], n, hd)
}

// vector8 is how many of n elements the 8-lane AVX2 element-wise kernels
// take: the largest multiple of 8, or none without AVX2. The callers finish
// the rest with the reference.
func vector8(n int) int {
	if !useAVX2 {
		return 0
	}
	return n &^ 7
}

// siluMulVector runs siluMulAVX2 on the first vector8 elements and returns
// how many that is; so do the other *Vector functions with their kernels.
func siluMulVector(dst, gate, up []float32) int {
	n := vector8(len(dst))
	if n > 0 {
		siluMulAVX2(&dst[0], &gate[0], &up[0], n)
	}
	return n
}

func expSubVector(x []float32, m float32) int {
	n := vector8(len(x))
	if n > 0 {
		expSubAVX2(&x[0], m, n)
	}
	return n
}

func relu2MulVector(dst, gate, up []float32) int {
	n := vector8(len(dst))
	if n > 0 {
		relu2MulAVX2(&dst[0], &gate[0], &up[0], n)
	}
	return n
}

func addVector(dst, x []float32) int {
	n := vector8(len(dst))
	if n > 0 {
		addAVX2(&dst[0], &x[0], n)
	}
	return n
}

func scaleMulVector(dst, x, w []float32, s float32) int {
	n := vector8(len(dst))
	if n > 0 {
		scaleMulAVX2(&dst[0], &x[0], &w[0], s, n)
	}
	return n
}

// sumSquaresVector sums the squares of the first multiple of 16 elements
// of x with sumSquaresAVX2 (in no particular order, see rmsMean) and
// returns the sum and how many elements that is.
func sumSquaresVector(x []float32) (float64, int) {
	n := len(x) &^ 15
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return sumSquaresAVX2(&x[0], n), n
}

// ropeVector rotates the first pairs of one head (v) with the AVX2 kernels,
// a multiple of 4 adjacent pairs or of 8 NeoX pairs, and returns how many.
func ropeVector(v, sin, cos []float32, neox bool) int {
	half := len(sin)
	if !useAVX2 {
		return 0
	}
	if neox {
		if half == 0 || half%8 != 0 {
			return 0 // the kernel needs whole vectors in both halves
		}
		_ = v[2*half-1]
		ropeHalvesAVX2(&v[0], &sin[0], &cos[0], half)
		return half
	}
	n := half &^ 3
	if n == 0 {
		return 0
	}
	_ = v[2*n-1]
	ropePairsAVX2(&v[0], &sin[0], &cos[0], n)
	return n
}

// prefetchAvailable reports whether prefetchBytes does anything.
func prefetchAvailable() bool { return true }

// prefetchBytes asks for the whole cache lines of b to be brought into L2.
func prefetchBytes(b []byte) {
	if len(b) >= 64 {
		prefetchL2(&b[0], len(b)/64)
	}
}
