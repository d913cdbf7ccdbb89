package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const denseDoc = `
//	for r := 0; r < 2; r++ {
//		var acc [32]float32
//		for k := 0; k < 32*ng; k++ {
//			acc[k%32] = fma32(weight(w[r*stride:], k), x[k], acc[k%32])
//		}
//		out[r] = dotReduce(&acc)
//	}
//
// with each product fused into its lane (fma32: one rounding), exactly as
// denseRowsGeneric, and weight() the exact dequantization of Dense.Row.`

// denseAVX2 generates a 2-row dense dot product over ng groups of 32
// elements. Lane j of the 32 (four ymm accumulators of 8) sums the products
// at k ≡ j mod 32; the reduction pairs lanes i and i+16, i+8, i+4, i+2,
// i+1, the tree of dotReduce. groupBytes is the size of 32 weights.
func denseAVX2(name, typ string, groupBytes int) {
	TEXT(name, NOSPLIT, "func(w *byte, stride int, x *float32, ng int, out *[2]float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes, for two %s rows stride bytes apart:", name, typ) + denseDoc)
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	x := Load(Param("x"), GP64())
	ng := Load(Param("ng"), GP64())
	var acc [2][4]VecVirtual
	for r := range acc {
		for l := range acc[r] {
			acc[r][l] = YMM()
			VXORPS(acc[r][l], acc[r][l], acc[r][l])
		}
	}
	row := func(r, disp int) Mem {
		if r == 0 {
			return Mem{Base: w, Disp: disp}
		}
		return Mem{Base: w, Index: stride, Scale: 1, Disp: disp}
	}

	Label("group")
	for r := 0; r < 2; r++ {
		Commentf("row %d: lanes 8l..8l+7 += w*x", r)
		var d VecVirtual
		if typ == "Q8_0" {
			Comment("d = the block's f16 scale in all 8 lanes")
			dx := XMM()
			VPBROADCASTW(row(r, 0), dx)
			d = YMM()
			VCVTPH2PS(dx, d)
		}
		for l := 0; l < 4; l++ {
			t := YMM()
			switch typ {
			case "F16":
				VCVTPH2PS(row(r, 16*l), t)
			case "F32":
				VMOVUPS(row(r, 32*l), t)
			case "BF16":
				VPMOVZXWD(row(r, 16*l), t)
				VPSLLD(U8(16), t, t)
			case "Q8_0":
				VPMOVSXBD(row(r, 2+8*l), t)
				VCVTDQ2PS(t, t)
				VMULPS(d, t, t)
			}
			VFMADD231PS(Mem{Base: x, Disp: 32 * l}, t, acc[r][l])
		}
	}
	ADDQ(U32(groupBytes), w)
	ADDQ(U32(128), x)
	DECQ(ng)
	JNZ(LabelRef("group"))

	out := Load(Param("out"), GP64())
	for r := 0; r < 2; r++ {
		Commentf("out[%d] = dotReduce(acc[%d])", r, r)
		reduce32(acc[r], Mem{Base: out, Disp: 4 * r})
	}
	VZEROUPPER()
	RET()
}

// reduce32 stores dotReduce of the four 8-lane accumulators a (lanes 0-7,
// 8-15, 16-23, 24-31): pairs i and i+16, then i+8, i+4, i+2, i+1.
func reduce32(a [4]VecVirtual, dst Mem) {
	VADDPS(a[2], a[0], a[0])
	VADDPS(a[3], a[1], a[1])
	VADDPS(a[1], a[0], a[0])
	s := XMM()
	VEXTRACTF128(U8(1), a[0], s)
	VADDPS(a[0].AsX(), s, s)
	reduce4(s, dst)
}

// reduce4 stores the end of dotReduce from the four lanes of s (partial
// sums of lanes i, i+4, …): pairs i, i+2, then i, i+1.
func reduce4(s VecVirtual, dst Mem) {
	t := XMM()
	VMOVHLPS(s, s, t)
	VADDPS(t, s, s)
	VMOVSHDUP(s, t)
	VADDSS(t, s, s)
	VMOVSS(s, dst)
}

const dense512Doc = `
//	for r := 0; r < 4; r++ {
//		for t := 0; t < T; t++ {
//			var acc [32]float32
//			for k := 0; k < 32*ng; k++ {
//				acc[k%32] = fma32(weight(w[r*stride:], k), x[t*xs+k], acc[k%32])
//			}
//			out[4*t+r] = dotReduce(&acc)
//		}
//	}
//
// with each product fused into its lane (fma32: one rounding), exactly as
// denseRowsGeneric, and weight() the exact dequantization of Dense.Row.`

// denseAVX512 generates a 4-row, T-token dense dot product with AVX-512:
// lanes 0-15 and 16-31 of the 32-lane accumulation are two zmm, so the
// first step of dotReduce (lane i plus lane i+16) is one vaddps and the
// result is bit-identical to the AVX2 kernels. Each row's group is
// converted once and used for all T tokens. The rows of the next call are
// prefetched into L2 while these are read: decoding streams the head from
// DRAM, and the prefetch keeps more misses in flight than the hardware
// prefetcher alone does.
func denseAVX512(name, typ string, groupBytes, T int) {
	TEXT(name, NOSPLIT, "func(w *byte, stride int, x *float32, xs int, ng int, out *[8]float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes, for four %s rows stride bytes apart and T = %d tokens xs floats apart:", name, typ, T) + dense512Doc)
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	stride3 := times3(stride)
	x := Load(Param("x"), GP64())
	xs := Load(Param("xs"), GP64())
	SHLQ(U8(2), xs)
	ng := Load(Param("ng"), GP64())
	pf := GP64()
	LEAQ(Mem{Base: w, Index: stride, Scale: 4}, pf)
	var acc [4][2][2]VecVirtual
	for r := range acc {
		for t := 0; t < T; t++ {
			for h := range acc[r][t] {
				acc[r][t][h] = ZMM()
				VPXORD(acc[r][t][h], acc[r][t][h], acc[r][t][h])
			}
		}
	}
	Label("group")
	for l := 0; l < 4*groupBytes; l += 64 {
		PREFETCHT1(Mem{Base: pf, Disp: l})
	}
	ADDQ(U32(4*groupBytes), pf)
	var xv [2][2]VecVirtual
	for t := 0; t < T; t++ {
		for h := 0; h < 2; h++ {
			xv[t][h] = ZMM()
			m := Mem{Base: x, Disp: 64 * h}
			if t == 1 {
				m = Mem{Base: x, Index: xs, Scale: 1, Disp: 64 * h}
			}
			VMOVUPS(m, xv[t][h])
		}
	}
	for r := 0; r < 4; r++ {
		Commentf("row %d: lanes 16h..16h+15 += w*x", r)
		for h := 0; h < 2; h++ {
			wv := ZMM()
			switch typ {
			case "F16":
				VCVTPH2PS(strided(w, stride, stride3, r, 32*h), wv)
			case "F32":
				VMOVUPS(strided(w, stride, stride3, r, 64*h), wv)
			case "BF16":
				VPMOVZXWD(strided(w, stride, stride3, r, 32*h), wv)
				VPSLLD(U8(16), wv, wv)
			}
			for t := 0; t < T; t++ {
				VFMADD231PS(xv[t][h], wv, acc[r][t][h])
			}
		}
	}
	ADDQ(U32(groupBytes), w)
	ADDQ(U32(128), x)
	DECQ(ng)
	JNZ(LabelRef("group"))

	out := Load(Param("out"), GP64())
	for t := 0; t < T; t++ {
		for r := 0; r < 4; r++ {
			Commentf("out[%d] = dotReduce(acc[%d][%d])", 4*t+r, r, t)
			reduce32x512(acc[r][t], Mem{Base: out, Disp: 4 * (4*t + r)})
		}
	}
	VZEROUPPER()
	RET()
}

// reduce32x512 stores dotReduce of a 32-lane accumulator held as two zmm
// (lanes 0-15, 16-31): the pairs i, i+16 first, then i+8, i+4, i+2, i+1.
func reduce32x512(a [2]VecVirtual, dst Mem) {
	VADDPS(a[1], a[0], a[0])
	y := YMM()
	VEXTRACTF64X4(U8(1), a[0], y)
	VADDPS(a[0].AsY(), y, y)
	s := XMM()
	VEXTRACTF32X4(U8(1), y, s)
	VADDPS(y.AsX(), s, s)
	reduce4(s, dst)
}

const denseRowDoc = `
//	for t := 0; t < T; t++ {
//		var acc [32]float32
//		for k := 0; k < 32*ng; k++ {
//			acc[k%32] = fma32(weight(w, k), x[t*xs+k], acc[k%32])
//		}
//		out[t] = dotReduce(&acc)
//	}
//
// with each product fused into its lane (fma32: one rounding), exactly as
// denseRowsGeneric, and weight() the exact dequantization of Dense.Row.`

// denseRowF16AVX512 generates a 1-row, T-token F16 dot product with
// AVX-512 for batches: the row's group is converted once for all T tokens,
// whose activations are memory operands of the FMAs. With T = 8 the
// conversions are a sixth of the work, against half in the 4-row, 2-token
// kernel, whose 16 accumulators leave no room for more tokens.
func denseRowF16AVX512(T int) {
	const groupBytes = 64 // 32 halves
	name := fmt.Sprintf("denseF16AVX512x1x%d", T)
	TEXT(name, NOSPLIT, "func(w *byte, x *float32, xs int, ng int, out *[8]float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes, for one F16 row and T = %d tokens xs floats apart:", name, T) + denseRowDoc)
	w := Load(Param("w"), GP64())
	x := Load(Param("x"), GP64())
	xs := Load(Param("xs"), GP64())
	SHLQ(U8(2), xs)
	xs3 := times3(xs)
	x4 := GP64()
	LEAQ(Mem{Base: x, Index: xs, Scale: 4}, x4)
	ng := Load(Param("ng"), GP64())
	var acc [8][2]VecVirtual
	for t := 0; t < T; t++ {
		for h := range acc[t] {
			acc[t][h] = ZMM()
			VPXORD(acc[t][h], acc[t][h], acc[t][h])
		}
	}
	Label("group")
	Comment("rows are contiguous: fetch 4 KB ahead into L2, over the DRAM latency at 8 tokens' pace")
	PREFETCHT1(Mem{Base: w, Disp: 4096})
	for h := 0; h < 2; h++ {
		wv := ZMM()
		VCVTPH2PS(Mem{Base: w, Disp: 32 * h}, wv)
		for t := 0; t < T; t++ {
			base := x
			if t >= 4 {
				base = x4
			}
			VFMADD231PS(strided(base, xs, xs3, t%4, 64*h), wv, acc[t][h])
		}
	}
	ADDQ(U32(groupBytes), w)
	ADDQ(U32(128), x)
	ADDQ(U32(128), x4)
	DECQ(ng)
	JNZ(LabelRef("group"))

	out := Load(Param("out"), GP64())
	for t := 0; t < T; t++ {
		Commentf("out[%d] = dotReduce(acc[%d])", t, t)
		reduce32x512(acc[t], Mem{Base: out, Disp: 4 * t})
	}
	VZEROUPPER()
	RET()
}

// denseRowsF16AVX512 generates the decode kernel of F16 heads: rows one
// after another, each against one token, so the weights are read as one
// sequential stream. Reading four rows side by side (the 4-row kernels)
// keeps four streams a row apart open, and measured 9 % slower from DRAM.
// Each row's two accumulators are FMA chains; at 64 bytes per FMA latency
// they outrun a thread's share of DRAM bandwidth several times over.
func denseRowsF16AVX512() {
	TEXT("denseRowsF16AVX512", NOSPLIT, "func(w *byte, x *float32, ng int, rows int, out *float32)")
	Pragma("noescape")
	Doc(`denseRowsF16AVX512 computes, for rows consecutive F16 rows of 32*ng
// elements and one token:
//
//	for r := 0; r < rows; r++ {
//		var acc [32]float32
//		for k := 0; k < 32*ng; k++ {
//			acc[k%32] = fma32(f16ToF32(w[r][k]), x[k], acc[k%32])
//		}
//		out[r] = dotReduce(&acc)
//	}`)
	w := Load(Param("w"), GP64())
	x := Load(Param("x"), GP64())
	rows := Load(Param("rows"), GP64())
	out := Load(Param("out"), GP64())
	Label("row")
	g := Load(Param("ng"), GP64())
	xp := GP64()
	MOVQ(x, xp)
	acc := [2]VecVirtual{ZMM(), ZMM()}
	VPXORD(acc[0], acc[0], acc[0])
	VPXORD(acc[1], acc[1], acc[1])
	Label("group")
	PREFETCHT1(Mem{Base: w, Disp: 4096})
	for h := 0; h < 2; h++ {
		wv := ZMM()
		VCVTPH2PS(Mem{Base: w, Disp: 32 * h}, wv)
		VFMADD231PS(Mem{Base: xp, Disp: 64 * h}, wv, acc[h])
	}
	ADDQ(U8(64), w)
	ADDQ(U32(128), xp)
	DECQ(g)
	JNZ(LabelRef("group"))
	reduce32x512(acc, Mem{Base: out})
	ADDQ(U8(4), out)
	DECQ(rows)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}
