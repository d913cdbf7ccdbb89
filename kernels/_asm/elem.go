package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The element-wise kernels of a decode step (the gate, the residual add,
// the second pass of RMSNorm, RoPE) run on one thread while the other
// waits, between matmuls that stream the weights: every microsecond they
// take leaves the memory bus idle. Each is a plain loop of IEEE operations,
// rounded one at a time, so 8 lanes give the reference's bits.

// elemLoop emits the counted loop over n/8 groups of 8 floats shared by the
// element-wise kernels; body gets the byte offset register of the group.
func elemLoop(n Register, body func(off Register)) {
	off := GP64()
	XORQ(off, off)
	SHRQ(U8(3), n)
	Label("loop")
	body(off)
	ADDQ(U8(32), off)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// elemKernel starts an element-wise kernel: its symbol, Go signature and
// doc comment, then the named integer and pointer parameters, loaded.
func elemKernel(name, sig, doc string, params ...string) []Register {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	regs := make([]Register, len(params))
	for i, p := range params {
		regs[i] = Load(Param(p), GP64())
	}
	return regs
}

// relu2MulAVX2 generates dst = relu(gate)²·up, relu(g) = g if g > 0 else 0:
// VMAXPS returns its second source when the first is not greater (NaN
// included), which is the reference's compare.
func relu2MulAVX2() {
	r := elemKernel("relu2MulAVX2", "func(dst *float32, gate *float32, up *float32, n int)",
		`relu2MulAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		r := gate[i]
//		if !(r > 0) {
//			r = 0
//		}
//		dst[i] = float32(r*r) * up[i]
//	}`,
		"dst", "gate", "up", "n")
	dst, gate, up, n := r[0], r[1], r[2], r[3]
	zero := YMM()
	VXORPS(zero, zero, zero)
	elemLoop(n, func(off Register) {
		g := YMM()
		VMOVUPS(Mem{Base: gate, Index: off, Scale: 1}, g)
		VMAXPS(zero, g, g)
		VMULPS(g, g, g)
		VMULPS(Mem{Base: up, Index: off, Scale: 1}, g, g)
		VMOVUPS(g, Mem{Base: dst, Index: off, Scale: 1})
	})
}

// addAVX2 generates the residual add dst += x.
func addAVX2() {
	r := elemKernel("addAVX2", "func(dst *float32, x *float32, n int)",
		`addAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		dst[i] += x[i]
//	}`,
		"dst", "x", "n")
	dst, x, n := r[0], r[1], r[2]
	elemLoop(n, func(off Register) {
		v := YMM()
		VMOVUPS(Mem{Base: dst, Index: off, Scale: 1}, v)
		VADDPS(Mem{Base: x, Index: off, Scale: 1}, v, v)
		VMOVUPS(v, Mem{Base: dst, Index: off, Scale: 1})
	})
}

// scaleMulAVX2 generates the second pass of RMSNorm, dst = (x·s)·w.
func scaleMulAVX2() {
	r := elemKernel("scaleMulAVX2", "func(dst *float32, x *float32, w *float32, s float32, n int)",
		`scaleMulAVX2 computes, for n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		dst[i] = float32(x[i]*s) * w[i]
//	}`,
		"dst", "x", "w", "n")
	dst, x, w, n := r[0], r[1], r[2], r[3]
	s := YMM()
	VBROADCASTSS(paramAddr("s"), s)
	elemLoop(n, func(off Register) {
		v := YMM()
		VMULPS(Mem{Base: x, Index: off, Scale: 1}, s, v)
		VMULPS(Mem{Base: w, Index: off, Scale: 1}, v, v)
		VMOVUPS(v, Mem{Base: dst, Index: off, Scale: 1})
	})
}

// ropePairsAVX2 generates the rotation of adjacent pairs (original llama
// RoPE) four pairs at a time: with x = (a, b, …), its pair-swap (b, a, …)
// and the cosines and sines each repeated for both lanes of their pair,
// x·c + (x'·s with the even lanes negated) is (a·c − b·s, b·c + a·s, …):
// the reference's two rounded products and one rounded sum per lane, since
// negation is exact and IEEE addition commutes.
func ropePairsAVX2() {
	r := elemKernel("ropePairsAVX2", "func(x *float32, sin *float32, cos *float32, pairs int)",
		`ropePairsAVX2 computes, for pairs a multiple of 4,
//
//	for i := 0; i < pairs; i++ {
//		a, b := x[2*i], x[2*i+1]
//		x[2*i] = float32(a*cos[i]) - float32(b*sin[i])
//		x[2*i+1] = float32(a*sin[i]) + float32(b*cos[i])
//	}`,
		"x", "sin", "cos", "pairs")
	x, sin, cos, n := r[0], r[1], r[2], r[3]
	dup, neg := YMM(), YMM()
	VMOVDQU(ropeDup, dup)
	VMOVDQU(ropeNegEven, neg)
	SHRQ(U8(2), n)
	Label("loop")
	v, sw, c, s := YMM(), YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: x}, v)
	VPERMILPS(U8(0xb1), v, sw)
	VMOVUPS(Mem{Base: cos}, c.AsX()) // four cosines; the upper lanes are zeroed
	VPERMPS(c, dup, c)
	VMOVUPS(Mem{Base: sin}, s.AsX())
	VPERMPS(s, dup, s)
	VMULPS(c, v, v)
	VMULPS(s, sw, sw)
	VXORPS(neg, sw, sw)
	VADDPS(sw, v, v)
	VMOVUPS(v, Mem{Base: x})
	ADDQ(U8(32), x)
	ADDQ(U8(16), sin)
	ADDQ(U8(16), cos)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// ropeHalvesAVX2 generates the GPT-NeoX rotation, which pairs dimension i
// with i+half: a and b are two plain vectors, so it is the reference's
// arithmetic lane for lane.
func ropeHalvesAVX2() {
	r := elemKernel("ropeHalvesAVX2", "func(x *float32, sin *float32, cos *float32, half int)",
		`ropeHalvesAVX2 computes, for half a multiple of 8,
//
//	for i := 0; i < half; i++ {
//		a, b := x[i], x[i+half]
//		x[i] = float32(a*cos[i]) - float32(b*sin[i])
//		x[i+half] = float32(a*sin[i]) + float32(b*cos[i])
//	}`,
		"x", "sin", "cos", "half")
	x, sin, cos, n := r[0], r[1], r[2], r[3]
	hi := GP64()
	LEAQ(Mem{Base: x, Index: n, Scale: 4}, hi)
	SHRQ(U8(3), n)
	Label("loop")
	a, b, ac, bs, as, bc := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: x}, a)
	VMOVUPS(Mem{Base: hi}, b)
	VMULPS(Mem{Base: cos}, a, ac)
	VMULPS(Mem{Base: sin}, b, bs)
	VMULPS(Mem{Base: sin}, a, as)
	VMULPS(Mem{Base: cos}, b, bc)
	VSUBPS(bs, ac, ac)
	VADDPS(bc, as, as)
	VMOVUPS(ac, Mem{Base: x})
	VMOVUPS(as, Mem{Base: hi})
	ADDQ(U8(32), x)
	ADDQ(U8(32), hi)
	ADDQ(U8(32), sin)
	ADDQ(U8(32), cos)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// ropeDup spreads four floats over the two lanes of their pairs; ropeNegEven
// flips the sign of the even lanes.
var ropeDup, ropeNegEven Mem

func ropeConsts() {
	ropeDup = GLOBL("rope_dup", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(i/2))
	}
	ropeNegEven = GLOBL("rope_negeven", RODATA|NOPTR)
	for i := 0; i < 8; i += 2 {
		DATA(4*i, U32(0x80000000))
		DATA(4*i+4, U32(0))
	}
}

// prefetchL2 generates a loop of PREFETCHT1 over lines cache lines.
func prefetchL2() {
	TEXT("prefetchL2", NOSPLIT, "func(p *byte, lines int)")
	Pragma("noescape")
	Doc("prefetchL2 asks for the lines cache lines from p to be brought into L2.")
	p := Load(Param("p"), GP64())
	n := Load(Param("lines"), GP64())
	Label("loop")
	PREFETCHT1(Mem{Base: p})
	ADDQ(U8(64), p)
	DECQ(n)
	JNZ(LabelRef("loop"))
	RET()
}

// sumSquaresAVX2 generates the first pass of RMSNorm in any order: the
// float32 squares of ggml, widened exactly to float64 and summed in four
// accumulators of four lanes. Its sum is not ggml's sequential one; the
// caller only uses it where both round to the same float32 mean (rmsMean).
func sumSquaresAVX2() {
	r := elemKernel("sumSquaresAVX2", "func(x *float32, n int) float64",
		`sumSquaresAVX2 returns, for n a positive multiple of 16, the sum of
// float64(float32(x[i]*x[i])) over i < n, in no particular order.`,
		"x", "n")
	x, n := r[0], r[1]
	acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, a := range acc {
		VXORPD(a, a, a)
	}
	SHRQ(U8(4), n)
	Label("loop")
	for h := range 2 {
		sq, hi := YMM(), XMM()
		VMOVUPS(Mem{Base: x, Disp: 32 * h}, sq)
		VMULPS(sq, sq, sq) // rounded to float32, as ggml squares
		VEXTRACTF128(U8(1), sq, hi)
		lo, up := YMM(), YMM()
		VCVTPS2PD(sq.AsX(), lo) // exact
		VCVTPS2PD(hi, up)
		VADDPD(lo, acc[2*h], acc[2*h])
		VADDPD(up, acc[2*h+1], acc[2*h+1])
	}
	ADDQ(U8(64), x)
	DECQ(n)
	JNZ(LabelRef("loop"))
	VADDPD(acc[1], acc[0], acc[0])
	VADDPD(acc[3], acc[2], acc[2])
	VADDPD(acc[2], acc[0], acc[0])
	hi := XMM()
	VEXTRACTF128(U8(1), acc[0], hi)
	VADDPD(hi, acc[0].AsX(), hi)
	sum := XMM()
	VUNPCKHPD(hi, hi, sum)
	VADDSD(sum, hi, sum)
	VZEROUPPER()
	Store(sum, ReturnIndex(0))
	RET()
}
