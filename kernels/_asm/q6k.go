package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Q6_K super-block (210 bytes, 256 weights): ql[128] low nibbles, qh[64]
// high 2-bit pairs, int8 scales[16] (one per 16 weights), f16 d. Group r
// (0..3) of half h (0..1) holds weights h*128+32r+l, l < 32:
//
//	q = (ql[64h+32(r&1)+l] >> 4(r/2) & 15 | (qh[32h+l] >> 2r & 3) << 4) - 32
//	w = float32(d * float32(scales[8h+2r+l/16])) * float32(q)
const (
	q6kBytes = 210
	q6kQH    = 128
	q6kSc    = 192
	q6kD     = 208
)

var mask0f, mask30, bytes32 Mem

func q6kConsts() {
	mask0f = GLOBL("q6k_mask0f", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(0x0f))
	}
	mask30 = GLOBL("q6k_mask30", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(0x30))
	}
	bytes32 = GLOBL("q6k_bytes32", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(32))
	}
}

// denseQ6KAVX2 generates the Q6_K dense dot product: per super-block the 16
// scales are multiplied by d once (kept on the stack), each group's 32 codes
// are rebuilt as int8 with byte shifts and masks, stored, and widened 8 at a
// time into float32 for the same 32-lane accumulation as the other types.
func denseQ6KAVX2() {
	TEXT("denseQ6KAVX2x2", NOSPLIT, "func(w *byte, stride int, x *float32, ng int, out *[2]float32)")
	Pragma("noescape")
	Doc("denseQ6KAVX2x2 computes, for two Q6_K rows stride bytes apart:" + denseDoc)
	qbuf := AllocLocal(32)
	dsbuf := AllocLocal(64)
	w := Load(Param("w"), GP64())
	stride := Load(Param("stride"), GP64())
	x := Load(Param("x"), GP64())
	ng := Load(Param("ng"), GP64())
	out := Load(Param("out"), GP64())
	m0f, m30, b32 := YMM(), YMM(), YMM()
	VMOVDQU(mask0f, m0f)
	VMOVDQU(mask30, m30)
	VMOVDQU(bytes32, b32)

	for r := 0; r < 2; r++ {
		Commentf("row %d", r)
		p := GP64()
		if r == 0 {
			MOVQ(w, p)
		} else {
			LEAQ(Mem{Base: w, Index: stride, Scale: 1}, p)
		}
		xp, n := GP64(), GP64()
		MOVQ(x, xp)
		MOVQ(ng, n)
		SHRQ(U8(3), n)
		var acc [4]VecVirtual
		for l := range acc {
			acc[l] = YMM()
			VXORPS(acc[l], acc[l], acc[l])
		}
		Label(fmt.Sprintf("superblock%d", r))
		Comment("ds[i] = d * float32(scales[i])")
		dx, d := XMM(), YMM()
		VPBROADCASTW(Mem{Base: p, Disp: q6kD}, dx)
		VCVTPH2PS(dx, d)
		for i := 0; i < 2; i++ {
			t := YMM()
			VPMOVSXBD(Mem{Base: p, Disp: q6kSc + 8*i}, t)
			VCVTDQ2PS(t, t)
			VMULPS(d, t, t)
			VMOVUPS(t, dsbuf.Offset(32*i))
		}
		for h := 0; h < 2; h++ {
			ql0, ql1, qh := YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: p, Disp: 64 * h}, ql0)
			VMOVDQU(Mem{Base: p, Disp: 64*h + 32}, ql1)
			VMOVDQU(Mem{Base: p, Disp: q6kQH + 32*h}, qh)
			for g := 0; g < 4; g++ {
				Commentf("half %d group %d: q = low nibble | high pair << 4, minus 32", h, g)
				lo, hi := YMM(), YMM()
				src := ql0
				if g&1 == 1 {
					src = ql1
				}
				if g >= 2 {
					VPSRLW(U8(4), src, lo)
					VPAND(m0f, lo, lo)
				} else {
					VPAND(m0f, src, lo)
				}
				switch g {
				case 0:
					VPSLLW(U8(4), qh, hi)
					VPAND(m30, hi, hi)
				case 1:
					VPSLLW(U8(2), qh, hi)
					VPAND(m30, hi, hi)
				case 2:
					VPAND(m30, qh, hi)
				case 3:
					VPSRLW(U8(2), qh, hi)
					VPAND(m30, hi, hi)
				}
				VPOR(hi, lo, lo)
				VPSUBB(b32, lo, lo)
				VMOVDQU(lo, qbuf)
				for half := 0; half < 2; half++ {
					s := YMM()
					VBROADCASTSS(dsbuf.Offset(4*(8*h+2*g+half)), s)
					for j := 0; j < 2; j++ {
						L := 2*half + j
						t := YMM()
						VPMOVSXBD(qbuf.Offset(8*L), t)
						VCVTDQ2PS(t, t)
						VMULPS(s, t, t)
						VMULPS(Mem{Base: xp, Disp: 4 * (128*h + 32*g + 8*L)}, t, t)
						VADDPS(t, acc[L], acc[L])
					}
				}
			}
		}
		ADDQ(U32(q6kBytes), p)
		ADDQ(U32(1024), xp)
		DECQ(n)
		JNZ(LabelRef(fmt.Sprintf("superblock%d", r)))
		Commentf("out[%d] = dotReduce(acc)", r)
		reduce32(acc, Mem{Base: out, Disp: 4 * r})
	}
	VZEROUPPER()
	RET()
}
