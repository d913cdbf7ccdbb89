package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// packI2S packs ternary values (row-major, flat) into the I2_S layout of
// FORMATS.md §3, independently of the kernels' decoder.
func packI2S(t []int8) []byte {
	n := (len(t) + 127) / 128 * 128
	c := make([]byte, n)
	for i := range c {
		c[i] = 1
		if i < len(t) {
			c[i] = byte(t[i] + 1)
		}
	}
	out := make([]byte, len(t)/4)
	full := make([]byte, n/4)
	for b := 0; b < n/128; b++ {
		for j := 0; j < 32; j++ {
			x := c[128*b:]
			full[32*b+j] = x[j]<<6 | x[32+j]<<4 | x[64+j]<<2 | x[96+j]
		}
	}
	copy(out, full)
	return out
}

func randTernary(r *rand.Rand, n int) []int8 {
	t := make([]int8, n)
	for i := range t {
		t[i] = int8(r.IntN(3)) - 1
	}
	return t
}

func randInt8(r *rand.Rand, n int) []int8 {
	q := make([]int8, n)
	for i := range q {
		q[i] = int8(r.IntN(256) - 128)
	}
	return q
}

func randFloats(r *rand.Rand, n int, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((r.Float64()*2 - 1) * amp)
	}
	return x
}

// f32ToF16 rounds to nearest half (enough for test data: normal range only).
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	man := b & 0x7fffff
	if f == 0 || exp <= 0 {
		return sign
	}
	if exp >= 31 {
		return sign | 0x7c00
	}
	h := uint32(exp)<<10 | man>>13
	if rem := man & 0x1fff; rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

// randDense builds an m×k matrix of type t with random contents.
func randDense(r *rand.Rand, t DType, m, k int) *Dense {
	rb, err := RowBytes(t, k)
	if err != nil {
		panic(err)
	}
	d := &Dense{Type: t, M: m, K: k, Data: make([]byte, m*rb)}
	for i := range d.Data {
		d.Data[i] = byte(r.IntN(256))
	}
	switch t {
	case DF32:
		for i := 0; i < m*k; i++ {
			binary.LittleEndian.PutUint32(d.Data[4*i:], math.Float32bits(float32(r.NormFloat64())))
		}
	case DF16, DBF16:
		for i := 0; i < m*k; i++ {
			v := float32(r.NormFloat64())
			h := f32ToF16(v)
			if t == DBF16 {
				h = uint16(math.Float32bits(v) >> 16)
			}
			binary.LittleEndian.PutUint16(d.Data[2*i:], h)
		}
	case DQ8_0:
		for b := 0; b < m*k/q80Block; b++ {
			binary.LittleEndian.PutUint16(d.Data[b*q80Bytes:], f32ToF16(float32(r.Float64()*0.01)))
		}
	case DQ6_K:
		for b := 0; b < m*k/q6KBlock; b++ {
			binary.LittleEndian.PutUint16(d.Data[b*q6KBytes+208:], f32ToF16(float32(r.Float64()*0.001)))
		}
	}
	return d
}
