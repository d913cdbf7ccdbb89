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
//			acc[k%32] += float32(weight(w[r*stride:], k) * x[k])
//		}
//		out[r] = dotReduce(&acc)
//	}
//
// with the products and sums rounded separately (no FMA), exactly as
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
			VMULPS(Mem{Base: x, Disp: 32 * l}, t, t)
			VADDPS(t, acc[r][l], acc[r][l])
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
	t := XMM()
	VMOVHLPS(s, s, t)
	VADDPS(t, s, s)
	VMOVSHDUP(s, t)
	VADDSS(t, s, s)
	VMOVSS(s, dst)
}
