package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// I2_S blocks: 128 codes in 32 bytes; byte j of a block holds the codes of
// k = j, 32+j, 64+j, 96+j in bits 7-6, 5-4, 3-2, 1-0 ("groups" 0 to 3).
const (
	blockBytes = 32
	blockCodes = 128
)

const i2sDoc = `
//	for r := 0; r < 4; r++ {
//		for t := 0; t < T; t++ {
//			var s int32
//			for k := 0; k < 128*nb; k++ {
//				s += int32(code(w[r*32*nb:], k)) * int32(q[t*128*nb+k])
//			}
//			out[4*r+t] = s
//		}
//	}
//
// where code(row, k) is the 2-bit code k of an I2_S row that starts at a
// block boundary: row[k/128*32+k%32] >> (6-2*(k%128/32)) & 3.`

// i2sVNNI generates i2sDotVNNI4x<T>: 4 rows against T tokens with AVX-512
// VNNI. Each 32-byte block is broadcast to both halves of a zmm; one
// variable word shift by (6 | 4) and a mask give the codes of groups 0 and 1,
// which line up with the 64 activations q[128b:128b+64] in their natural
// order; (2 | 0) gives groups 2 and 3 against q[128b+64:128b+128]. The
// unpacked block is used for all T tokens.
func i2sVNNI(T int) {
	TEXT(fmt.Sprintf("i2sDotVNNI4x%d", T), NOSPLIT, "func(w *byte, q *int8, nb int, out *[16]int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("i2sDotVNNI4x%d computes, with AVX-512 VNNI and T = %d:", T, T) + i2sDoc)
	w := Load(Param("w"), GP64())
	q := Load(Param("q"), GP64())
	nb := Load(Param("nb"), GP64())

	Comment("rs = bytes per row, ts = bytes per token")
	rs := GP64()
	MOVQ(nb, rs)
	SHLQ(U8(5), rs)
	rs3 := times3(rs)
	ts := GP64()
	MOVQ(nb, ts)
	SHLQ(U8(7), ts)
	ts3 := times3(ts)

	Comment("pf runs over the next 4 rows, 128 bytes per block, to prefetch them into L2 (T1 measured 20 % faster decode than T0, which crowds L1)")
	pf := GP64()
	LEAQ(Mem{Base: w, Index: rs, Scale: 4}, pf)
	s01, s23, m3 := ZMM(), ZMM(), ZMM()
	VMOVDQU64(srlv01, s01)
	VMOVDQU64(srlv23, s23)
	VBROADCASTI64X4(mask03, m3)
	var acc [4][4]VecVirtual
	for r := 0; r < 4; r++ {
		for t := 0; t < T; t++ {
			acc[r][t] = ZMM()
			VPXORD(acc[r][t], acc[r][t], acc[r][t])
		}
	}

	Label("block")
	PREFETCHT1(Mem{Base: pf})
	PREFETCHT1(Mem{Base: pf, Disp: 64})
	ADDQ(U32(4*blockBytes), pf)
	Comment("act[t] = the 128 activations of token t for this block, as two zmm")
	var act [4][2]VecVirtual
	for t := 0; t < T; t++ {
		for h := 0; h < 2; h++ {
			act[t][h] = ZMM()
			VMOVDQU64(strided(q, ts, ts3, t, 64*h), act[t][h])
		}
	}
	for r := 0; r < 4; r++ {
		Commentf("row %d: c01 = codes of groups 0|1, c23 = groups 2|3", r)
		b, c01, c23 := ZMM(), ZMM(), ZMM()
		VBROADCASTI64X4(strided(w, rs, rs3, r, 0), b)
		VPSRLVW(s01, b, c01)
		VPANDD(m3, c01, c01)
		VPSRLVW(s23, b, c23)
		VPANDD(m3, c23, c23)
		for t := 0; t < T; t++ {
			vpdpbusd(act[t][0], c01, acc[r][t])
			vpdpbusd(act[t][1], c23, acc[r][t])
		}
	}
	ADDQ(U8(blockBytes), w)
	ADDQ(U32(blockCodes), q)
	DECQ(nb)
	JNZ(LabelRef("block"))

	out := Load(Param("out"), GP64())
	for r := 0; r < 4; r++ {
		for t := 0; t < T; t++ {
			Commentf("out[%d] = horizontal sum of acc[%d][%d]", 4*r+t, r, t)
			sumZ(acc[r][t], Mem{Base: out, Disp: 4 * (4*r + t)})
		}
	}
	VZEROUPPER()
	RET()
}

// sumZ stores the sum of the 16 dwords of z (EVEX forms only, so any of the
// 32 registers may be used).
func sumZ(z VecVirtual, dst Mem) {
	y := YMM()
	VEXTRACTI64X4(U8(1), z, y)
	VPADDD(z.AsY(), y, y)
	x := XMM()
	VEXTRACTI32X4(U8(1), y, x)
	VPADDD(y.AsX(), x, x)
	x2 := XMM()
	VPSHUFD(U8(0x4e), x, x2)
	VPADDD(x2, x, x)
	VPSHUFD(U8(0xb1), x, x2)
	VPADDD(x2, x, x)
	VMOVD(x, dst)
}

// i2sAVX2 generates i2sDotAVX24x<T>: 4 rows against T tokens with AVX2.
// A block's 32 bytes give four registers of codes (shift 6, 4, 2, 0 and
// mask); vpmaddubsw multiplies codes (unsigned) by activations (signed) into
// int16 pairs, four of which are added (|sum| <= 4*2*2*128 fits int16)
// before vpmaddwd widens them into the int32 accumulator.
func i2sAVX2(T int) {
	TEXT(fmt.Sprintf("i2sDotAVX24x%d", T), NOSPLIT, "func(w *byte, q *int8, nb int, out *[16]int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("i2sDotAVX24x%d computes, with AVX2 and T = %d:", T, T) + i2sDoc)
	w := Load(Param("w"), GP64())
	q := Load(Param("q"), GP64())
	nb := Load(Param("nb"), GP64())
	rs := GP64()
	MOVQ(nb, rs)
	SHLQ(U8(5), rs)
	rs3 := times3(rs)
	ts := GP64()
	MOVQ(nb, ts)
	SHLQ(U8(7), ts)

	pf := GP64()
	LEAQ(Mem{Base: w, Index: rs, Scale: 4}, pf)
	m3, ones := YMM(), YMM()
	VMOVDQU(mask03, m3)
	VMOVDQU(ones16, ones)
	var acc [4][2]VecVirtual
	for r := 0; r < 4; r++ {
		for t := 0; t < T; t++ {
			acc[r][t] = YMM()
			VPXOR(acc[r][t], acc[r][t], acc[r][t])
		}
	}

	Label("block")
	PREFETCHT1(Mem{Base: pf})
	PREFETCHT1(Mem{Base: pf, Disp: 64})
	ADDQ(U32(4*blockBytes), pf)
	for r := 0; r < 4; r++ {
		Commentf("row %d: c[g] = codes of group g", r)
		var c [4]VecVirtual
		for g := range c {
			c[g] = YMM()
		}
		VMOVDQU(strided(w, rs, rs3, r, 0), c[3])
		for g := 0; g < 3; g++ {
			VPSRLW(U8(6-2*g), c[3], c[g])
			VPAND(m3, c[g], c[g])
		}
		VPAND(m3, c[3], c[3])
		for t := 0; t < T; t++ {
			p, x := YMM(), YMM()
			for g := 0; g < 4; g++ {
				a := Mem{Base: q, Disp: 32 * g}
				if t == 1 {
					a = Mem{Base: q, Index: ts, Scale: 1, Disp: 32 * g}
				}
				if g == 0 {
					VPMADDUBSW(a, c[g], p)
					continue
				}
				VPMADDUBSW(a, c[g], x)
				VPADDW(x, p, p)
			}
			VPMADDWD(ones, p, p)
			VPADDD(p, acc[r][t], acc[r][t])
		}
	}
	ADDQ(U8(blockBytes), w)
	ADDQ(U32(blockCodes), q)
	DECQ(nb)
	JNZ(LabelRef("block"))

	out := Load(Param("out"), GP64())
	for r := 0; r < 4; r++ {
		for t := 0; t < T; t++ {
			Commentf("out[%d] = horizontal sum of acc[%d][%d]", 4*r+t, r, t)
			y := acc[r][t]
			x := XMM()
			VEXTRACTI128(U8(1), y, x)
			VPADDD(y.AsX(), x, x)
			x2 := XMM()
			VPSHUFD(U8(0x4e), x, x2)
			VPADDD(x2, x, x)
			VPSHUFD(U8(0xb1), x, x2)
			VPADDD(x2, x, x)
			VMOVD(x, Mem{Base: out, Disp: 4 * (4*r + t)})
		}
	}
	VZEROUPPER()
	RET()
}
