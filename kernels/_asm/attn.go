package main

import (
	"fmt"
	"math"
	"math/bits"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// weightedSum generates the attention's value sum for one head:
// o[d] = Σ_p w[p]*v[p][d] with fused multiply-adds, in position order. Each
// column's sum is one chain of dependent FMAs, so a pass over the positions
// takes the FMA latency per position whatever its width: the AVX-512 kernel
// covers 64 columns (four zmm) per pass, the AVX2 one 32 (four ymm).
func weightedSum(name string, vec func() VecVirtual) {
	a := vec() // w[p] in every lane
	lanes := int(a.Size()) / 4
	cols := 4 * lanes
	TEXT(name, NOSPLIT, "func(o *float32, v *float32, stride int, w *float32, nPos int, hd int)")
	Pragma("noescape")
	Doc(fmt.Sprintf(`%s computes, for hd a multiple of %d and nPos > 0 (stride
// in bytes between the rows of v):
//
//	for d := 0; d < hd; d++ {
//		var s float32
//		for p := 0; p < nPos; p++ {
//			s = fma32(w[p], v[p*stride/4+d], s)
//		}
//		o[d] = s
//	}`, name, cols))
	o := Load(Param("o"), GP64())
	v := Load(Param("v"), GP64())
	stride := Load(Param("stride"), GP64())
	hd := Load(Param("hd"), GP64())
	SHRQ(U8(bits.TrailingZeros(uint(cols))), hd)
	Label("columns")
	wp := Load(Param("w"), GP64())
	n := Load(Param("nPos"), GP64())
	row := GP64()
	MOVQ(v, row)
	var acc [4]VecVirtual
	for l := range acc {
		acc[l] = vec()
		VXORPS(acc[l], acc[l], acc[l])
	}
	Label("position")
	VBROADCASTSS(Mem{Base: wp}, a)
	for l := range acc {
		VFMADD231PS(Mem{Base: row, Disp: 4 * lanes * l}, a, acc[l])
	}
	ADDQ(stride, row)
	ADDQ(U8(4), wp)
	DECQ(n)
	JNZ(LabelRef("position"))
	for l := range acc {
		VMOVUPS(acc[l], Mem{Base: o, Disp: 4 * lanes * l})
	}
	ADDQ(U32(4*cols), o)
	ADDQ(U32(4*cols), v)
	DECQ(hd)
	JNZ(LabelRef("columns"))
	VZEROUPPER()
	RET()
}

// siluMulAVX2 generates dst = silu(gate)*up for n a multiple of 8 with the
// float32 exponential of expf32 (package kernels): every step is an IEEE
// operation rounded on its own, so the lanes equal the Go reference.
func siluMulAVX2() {
	r := elemKernel("siluMulAVX2", "func(dst *float32, gate *float32, up *float32, n int)",
		`siluMulAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		dst[i] = float32(gate[i]/float32(1+expf32(-gate[i]))) * up[i]
//	}`,
		"dst", "gate", "up", "n")
	dst, gate, up, n := r[0], r[1], r[2], r[3]
	k := func(i int) Mem { return siluK.Offset(32 * i) }
	elemLoop(n, func(off Register) {
		g, x := YMM(), YMM()
		VMOVUPS(Mem{Base: gate, Index: off, Scale: 1}, g)
		VXORPS(k(7), g, x)
		p := expf32Vec(x, k)
		VADDPS(k(5), p, p)
		VDIVPS(p, g, g)
		VMULPS(Mem{Base: up, Index: off, Scale: 1}, g, g)
		VMOVUPS(g, Mem{Base: dst, Index: off, Scale: 1})
	})
}

// siluK: 8-lane vectors of the clamp low and high, log2(e), ln2 high and
// low parts, 1, the exponent bias, the sign bit, then the Taylor
// coefficients 1/720 .. 1 (full vectors, so they serve as memory operands).
var siluK Mem

func siluConsts() {
	siluK = GLOBL("silu_k", RODATA|NOPTR)
	vec := func(i int, c Constant) {
		for l := 0; l < 8; l++ {
			DATA(32*i+4*l, c)
		}
	}
	// Float constants as their bits: the assembler's float DATA is not
	// relied on for exact float32 values.
	f32 := func(v float32) Constant { return U32(math.Float32bits(v)) }
	for i, v := range []float32{-87, 88, 1.44269504088896341, 0.693145751953125, 1.42860682030941723e-06, 1} {
		vec(i, f32(v))
	}
	vec(6, U32(127))
	vec(7, U32(0x80000000))
	for i, v := range []float32{1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1, 1} {
		vec(8+i, f32(v))
	}
}

// expf32Vec emits e^x for the 8 lanes of x (clobbered) as expf32 computes
// it, every operation rounded on its own; k(i) addresses siluK's vectors.
func expf32Vec(x VecVirtual, k func(i int) Mem) VecVirtual {
	VMAXPS(k(0), x, x)
	VMINPS(k(1), x, x)
	nn, t := YMM(), YMM()
	VMULPS(k(2), x, nn)
	VROUNDPS(U8(0), nn, nn)
	VMULPS(k(3), nn, t)
	VSUBPS(t, x, x)
	VMULPS(k(4), nn, t)
	VSUBPS(t, x, x)
	Comment("p = Horner of the Taylor series to r^6/720, each step rounded")
	p := YMM()
	VMOVUPS(k(8), p)
	for i := 1; i < 7; i++ {
		VMULPS(x, p, p)
		VADDPS(k(8+i), p, p)
	}
	Comment("e = p * 2^n")
	VCVTPS2DQ(nn, nn)
	VPADDD(k(6), nn, nn)
	VPSLLD(U8(23), nn, nn)
	VMULPS(nn, p, p)
	return p
}

// expSubAVX2 generates x[i] = expf32(x[i]-m), the exponentials of the
// attention softmax.
func expSubAVX2() {
	r := elemKernel("expSubAVX2", "func(x *float32, m float32, n int)",
		`expSubAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		x[i] = expf32(x[i] - m)
//	}`,
		"x", "n")
	xp, n := r[0], r[1]
	m := YMM()
	VBROADCASTSS(paramAddr("m"), m)
	k := func(i int) Mem { return siluK.Offset(32 * i) }
	elemLoop(n, func(off Register) {
		x := YMM()
		VMOVUPS(Mem{Base: xp, Index: off, Scale: 1}, x)
		VSUBPS(m, x, x)
		p := expf32Vec(x, k)
		VMOVUPS(p, Mem{Base: xp, Index: off, Scale: 1})
	})
}

// scoresAVX512 generates the attention scores of 8 positions per pass:
// each position's 32-lane dot product (two zmm: lanes 0-15, 16-31) as the
// F32 dense kernels compute it, then dotReduce for all 8 at once with a
// transposing tree instead of one horizontal reduction per position. Every
// addition is one of dotReduce's pairs (i+16, i+8, i+4, i+2, i+1), so the
// scores are bit-identical; lane shuffles only move values.
func scoresAVX512() {
	TEXT("scoresF32AVX512", NOSPLIT, "func(out *float32, k *float32, stride int, q *float32, ng int, nb int, scale float32)")
	Pragma("noescape")
	Doc(`scoresF32AVX512 computes, for 8*nb positions of keys stride bytes apart
// and a query of 32*ng floats:
//
//	for p := 0; p < 8*nb; p++ {
//		var acc [32]float32
//		for i := 0; i < 32*ng; i++ {
//			acc[i%32] = fma32(k[p*stride/4+i], q[i], acc[i%32])
//		}
//		out[p] = dotReduce(&acc) * scale
//	}`)
	out := Load(Param("out"), GP64())
	kp := Load(Param("k"), GP64())
	stride := Load(Param("stride"), GP64())
	stride3 := times3(stride)
	q := Load(Param("q"), GP64())
	nb := Load(Param("nb"), GP64())
	idx, sc := ZMM(), ZMM()
	VMOVDQU32(scorePerm, idx)
	VBROADCASTSS(paramAddr("scale"), sc)

	Label("block")
	g := Load(Param("ng"), GP64())
	qq, k0, k4 := GP64(), GP64(), GP64()
	MOVQ(q, qq)
	MOVQ(kp, k0)
	LEAQ(Mem{Base: kp, Index: stride, Scale: 4}, k4)
	var a, b [8]VecVirtual
	for p := range a {
		a[p], b[p] = ZMM(), ZMM()
		VPXORD(a[p], a[p], a[p])
		VPXORD(b[p], b[p], b[p])
	}
	Label("group")
	qlo, qhi := ZMM(), ZMM()
	VMOVUPS(Mem{Base: qq}, qlo)
	VMOVUPS(Mem{Base: qq, Disp: 64}, qhi)
	for p := 0; p < 8; p++ {
		base := k0
		if p >= 4 {
			base = k4
		}
		VFMADD231PS(strided(base, stride, stride3, p%4, 0), qlo, a[p])
		VFMADD231PS(strided(base, stride, stride3, p%4, 64), qhi, b[p])
	}
	ADDQ(U8(128), qq)
	ADDQ(U8(128), k0)
	ADDQ(U8(128), k4)
	DECQ(g)
	JNZ(LabelRef("group"))

	Comment("lane i + lane i+16")
	for p := range a {
		VADDPS(b[p], a[p], a[p])
	}
	Comment("i + i+8: position pairs share a register, 8 lanes each")
	var v [4]VecVirtual
	for j := range v {
		v[j] = ZMM()
		hi := ZMM()
		VSHUFF32X4(U8(0x44), a[2*j+1], a[2*j], v[j])
		VSHUFF32X4(U8(0xee), a[2*j+1], a[2*j], hi)
		VADDPS(hi, v[j], v[j])
	}
	Comment("i + i+4: 128-bit lane c of u[m] holds position 4m+c")
	var u [2]VecVirtual
	for m := range u {
		u[m] = ZMM()
		hi := ZMM()
		VSHUFF32X4(U8(0x88), v[2*m+1], v[2*m], u[m])
		VSHUFF32X4(U8(0xdd), v[2*m+1], v[2*m], hi)
		VADDPS(hi, u[m], u[m])
	}
	Comment("i + i+2: lane c holds positions c and 4+c, two lanes each")
	x, hi := ZMM(), ZMM()
	VUNPCKLPD(u[1], u[0], x)
	VUNPCKHPD(u[1], u[0], hi)
	VADDPS(hi, x, x)
	Comment("i + i+1: dword 4c holds position c, 4c+1 position 4+c")
	lo := ZMM()
	VSHUFPS(U8(0x88), x, x, lo)
	VSHUFPS(U8(0xdd), x, x, hi)
	VADDPS(hi, lo, lo)
	VPERMPS(lo, idx, lo)
	VMULPS(sc, lo, lo)
	VMOVUPS(lo.AsY(), Mem{Base: out})
	ADDQ(U8(32), out)
	LEAQ(Mem{Base: kp, Index: stride, Scale: 8}, kp)
	DECQ(nb)
	JNZ(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// scorePerm gathers scoresAVX512's dwords 4c (position c) and 4c+1
// (position 4+c) into position order.
var scorePerm Mem

func scoreConsts() {
	scorePerm = GLOBL("attn_score_perm", RODATA|NOPTR)
	for p, l := range []uint32{0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0} {
		DATA(4*p, U32(l))
	}
}
