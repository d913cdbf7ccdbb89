// Command _asm generates the amd64 assembly of package kernels with avo:
//
//	go run . -out ../asm_amd64.s -stubs ../asm_amd64.go -pkg kernels
//
// Every function documents, in its stub's doc comment, the Go loop it
// implements; the package's *_generic.go references define the results and
// the tests compare every path against them bit for bit.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	consts()
	q6kConsts()
	q6kVNNIConsts()
	q6kAVX2Consts()
	i2sVNNIDecode()
	for t := 2; t <= 4; t++ {
		i2sVNNI(t, false)
	}
	i2sUnpackVNNI()
	i2sVNNI(4, true)
	for t := 1; t <= 2; t++ {
		i2sAVX2(t)
	}
	absMaxAVX2()
	sumInt8VNNI()
	quantRowAVX2()
	quantRowAVX512()
	denseAVX2("denseF16AVX2x2", "F16", 64)
	denseAVX2("denseF32AVX2x2", "F32", 128)
	denseAVX2("denseBF16AVX2x2", "BF16", 64)
	denseAVX2("denseQ80AVX2x2", "Q8_0", 34)
	denseQ6KVNNI()
	denseQ6KAVX2Int()
	for t := 1; t <= 2; t++ {
		denseAVX512(fmt.Sprintf("denseF16AVX512x4x%d", t), "F16", 64, t)
		denseAVX512(fmt.Sprintf("denseF32AVX512x4x%d", t), "F32", 128, t)
		denseAVX512(fmt.Sprintf("denseBF16AVX512x4x%d", t), "BF16", 64, t)
	}
	denseRowF16AVX512(8)
	denseRowsF16AVX512()
	weightedSum("weightedSumF32AVX2", YMM)
	weightedSum("weightedSumF32AVX512", ZMM)
	scoreConsts()
	scoresAVX512()
	siluConsts()
	siluMulAVX2()
	expSubAVX2()
	ropeConsts()
	relu2MulAVX2()
	addAVX2()
	scaleMulAVX2()
	sumSquaresAVX2()
	ropePairsAVX2()
	ropeHalvesAVX2()
	prefetchL2()
	Generate()
}

// vpdpbusd emits VPDPBUSD src2, src1, dst: each dword of dst gains the sum
// of the four products of the unsigned bytes of src1 with the signed bytes
// of src2. avo 0.5 has no builder for it, so the instruction is described by
// hand (operands in Go order, inputs, outputs).
func vpdpbusd(src2 Op, src1, dst Register) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPBUSD",
		Operands: []Op{src2, src1, dst},
		Inputs:   []Op{src2, src1, dst},
		Outputs:  []Op{dst},
		ISA:      []string{"AVX512_VNNI"},
	})
}

// Read-only vectors shared by the kernels.
var (
	srlv01  Mem // 32 words: 6 (low 256 bits), 4 (high): codes of block groups 0 and 1
	srlv23  Mem // 32 words: 2, then 0: codes of groups 2 and 3
	mask03  Mem // 32 bytes of 0x03: one 2-bit code per byte
	ones16  Mem // 16 words of 1: vpmaddwd widens int16 pairs to int32
	absMask Mem // 8 float32 masks clearing the sign bit
	perm8   Mem // vpermd order undoing the in-lane interleave of vpackss*

	tokenLanes Mem // vpermd order 0,0,0,0, 1,1,1,1, …: dword t to lanes 4t..4t+3

	mask01 Mem // 32 bytes of 0xc0, then 32 of 0x30: groups 0 and 1 left in place
	mask23 Mem // 32 bytes of 0x0c, then 32 of 0x03: groups 2 and 3
	sra01  Mem // 16 dwords: 6 (low 256 bits), 4 (high): divide by 64 and 16
	sra23  Mem // 16 dwords: 2, then 0: divide by 4 and 1
)

func consts() {
	srlv01 = GLOBL("i2s_srlv01", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(2*i, U16(pick(i < 16, 6, 4)))
	}
	srlv23 = GLOBL("i2s_srlv23", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(2*i, U16(pick(i < 16, 2, 0)))
	}
	mask03 = GLOBL("i2s_mask03", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(3))
	}
	ones16 = GLOBL("i2s_ones16", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(2*i, U16(1))
	}
	absMask = GLOBL("f32_absmask", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(0x7fffffff))
	}
	perm8 = GLOBL("pack_perm8", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
	mask01 = GLOBL("i2s_mask01", RODATA|NOPTR)
	for i := 0; i < 64; i++ {
		DATA(i, U8(pick(i < 32, 0xc0, 0x30)))
	}
	mask23 = GLOBL("i2s_mask23", RODATA|NOPTR)
	for i := 0; i < 64; i++ {
		DATA(i, U8(pick(i < 32, 0x0c, 0x03)))
	}
	sra01 = GLOBL("i2s_sra01", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(pick(i < 8, 6, 4))))
	}
	sra23 = GLOBL("i2s_sra23", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(pick(i < 8, 2, 0))))
	}
	tokenLanes = GLOBL("i2s_token_lanes", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(i/4)))
	}
}

func pick(c bool, a, b uint16) uint16 {
	if c {
		return a
	}
	return b
}

// strided returns the address base + i*stride for i = 0..3 without
// multiplications in the loop: stride3 holds 3*stride.
func strided(base, stride, stride3 Register, i, disp int) Mem {
	switch i {
	case 0:
		return Mem{Base: base, Disp: disp}
	case 1:
		return Mem{Base: base, Index: stride, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: base, Index: stride, Scale: 2, Disp: disp}
	}
	return Mem{Base: base, Index: stride3, Scale: 1, Disp: disp}
}

// times3 returns a new register holding 3*r.
func times3(r Register) Register {
	r3 := GP64()
	LEAQ(Mem{Base: r, Index: r, Scale: 2}, r3)
	return r3
}

// paramAddr is the stack address of a scalar argument, for instructions
// that take it straight from memory (vbroadcastss).
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
