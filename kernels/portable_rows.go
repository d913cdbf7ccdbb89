// One-token row kernels of the portable dense path: with a single token
// there is no other token to share a dequantized group with, so the
// weights are dequantized inside the fused multiply-add loop.

package kernels

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
)

// f16Table widens every half to float64 (f16ToF32 of each of the 65536
// bit patterns, widened, so exactly, subnormals, infinities and NaNs
// included): one load instead of the bit operations and a conversion, for
// the F16 output head, the largest matrix a decode step reads. It is 512
// KiB, built on first use, and a head's halves use far fewer entries
// (their exponents cluster), which stay in L2; on the 2B-4T dummy's head
// it measured 5 % faster than a float32 table.
var f16Table = sync.OnceValue(func() *[1 << 16]float64 {
	t := new([1 << 16]float64)
	for h := range t {
		t[h] = float64(f16ToF32(uint16(h)))
	}
	return t
})

// f16RowLanes fuses the products of the F16 row (groups whole groups of
// 32) with x into the 32 lanes acc, dequantizing each weight by f16Table
// inside the loop: for one token there is nothing to share a dequantized
// group with. The caller guarantees what fmaLanesNormal needs (no nonzero
// |x| below 2^-54; halves are 0 or at least 2^-24), so only the midpoint
// test is made; lanes that fail it are redone with fma32 after each group.
func f16RowLanes(acc *[denseLane]float32, tab *[1 << 16]float64, row []byte, x []float32, groups int) {
	a, t := acc[:], tab[:] // slices: no nil check per iteration; t's length is known
	for c := 0; c < groups; c++ {
		src := row[c*2*denseLane:][:2*denseLane]
		xs := x[c*denseLane:][:denseLane]
		var old [denseLane]float32
		var rare uint32
		for j := range a {
			g := t[binary.LittleEndian.Uint16(src[2*j:])]
			s := g*float64(xs[j]) + float64(a[j])
			if math.Float64bits(s)&(1<<29-1) == 1<<28 {
				rare |= 1 << j
				old[j] = a[j]
			}
			a[j] = float32(s)
		}
		for ; rare != 0; rare &= rare - 1 {
			j := bits.TrailingZeros32(rare)
			a[j] = fma32(float32(t[binary.LittleEndian.Uint16(src[2*j:])]), xs[j], old[j])
		}
	}
}

// q80RowLanes is f16RowLanes for a Q8_0 row: weight j of a block is
// d·q_j, which the reference rounds to float32; the product of an 11-bit
// half and an 8-bit integer is exact in float32 (|d| ≥ 2^-24 or 0, |q| ≤
// 128: no underflow or overflow), so forming it in float64 gives the same
// value.
func q80RowLanes(acc *[denseLane]float32, row []byte, x []float32, groups int) {
	a := acc[:]
	for c := 0; c < groups; c++ {
		blk := row[c*q80Bytes:][:q80Bytes]
		d := float64(f16ToF32(binary.LittleEndian.Uint16(blk)))
		q := blk[2 : 2+denseLane]
		xs := x[c*denseLane:][:denseLane]
		var old [denseLane]float32
		var rare uint32
		for j := range a {
			s := d*float64(int8(q[j]))*float64(xs[j]) + float64(a[j])
			if math.Float64bits(s)&(1<<29-1) == 1<<28 {
				rare |= 1 << j
				old[j] = a[j]
			}
			a[j] = float32(s)
		}
		for ; rare != 0; rare &= rare - 1 {
			j := bits.TrailingZeros32(rare)
			a[j] = fma32(float32(d)*float32(int8(q[j])), xs[j], old[j])
		}
	}
}
