package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// axpyAVX2 generates o[i] += float32(a*v[i]) for n a multiple of 32: the
// attention's weighted sum of values, elementwise, so vector lanes give the
// reference's results exactly (product and sum rounded separately).
func axpyAVX2() {
	TEXT("axpyF32AVX2", NOSPLIT, "func(o *float32, v *float32, a float32, n int)")
	Pragma("noescape")
	Doc(`axpyF32AVX2 computes, for n a multiple of 32:
//
//	for i := 0; i < n; i++ {
//		o[i] += float32(a * v[i])
//	}`)
	o := Load(Param("o"), GP64())
	v := Load(Param("v"), GP64())
	a := YMM()
	VBROADCASTSS(paramAddr("a"), a)
	n := Load(Param("n"), GP64())
	SHRQ(U8(5), n)
	Label("loop")
	for l := 0; l < 4; l++ {
		t := YMM()
		VMULPS(Mem{Base: v, Disp: 32 * l}, a, t)
		VADDPS(Mem{Base: o, Disp: 32 * l}, t, t)
		VMOVUPS(t, Mem{Base: o, Disp: 32 * l})
	}
	ADDQ(U8(128), o)
	ADDQ(U8(128), v)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}
