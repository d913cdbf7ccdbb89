package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// absMaxAVX2 generates the max|x| reduction of activation quantization.
// max is exact in any order, so four accumulators are free to interleave.
func absMaxAVX2() {
	TEXT("absMaxAVX2", NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc("absMaxAVX2 returns, for n a positive multiple of 32:",
		"",
		"	var m float32",
		"	for _, v := range x[:n] {",
		"		m = max(m, abs(v))",
		"	}",
		"	return m")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	am := YMM()
	VMOVUPS(absMask, am)
	var m [4]VecVirtual
	for i := range m {
		m[i] = YMM()
		VXORPS(m[i], m[i], m[i])
	}
	Label("loop")
	for i := range m {
		t := YMM()
		VANDPS(Mem{Base: x, Disp: 32 * i}, am, t)
		VMAXPS(t, m[i], m[i])
	}
	ADDQ(U32(128), x)
	SUBQ(U8(32), n)
	JNZ(LabelRef("loop"))

	VMAXPS(m[1], m[0], m[0])
	VMAXPS(m[3], m[2], m[2])
	VMAXPS(m[2], m[0], m[0])
	r := XMM()
	VEXTRACTF128(U8(1), m[0], r)
	VMAXPS(m[0].AsX(), r, r)
	t := XMM()
	VMOVHLPS(r, r, t)
	VMAXPS(t, r, r)
	VMOVSHDUP(r, t)
	VMAXSS(t, r, r)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

const quantDoc = `
//	for i, v := range x[:n] {
//		q[i] = int8(clamp(roundHalfEven(v*s), -128, 127))
//	}
//
// for n a positive multiple of 32. The product is rounded to float32 and
// vcvtps2dq rounds half to even (the Go runtime keeps MXCSR's default).`

// quantRowAVX2 generates the int8 rounding of activation quantization:
// saturating packs clamp, and vpermd undoes the packs' per-lane order.
func quantRowAVX2() {
	TEXT("quantRowAVX2", NOSPLIT, "func(q *int8, x *float32, n int, s float32)")
	Pragma("noescape")
	Doc("quantRowAVX2 computes, with AVX2:" + quantDoc)
	q := Load(Param("q"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	sv, perm := YMM(), YMM()
	VBROADCASTSS(paramAddr("s"), sv)
	VMOVDQU(perm8, perm)
	Label("loop")
	var a [4]VecVirtual
	for i := range a {
		a[i] = YMM()
		VMULPS(Mem{Base: x, Disp: 32 * i}, sv, a[i])
		VCVTPS2DQ(a[i], a[i])
	}
	Comment("words a0[0:4] a1[0:4] | a0[4:8] a1[4:8], then bytes, then dword order 0 4 1 5 2 6 3 7")
	VPACKSSDW(a[1], a[0], a[0])
	VPACKSSDW(a[3], a[2], a[2])
	VPACKSSWB(a[2], a[0], a[0])
	VPERMD(a[0], perm, a[0])
	VMOVDQU(a[0], Mem{Base: q})
	ADDQ(U32(128), x)
	ADDQ(U8(32), q)
	SUBQ(U8(32), n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// quantRowAVX512 generates the same with AVX-512: vpmovsdb narrows with
// signed saturation straight to memory.
func quantRowAVX512() {
	TEXT("quantRowAVX512", NOSPLIT, "func(q *int8, x *float32, n int, s float32)")
	Pragma("noescape")
	Doc("quantRowAVX512 computes, with AVX-512:" + quantDoc)
	q := Load(Param("q"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	sv := ZMM()
	VBROADCASTSS(paramAddr("s"), sv)
	Label("loop")
	for i := 0; i < 2; i++ {
		a := ZMM()
		VMULPS(Mem{Base: x, Disp: 64 * i}, sv, a)
		VCVTPS2DQ(a, a)
		VPMOVSDB(a, Mem{Base: q, Disp: 16 * i})
	}
	ADDQ(U32(128), x)
	ADDQ(U8(32), q)
	SUBQ(U8(32), n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// sumInt8VNNI generates Σq of a token's activations, which every I2_S
// store subtracts: VPDPBUSD of bytes of 1 with the signed bytes adds four
// of them into each dword, exactly.
func sumInt8VNNI() {
	TEXT("sumInt8VNNI", NOSPLIT, "func(q *int8, n int) int32")
	Pragma("noescape")
	Doc(`sumInt8VNNI returns, for n a positive multiple of 64,
//
//	var s int32
//	for i := 0; i < n; i++ {
//		s += int32(q[i])
//	}`)
	q := Load(Param("q"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(6), n)
	ones, acc := ZMM(), ZMM()
	one := GP32()
	MOVL(U32(0x01010101), one)
	VPBROADCASTD(one, ones)
	VPXORD(acc, acc, acc)
	Label("loop")
	vpdpbusd(Mem{Base: q}, ones, acc)
	ADDQ(U8(64), q)
	DECQ(n)
	JNZ(LabelRef("loop"))
	y, x := YMM(), XMM()
	VEXTRACTI64X4(U8(1), acc, y)
	VPADDD(acc.AsY(), y, y)
	VEXTRACTI128(U8(1), y, x)
	VPADDD(y.AsX(), x, x)
	t := XMM()
	VPSHUFD(U8(0x4e), x, t)
	VPADDD(t, x, x)
	VPSHUFD(U8(0xb1), x, t)
	VPADDD(t, x, x)
	r := GP32()
	VMOVD(x, r)
	Store(r, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
