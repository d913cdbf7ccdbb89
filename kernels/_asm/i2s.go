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
//	for t := 0; t < T; t++ {
//		for r := 0; r < 4; r++ {
//			var s int32
//			for k := 0; k < 128*nb; k++ {
//				s += int32(code(w[r*32*nb:], k)) * int32(q[t*128*nb+k])
//			}
//			o[t*os/4+r] = float32(s-qs[t]) / as[t] * ws
//		}
//	}
//
// where code(row, k) is the 2-bit code k of an I2_S row that starts at a
// block boundary: row[k/128*32+k%32] >> (6-2*(k%128/32)) & 3; qs and as
// must hold 4 readable entries. The store is i2sStore's: the exact integer
// sum minus Σq, divided by the token's scale, times the matrix scale, each
// rounded in float32.`

// i2sSignature is the Go signature of every 4-row I2_S kernel: weights,
// activations, blocks per row, then the output of token 0 row 0, the bytes
// between tokens' outputs, and the tokens' Σq, scales and the matrix scale.
const i2sSignature = "func(w *byte, q *int8, nb int, o *float32, os int, qs *int32, as *float32, ws float32)"

// i2sKernelArgs are the registers every 4-row I2_S kernel starts with.
type i2sKernelArgs struct {
	w, q, nb Register // the arguments
	rs, rs3  Register // bytes per row, and 3 times that
	ts       Register // bytes per token
	pf       Register // the next 4 rows, for prefetch
}

// i2sArgs loads the weight, activation and block-count arguments and
// derives the row and token strides and the prefetch pointer.
func i2sArgs() i2sKernelArgs {
	var a i2sKernelArgs
	a.w = Load(Param("w"), GP64())
	a.q = Load(Param("q"), GP64())
	a.nb = Load(Param("nb"), GP64())
	Comment("rs = bytes per row, ts = bytes per token")
	a.rs = GP64()
	MOVQ(a.nb, a.rs)
	SHLQ(U8(5), a.rs)
	a.rs3 = times3(a.rs)
	a.ts = GP64()
	MOVQ(a.nb, a.ts)
	SHLQ(U8(7), a.ts)
	Comment("pf runs over the next 4 rows, 128 bytes per block, to prefetch them into L2 (T1 measured 20 % faster decode than T0, which crowds L1)")
	a.pf = GP64()
	LEAQ(Mem{Base: a.w, Index: a.rs, Scale: 4}, a.pf)
	return a
}

// prefetch requests this block's 128 bytes of the next 4 rows into L2 and
// advances pf; it starts each block of the loop.
func (a i2sKernelArgs) prefetch() {
	PREFETCHT1(Mem{Base: a.pf})
	PREFETCHT1(Mem{Base: a.pf, Disp: 64})
	ADDQ(U32(4*blockBytes), a.pf)
}

// i2sVNNI generates i2sDotVNNI4x<T> for T = 2..4 (i2sVNNIDecode makes the
// T = 1 kernel): 4 rows against T tokens with AVX-512 VNNI. Each 32-byte
// block is broadcast to both halves of a zmm; one variable word shift by
// (6 | 4) and a mask give the codes of groups 0 and 1, which line up with
// the 64 activations q[128b:128b+64] in their natural order; (2 | 0) gives
// groups 2 and 3 against q[128b+64:128b+128]. The unpacked block is used
// for all T tokens.
//
// With unpacked, it generates i2sDotVNNIU4x4 instead, which loads the codes
// i2sUnpackVNNI made (w points at them; row r's block b at
// w[128*(r*nb+b):], so rows are as many bytes apart as tokens).
func i2sVNNI(T int, unpacked bool) {
	name := fmt.Sprintf("i2sDotVNNI4x%d", T)
	doc := fmt.Sprintf("%s computes, with AVX-512 VNNI and T = %d:", name, T) + i2sDoc
	if unpacked {
		name = fmt.Sprintf("i2sDotVNNIU4x%d", T)
		doc = fmt.Sprintf(`%s computes, with AVX-512 VNNI, what i2sDotVNNI4x%d computes on
// the packed rows, from the codes i2sUnpackVNNI made of them.`, name, T)
	}
	TEXT(name, NOSPLIT, i2sSignature)
	Pragma("noescape")
	Doc(doc)
	a := i2sArgs()
	w, q, nb, rs, rs3, ts := a.w, a.q, a.nb, a.rs, a.rs3, a.ts
	ts3 := times3(ts)
	var s01, s23, m3 VecVirtual
	if unpacked {
		rs, rs3 = ts, ts3
	} else {
		s01, s23, m3 = ZMM(), ZMM(), ZMM()
		VMOVDQU64(srlv01, s01)
		VMOVDQU64(srlv23, s23)
		VBROADCASTI64X4(mask03, m3)
	}
	var acc [4][4]VecVirtual
	for r := 0; r < 4; r++ {
		for t := 0; t < T; t++ {
			acc[r][t] = ZMM()
			VPXORD(acc[r][t], acc[r][t], acc[r][t])
		}
	}

	Label("block")
	if !unpacked {
		a.prefetch()
	}
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
		c01, c23 := ZMM(), ZMM()
		if unpacked {
			VMOVDQU64(strided(w, rs, rs3, r, 0), c01)
			VMOVDQU64(strided(w, rs, rs3, r, 64), c23)
		} else {
			b := ZMM()
			VBROADCASTI64X4(strided(w, rs, rs3, r, 0), b)
			VPSRLVW(s01, b, c01)
			VPANDD(m3, c01, c01)
			VPSRLVW(s23, b, c23)
			VPANDD(m3, c23, c23)
		}
		for t := 0; t < T; t++ {
			vpdpbusd(act[t][0], c01, acc[r][t])
			vpdpbusd(act[t][1], c23, acc[r][t])
		}
	}
	if unpacked {
		ADDQ(U32(blockCodes), w)
	} else {
		ADDQ(U8(blockBytes), w)
	}
	ADDQ(U32(blockCodes), q)
	DECQ(nb)
	JNZ(LabelRef("block"))

	var srcs [16]VecVirtual
	for t := 0; t < T; t++ {
		for r := 0; r < 4; r++ {
			srcs[4*t+r] = acc[r][t]
		}
	}
	i2sStoreSums(reduceLanes(srcs[:], ZMM), T, ZMM)
	VZEROUPPER()
	RET()
}

// i2sVNNIDecode generates i2sDotVNNI4x1, the decode kernel. It reads its 4
// rows one after another, one sequential stream from DRAM with a prefetch
// 8 KiB ahead (4 rows side by side with a prefetch of the next 4 measured
// 10 % slower on huge pages), and it unpacks without shifts: a mask keeps
// each group's code in place, so group 0 (bits 7-6) reaches VPDPBUSD as
// 64·code, group 1 as 16·code, group 2 as 4·code and group 3 as code.
// Groups 0|1 and 2|3 accumulate apart (acc01, acc23), so every dword lane
// of an accumulator holds one power of 4 times an exact sum, and an
// arithmetic shift per lane divides it out exactly after the loop. A block
// costs two ANDs and two VPDPBUSD instead of two more variable shifts,
// which run on one port only. |64·2·Σq| over a lane stays far below 2³¹
// for any K up to 2²⁰.
//
// Even and odd blocks accumulate apart too: one chain of VPDPBUSD (5
// cycles of latency each) per 32 bytes caps a core at 6.4 bytes a cycle,
// about 17 GB/s at 2.6 GHz, which is a core's share of DRAM bandwidth on a
// 2-vCPU machine; two chains lift the cap well above it. The activations
// are VPDPBUSD's memory operand (the signed one), which saves their loads.
func i2sVNNIDecode() {
	TEXT("i2sDotVNNI4x1", NOSPLIT, i2sSignature)
	Pragma("noescape")
	Doc("i2sDotVNNI4x1 computes, with AVX-512 VNNI and T = 1:" + i2sDoc)
	w := Load(Param("w"), GP64())
	q := Load(Param("q"), GP64())
	nb := Load(Param("nb"), GP64())
	m01, m23 := ZMM(), ZMM()
	VMOVDQU64(mask01, m01)
	VMOVDQU64(mask23, m23)
	var acc01, acc23 [4]VecVirtual
	for r := 0; r < 4; r++ {
		acc01[r], acc23[r] = ZMM(), ZMM()
		VPXORD(acc01[r], acc01[r], acc01[r])
		VPXORD(acc23[r], acc23[r], acc23[r])
	}
	// block accumulates one block at w against the activations at qp.
	block := func(w, qp Register, disp int, a01, a23 VecVirtual) {
		b, c01, c23 := ZMM(), ZMM(), ZMM()
		VBROADCASTI64X4(Mem{Base: w, Disp: disp * blockBytes}, b)
		VPANDD(m01, b, c01)
		VPANDD(m23, b, c23)
		vpdpbusd(Mem{Base: qp, Disp: disp * blockCodes}, c01, a01)
		vpdpbusd(Mem{Base: qp, Disp: disp*blockCodes + 64}, c23, a23)
	}

	Comment("the rows are contiguous: w runs over all four")
	for r := 0; r < 4; r++ {
		Commentf("row %d: an odd block first, then pairs into a second pair of accumulators", r)
		n, qp := GP64(), GP64()
		MOVQ(nb, n)
		MOVQ(q, qp)
		pairs, done := fmt.Sprintf("pairs%d", r), fmt.Sprintf("done%d", r)
		b01, b23 := ZMM(), ZMM()
		VPXORD(b01, b01, b01)
		VPXORD(b23, b23, b23)
		SHRQ(U8(1), n)
		JCC(LabelRef(pairs)) // carry clear: nb is even
		block(w, qp, 0, acc01[r], acc23[r])
		ADDQ(U8(blockBytes), w)
		ADDQ(U32(blockCodes), qp)
		Label(pairs)
		TESTQ(n, n)
		JZ(LabelRef(done))
		Label(pairs + "loop")
		PREFETCHT1(Mem{Base: w, Disp: 8192})
		block(w, qp, 0, acc01[r], acc23[r])
		block(w, qp, 1, b01, b23)
		ADDQ(U8(2*blockBytes), w)
		ADDQ(U32(2*blockCodes), qp)
		DECQ(n)
		JNZ(LabelRef(pairs + "loop"))
		Label(done)
		VPADDD(b01, acc01[r], acc01[r])
		VPADDD(b23, acc23[r], acc23[r])
	}
	Comment("divide out the powers of 4 (exact) and add the two halves of each row")
	sh01, sh23 := ZMM(), ZMM()
	VMOVDQU64(sra01, sh01)
	VMOVDQU64(sra23, sh23)
	var srcs [16]VecVirtual
	for r := 0; r < 4; r++ {
		VPSRAVD(sh01, acc01[r], acc01[r])
		VPSRAVD(sh23, acc23[r], acc23[r])
		VPADDD(acc23[r], acc01[r], acc01[r])
		srcs[r] = acc01[r]
	}
	i2sStoreSums(reduceLanes(srcs[:], ZMM), 1, ZMM)
	VZEROUPPER()
	RET()
}

// i2sUnpackVNNI generates the unpacking of 4 contiguous I2_S rows into
// the code bytes the 4-row VNNI kernels feed VPDPBUSD, 128 per block: codes
// of groups 0|1, then 2|3, as i2sVNNI makes them. A batch of many tokens
// unpacks each group of rows once into an L1-resident buffer and runs
// i2sDotVNNIU4x4 on it for every 4 tokens, which loads the codes instead
// of shifting and masking them again for each 4 tokens: a third fewer
// vector instructions per block.
func i2sUnpackVNNI() {
	TEXT("i2sUnpackVNNI", NOSPLIT, "func(dst *byte, w *byte, nb int)")
	Pragma("noescape")
	Doc(`i2sUnpackVNNI writes, for the 4*nb blocks of 4 contiguous rows of nb
// blocks each (block i at w[32*i:]),
//
//	for i := 0; i < 4*nb; i++ {
//		for j := 0; j < 128; j++ {
//			g := j / 32 // dst[128i+j] = code(w[32*i:], j)
//			dst[128*i+j] = w[32*i+j%32] >> (6 - 2*g) & 3
//		}
//	}`)
	dst := Load(Param("dst"), GP64())
	w := Load(Param("w"), GP64())
	n := Load(Param("nb"), GP64())
	SHLQ(U8(2), n)
	s01, s23, m3 := ZMM(), ZMM(), ZMM()
	VMOVDQU64(srlv01, s01)
	VMOVDQU64(srlv23, s23)
	VBROADCASTI64X4(mask03, m3)
	Label("block")
	b, c01, c23 := ZMM(), ZMM(), ZMM()
	VBROADCASTI64X4(Mem{Base: w}, b)
	VPSRLVW(s01, b, c01)
	VPANDD(m3, c01, c01)
	VPSRLVW(s23, b, c23)
	VPANDD(m3, c23, c23)
	VMOVDQU64(c01, Mem{Base: dst})
	VMOVDQU64(c23, Mem{Base: dst, Disp: 64})
	ADDQ(U8(blockBytes), w)
	ADDQ(U32(4*blockBytes), dst)
	DECQ(n)
	JNZ(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// i2sAVX2 generates i2sDotAVX24x<T>: 4 rows against T tokens with AVX2.
// A block's 32 bytes give four registers of codes (shift 6, 4, 2, 0 and
// mask); vpmaddubsw multiplies codes (unsigned) by activations (signed) into
// int16 pairs, four of which are added (|sum| <= 4*2*2*128 fits int16)
// before vpmaddwd widens them into the int32 accumulator.
func i2sAVX2(T int) {
	TEXT(fmt.Sprintf("i2sDotAVX24x%d", T), NOSPLIT, i2sSignature)
	Pragma("noescape")
	Doc(fmt.Sprintf("i2sDotAVX24x%d computes, with AVX2 and T = %d:", T, T) + i2sDoc)
	a := i2sArgs()
	w, q, nb, rs, rs3, ts := a.w, a.q, a.nb, a.rs, a.rs3, a.ts
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
	a.prefetch()
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

	var srcs [8]VecVirtual
	for t := 0; t < T; t++ {
		for r := 0; r < 4; r++ {
			srcs[4*t+r] = acc[r][t]
		}
	}
	i2sStoreSums(reduceLanes(srcs[:], YMM), T, YMM)
	VZEROUPPER()
	RET()
}

// reduceLanes returns a register whose dword lane i is the sum of the
// lanes of srcs[i] (len(srcs) is the lane count: 8 for ymm, 16 for zmm; a
// nil source counts as zero). Integer sums are exact, so any order is the
// reference's. Unpacking dwords, then qwords, pairs the sources so each
// 128-bit lane holds partial sums of four sources in order; whole 128-bit
// lanes are then exchanged and added until lane group g holds sources
// 4g..4g+3 in full.
func reduceLanes(srcs []VecVirtual, vec func() VecVirtual) VecVirtual {
	var zero VecVirtual
	orZero := func(v VecVirtual) VecVirtual {
		if v != nil {
			return v
		}
		if zero == nil {
			zero = vec()
			if zero.Size() == 64 {
				VPXORD(zero, zero, zero)
			} else {
				VPXOR(zero, zero, zero)
			}
		}
		return zero
	}
	// pair combines two sources (or partial results) with the two halves
	// of an interleave and returns their sum.
	pair := func(a, b VecVirtual, split func(a, b, lo, hi VecVirtual)) VecVirtual {
		if a == nil && b == nil {
			return nil
		}
		lo, hi := vec(), vec()
		split(orZero(a), orZero(b), lo, hi)
		VPADDD(hi, lo, lo)
		return lo
	}
	level := func(in []VecVirtual, split func(a, b, lo, hi VecVirtual)) []VecVirtual {
		out := make([]VecVirtual, len(in)/2)
		for i := range out {
			out[i] = pair(in[2*i], in[2*i+1], split)
		}
		return out
	}
	v := level(srcs, func(a, b, lo, hi VecVirtual) {
		VPUNPCKLDQ(b, a, lo)
		VPUNPCKHDQ(b, a, hi)
	})
	v = level(v, func(a, b, lo, hi VecVirtual) {
		VPUNPCKLQDQ(b, a, lo)
		VPUNPCKHQDQ(b, a, hi)
	})
	if len(srcs) == 8 {
		// [a0 a1] [b0 b1] (128-bit lanes) -> [a0 b0] + [a1 b1]
		v = level(v, func(a, b, lo, hi VecVirtual) {
			VPERM2I128(U8(0x20), b, a, lo)
			VPERM2I128(U8(0x31), b, a, hi)
		})
		return v[0]
	}
	// [a0 a1 a2 a3] [b0 b1 b2 b3] -> [a0 a2 b0 b2] + [a1 a3 b1 b3], twice
	for len(v) > 1 {
		v = level(v, func(a, b, lo, hi VecVirtual) {
			VSHUFI32X4(U8(0x88), b, a, lo)
			VSHUFI32X4(U8(0xdd), b, a, hi)
		})
	}
	return v[0]
}

// i2sStoreSums finishes an I2_S kernel: s holds the sum of token t, row r
// in dword lane 4t+r; each token's four rows are scaled as i2sStore does
// and stored at o + t*os.
func i2sStoreSums(s VecVirtual, T int, vec func() VecVirtual) {
	o := Load(Param("o"), GP64())
	qs := Load(Param("qs"), GP64())
	as := Load(Param("as"), GP64())
	idx, q, a, w := vec(), vec(), vec(), vec()
	Comment("lanes 4t..4t+3 of q and a = qs[t] and as[t]")
	if s.Size() == 64 {
		VMOVDQU32(tokenLanes, idx)
		VBROADCASTI32X4(Mem{Base: qs}, q)
		VBROADCASTI32X4(Mem{Base: as}, a)
	} else {
		VMOVDQU(tokenLanes, idx)
		VBROADCASTI128(Mem{Base: qs}, q)
		VBROADCASTI128(Mem{Base: as}, a)
	}
	VPERMD(q, idx, q)
	VPERMD(a, idx, a)
	VBROADCASTSS(paramAddr("ws"), w)
	VPSUBD(q, s, s)
	VCVTDQ2PS(s, s)
	VDIVPS(a, s, s)
	VMULPS(w, s, s)
	x := XMM()
	var os Register
	if T > 1 {
		os = Load(Param("os"), GP64())
	}
	for t := 0; t < T; t++ {
		Commentf("token %d: o[%d*os:][:4]", t, t)
		if t > 0 {
			ADDQ(os, o)
		}
		switch {
		case t == 0:
			VMOVUPS(s.AsX(), Mem{Base: o})
			continue
		case s.Size() == 64:
			VEXTRACTF32X4(U8(t), s, x)
		default:
			VEXTRACTF128(U8(t), s, x)
		}
		VMOVUPS(x, Mem{Base: o})
	}
}
