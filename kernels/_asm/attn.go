package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// weightedSumAVX2 generates the attention's value sum for one head:
// o[d] = Σ_p w[p]*v[p][d] with fused multiply-adds, in position order, 32 columns (four ymm
// accumulators) per pass over the positions.
func weightedSumAVX2() {
	TEXT("weightedSumF32AVX2", NOSPLIT, "func(o *float32, v *float32, stride int, w *float32, nPos int, hd int)")
	Pragma("noescape")
	Doc(`weightedSumF32AVX2 computes, for hd a multiple of 32 and nPos > 0 (stride
// in bytes between the rows of v):
//
//	for d := 0; d < hd; d++ {
//		var s float32
//		for p := 0; p < nPos; p++ {
//			s = fma32(w[p], v[p*stride/4+d], s)
//		}
//		o[d] = s
//	}`)
	o := Load(Param("o"), GP64())
	v := Load(Param("v"), GP64())
	stride := Load(Param("stride"), GP64())
	hd := Load(Param("hd"), GP64())
	SHRQ(U8(5), hd)
	Label("columns")
	wp := Load(Param("w"), GP64())
	n := Load(Param("nPos"), GP64())
	row := GP64()
	MOVQ(v, row)
	var acc [4]VecVirtual
	for l := range acc {
		acc[l] = YMM()
		VXORPS(acc[l], acc[l], acc[l])
	}
	Label("position")
	a := YMM()
	VBROADCASTSS(Mem{Base: wp}, a)
	for l := range acc {
		VFMADD231PS(Mem{Base: row, Disp: 32 * l}, a, acc[l])
	}
	ADDQ(stride, row)
	ADDQ(U8(4), wp)
	DECQ(n)
	JNZ(LabelRef("position"))
	for l := range acc {
		VMOVUPS(acc[l], Mem{Base: o, Disp: 32 * l})
	}
	ADDQ(U8(128), o)
	ADDQ(U8(128), v)
	DECQ(hd)
	JNZ(LabelRef("columns"))
	VZEROUPPER()
	RET()
}

// siluMulAVX2 generates dst = silu(gate)*up for n a multiple of 8 with the
// float32 exponential of expf32 (package kernels): every step is an IEEE
// operation rounded on its own, so the lanes equal the Go reference.
func siluMulAVX2() {
	TEXT("siluMulAVX2", NOSPLIT, "func(dst *float32, gate *float32, up *float32, n int)")
	Pragma("noescape")
	Doc(`siluMulAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		dst[i] = float32(gate[i]/float32(1+expf32(-gate[i]))) * up[i]
//	}`)
	dst := Load(Param("dst"), GP64())
	gate := Load(Param("gate"), GP64())
	up := Load(Param("up"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	k := func(i int) Mem { return siluK.Offset(32 * i) }
	Label("loop")
	g, x := YMM(), YMM()
	VMOVUPS(Mem{Base: gate}, g)
	VXORPS(k(7), g, x)
	p := expf32Vec(x, k)
	VADDPS(k(5), p, p)
	VDIVPS(p, g, g)
	VMULPS(Mem{Base: up}, g, g)
	VMOVUPS(g, Mem{Base: dst})
	ADDQ(U8(32), dst)
	ADDQ(U8(32), gate)
	ADDQ(U8(32), up)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
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
	TEXT("expSubAVX2", NOSPLIT, "func(x *float32, m float32, n int)")
	Pragma("noescape")
	Doc(`expSubAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		x[i] = expf32(x[i] - m)
//	}`)
	xp := Load(Param("x"), GP64())
	m := YMM()
	VBROADCASTSS(paramAddr("m"), m)
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	k := func(i int) Mem { return siluK.Offset(32 * i) }
	Label("loop")
	x := YMM()
	VMOVUPS(Mem{Base: xp}, x)
	VSUBPS(m, x, x)
	p := expf32Vec(x, k)
	VMOVUPS(p, Mem{Base: xp})
	ADDQ(U8(32), xp)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}
