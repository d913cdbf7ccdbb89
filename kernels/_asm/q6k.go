package main

import (
	"github.com/mmcloughlin/avo/ir"

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

var mask0f, mask30 Mem

func q6kConsts() {
	mask0f = GLOBL("q6k_mask0f", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(0x0f))
	}
	mask30 = GLOBL("q6k_mask30", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(0x30))
	}
}

// vpdpwssd emits VPDPWSSD src2, src1, dst: each dword of dst gains the two
// products of the signed words of src1 and src2 (avo 0.5 has no builder).
func vpdpwssd(src2 Op, src1, dst Register) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPWSSD",
		Operands: []Op{src2, src1, dst},
		Inputs:   []Op{src2, src1, dst},
		Outputs:  []Op{dst},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// Constants of the VNNI Q6_K kernel.
var (
	q6kSllv  Mem // 32 words: 4 (groups 0), then 2 (group 1): qh bits to bits 4-5
	q6kSrlv  Mem // 32 words: 0 (group 2), then 2 (group 3)
	q6kScIdx Mem // 4×32 words: vpermw indices spreading scales 4u..4u+3 over 8 words each
	mask0f64 Mem // 64 bytes of 0x0f
	mask3064 Mem // 64 bytes of 0x30
)

func q6kVNNIConsts() {
	words := func(name string, f func(i int) int) Mem {
		m := GLOBL(name, RODATA|NOPTR)
		for i := 0; i < 32; i++ {
			DATA(2*i, U16(f(i)))
		}
		return m
	}
	q6kSllv = words("q6k_sllv", func(i int) int { return 4 - 2*(i/16) })
	q6kSrlv = words("q6k_srlv", func(i int) int { return 2 * (i / 16) })
	q6kScIdx = GLOBL("q6k_scidx", RODATA|NOPTR)
	for u := 0; u < 4; u++ {
		for j := 0; j < 32; j++ {
			DATA(64*u+2*j, U16(4*u+j/8))
		}
	}
	bytes := func(name string, v byte) Mem {
		m := GLOBL(name, RODATA|NOPTR)
		for i := 0; i < 64; i++ {
			DATA(i, U8(v))
		}
		return m
	}
	mask0f64 = bytes("q6k_mask0f64", 0x0f)
	mask3064 = bytes("q6k_mask3064", 0x30)
}

// denseQ6KVNNI generates the integer Q6_K dot product of 4 rows with one
// token of block-quantized activations, with AVX-512 VNNI. Per super-block
// and half h of 128 weights, one 64-byte load of ql gives the low nibbles
// of groups 0|1 (and, shifted, 2|3) in the order of the activations; qh is
// broadcast to both 256-bit halves and shifted by a different count in each
// to supply the high pairs. Codes stay unsigned (q+32): vpmaddubsw pairs
// them with the activations into words, vpdpwssd multiplies the words by
// the sub-block scales (spread by vpermw) into dwords, and the +32 is taken
// back as 32·Σ scale·bsum. The four rows' integer sums are then scaled in
// float32 in the lanes of one xmm, each operation rounded as in the
// reference.
func denseQ6KVNNI() {
	TEXT("denseQ6KVNNI4", NOSPLIT, "func(w *byte, stride int, q *int8, d *float32, bs *int16, nsb int, out *[4]float32)")
	Pragma("noescape")
	Doc(`denseQ6KVNNI4 computes, for four Q6_K rows stride bytes apart and one
// token quantized in blocks of 256 (q, d, bsum as blockActs), nsb super-blocks:
//
//	for r := 0; r < 4; r++ {
//		out[r] = q6KDotGeneric(w[r*stride:], q, d[:nsb])
//	}
//
// bit for bit (bs, the sums of 16 consecutive q, supplies the -32 of the codes).`)
	k := loadQ6KArgs()
	w, stride, stride3, q, bs := k.w, k.stride, k.stride3, k.q, k.bs

	m0f, m30, sll, srl := ZMM(), ZMM(), ZMM(), ZMM()
	VMOVDQU64(mask0f64, m0f)
	VMOVDQU64(mask3064, m30)
	VMOVDQU64(q6kSllv, sll)
	VMOVDQU64(q6kSrlv, srl)
	var idx [4]VecVirtual
	for u := range idx {
		idx[u] = ZMM()
		VMOVDQU64(q6kScIdx.Offset(64*u), idx[u])
	}
	facc := XMM()
	VXORPS(facc, facc, facc)

	k.superblock()
	Comment("a[u] = activations 64u..64u+63, bsum = the 16 sums of 16")
	var a [4]VecVirtual
	for u := range a {
		a[u] = ZMM()
		VMOVDQU64(Mem{Base: q, Disp: 64 * u}, a[u])
	}
	bsum := YMM()
	VMOVDQU(Mem{Base: bs}, bsum)
	var y [4]VecVirtual
	for r := 0; r < 4; r++ {
		Commentf("row %d", r)
		row := func(disp int) Mem { return strided(w, stride, stride3, r, disp) }
		acc, sc := ZMM(), ZMM()
		VPMOVSXBW(row(q6kSc), sc.AsY())
		Comment("acc = -32·Σ scale·bsum, then += Σ scale·Σ (q+32)·a")
		VPMADDWD(bsum, sc.AsY(), acc.AsY())
		VPSLLD(U8(5), acc.AsY(), acc.AsY())
		z := ZMM()
		VPXORD(z, z, z)
		VPSUBD(acc, z, acc)
		for h := 0; h < 2; h++ {
			ql, qh := ZMM(), ZMM()
			VMOVDQU64(row(64*h), ql)
			VBROADCASTI64X4(row(q6kQH+32*h), qh)
			for half := 0; half < 2; half++ {
				u, t := ZMM(), ZMM()
				if half == 0 {
					VPANDD(m0f, ql, u)
					VPSLLVW(sll, qh, t)
				} else {
					VPSRLW(U8(4), ql, u)
					VPANDD(m0f, u, u)
					VPSRLVW(srl, qh, t)
				}
				Comment("u |= t & 0x30")
				VPTERNLOGD(U8(0xf8), m30, t, u)
				p, s := ZMM(), ZMM()
				VPMADDUBSW(a[2*h+half], u, p)
				VPERMW(sc, idx[2*h+half], s)
				vpdpwssd(s, p, acc)
			}
		}
		y[r] = YMM()
		VEXTRACTI64X4(U8(1), acc, y[r])
		VPADDD(acc.AsY(), y[r], y[r])
	}
	Comment("isum = the four rows' integer sums in the lanes of one xmm (EVEX forms: any register)")
	var s2 [2]VecVirtual
	for i := range s2 {
		lo, hi := YMM(), YMM()
		VPUNPCKLDQ(y[2*i+1], y[2*i], lo)
		VPUNPCKHDQ(y[2*i+1], y[2*i], hi)
		s2[i] = YMM()
		VPADDD(hi, lo, s2[i])
	}
	lo, hi := YMM(), YMM()
	VPUNPCKLQDQ(s2[1], s2[0], lo)
	VPUNPCKHQDQ(s2[1], s2[0], hi)
	VPADDD(hi, lo, lo)
	isum := XMM()
	VEXTRACTI32X4(U8(1), lo, isum)
	VPADDD(lo.AsX(), isum, isum)
	VCVTDQ2PS(isum, isum)
	k.next(isum, facc)
}

var q6kPairShuf Mem // vpshufb mask: words 0 of a dword in the low lane, 1 in the high

func q6kAVX2Consts() {
	q6kPairShuf = GLOBL("q6k_pairshuf", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(i%2+2*(i/16)))
	}
}

// denseQ6KAVX2Int generates the integer Q6_K kernel of denseQ6KVNNI for
// AVX2, one row at a time: vpmaddubsw pairs the unsigned codes (q+32) with
// the activations, vpmaddwd multiplies the words by the scales of their
// sub-blocks (the scales of a group's two sub-blocks are spread over the
// low and high 128-bit lanes by one vpshufb), and 32·Σ scale·bsum is
// subtracted; the four rows' sums are then scaled in float32 together.
func denseQ6KAVX2Int() {
	TEXT("denseQ6KAVX24", NOSPLIT, "func(w *byte, stride int, q *int8, d *float32, bs *int16, nsb int, out *[4]float32)")
	Pragma("noescape")
	Doc(`denseQ6KAVX24 is denseQ6KVNNI4 with AVX2 only:
//
//	for r := 0; r < 4; r++ {
//		out[r] = q6KDotGeneric(w[r*stride:], q, d[:nsb])
//	}`)
	scbuf := AllocLocal(32)
	isbuf := AllocLocal(16)
	k := loadQ6KArgs()
	w, stride, stride3, q, bs := k.w, k.stride, k.stride3, k.q, k.bs
	m0f, m30, shuf := YMM(), YMM(), YMM()
	VMOVDQU(mask0f, m0f)
	VMOVDQU(mask30, m30)
	VMOVDQU(q6kPairShuf, shuf)
	facc := XMM()
	VXORPS(facc, facc, facc)

	k.superblock()
	for r := 0; r < 4; r++ {
		Commentf("row %d", r)
		row := func(disp int) Mem { return strided(w, stride, stride3, r, disp) }
		sc, acc := YMM(), YMM()
		VPMOVSXBW(row(q6kSc), sc)
		VMOVDQU(sc, scbuf)
		VPMADDWD(Mem{Base: bs}, sc, acc)
		VPSLLD(U8(5), acc, acc)
		z := YMM()
		VPXOR(z, z, z)
		VPSUBD(acc, z, acc)
		for h := 0; h < 2; h++ {
			ql0, ql1, qh := YMM(), YMM(), YMM()
			VMOVDQU(row(64*h), ql0)
			VMOVDQU(row(64*h+32), ql1)
			VMOVDQU(row(q6kQH+32*h), qh)
			for g := 0; g < 4; g++ {
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
				case 1:
					VPSLLW(U8(2), qh, hi)
				case 2:
					VMOVDQA(qh, hi)
				case 3:
					VPSRLW(U8(2), qh, hi)
				}
				VPAND(m30, hi, hi)
				VPOR(hi, lo, lo)
				Commentf("sv = scales %d (low lane) and %d (high lane) as words", 8*h+2*g, 8*h+2*g+1)
				sv := YMM()
				VPBROADCASTD(scbuf.Offset(2*(8*h+2*g)), sv)
				VPSHUFB(shuf, sv, sv)
				VPMADDUBSW(Mem{Base: q, Disp: 128*h + 32*g}, lo, lo)
				VPMADDWD(sv, lo, lo)
				VPADDD(lo, acc, acc)
			}
		}
		x, x2 := XMM(), XMM()
		VEXTRACTI128(U8(1), acc, x)
		VPADDD(acc.AsX(), x, x)
		VPSHUFD(U8(0x4e), x, x2)
		VPADDD(x2, x, x)
		VPSHUFD(U8(0xb1), x, x2)
		VPADDD(x2, x, x)
		VMOVD(x, isbuf.Offset(4*r))
	}
	isum := XMM()
	VCVTDQ2PS(isbuf, isum)
	k.next(isum, facc)
}

// q6kScale emits facc += float32(f16(d_w)·d_a) · isum for the four rows
// (lane r: row r's super-block scale d_w; d_a at d; isum already float32),
// each operation rounded as in q6KDotGeneric.
func q6kScale(w, stride, stride3, d Register, isum, facc VecVirtual) {
	Comment("facc += float32(f16(d_w)·d_a) · float32(isum), lane by lane")
	dw := XMM()
	VPXOR(dw, dw, dw)
	for r := 0; r < 4; r++ {
		VPINSRW(U8(r), strided(w, stride, stride3, r, q6kD), dw, dw)
	}
	VCVTPH2PS(dw, dw)
	da := XMM()
	VBROADCASTSS(Mem{Base: d}, da)
	VMULPS(da, dw, dw)
	VMULPS(isum, dw, dw)
	VADDPS(dw, facc, facc)
}

// q6kArgs are the registers of the Q6_K kernels' common signature.
type q6kArgs struct {
	w, stride, stride3, q, d, bs, nsb, pf Register
}

// loadQ6KArgs loads the arguments; pf starts at the next call's 4 rows.
func loadQ6KArgs() q6kArgs {
	var k q6kArgs
	k.w = Load(Param("w"), GP64())
	k.stride = Load(Param("stride"), GP64())
	k.stride3 = times3(k.stride)
	k.q = Load(Param("q"), GP64())
	k.d = Load(Param("d"), GP64())
	k.bs = Load(Param("bs"), GP64())
	k.nsb = Load(Param("nsb"), GP64())
	k.pf = GP64()
	LEAQ(Mem{Base: k.w, Index: k.stride, Scale: 4}, k.pf)
	return k
}

// superblock opens the loop over super-blocks, prefetching into L2 the
// same super-block of the next call's rows.
func (k q6kArgs) superblock() {
	Label("superblock")
	for l := 0; l < 4*q6kBytes; l += 64 {
		PREFETCHT1(Mem{Base: k.pf, Disp: l})
	}
	ADDQ(U32(4*q6kBytes), k.pf)
}

// next adds the super-block's scaled sums (isum, float32, lane r = row r)
// to facc, advances to the next super-block and loops, then stores facc
// to out and returns.
func (k q6kArgs) next(isum, facc VecVirtual) {
	q6kScale(k.w, k.stride, k.stride3, k.d, isum, facc)
	ADDQ(U32(q6kBytes), k.w)
	ADDQ(U32(256), k.q)
	ADDQ(U8(4), k.d)
	ADDQ(U8(32), k.bs)
	DECQ(k.nsb)
	JNZ(LabelRef("superblock"))
	out := Load(Param("out"), GP64())
	VMOVUPS(facc, Mem{Base: out})
	VZEROUPPER()
	RET()
}
