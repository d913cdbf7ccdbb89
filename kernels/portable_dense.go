package kernels

import (
	"encoding/binary"
	"math"
)

// denseTile is how many tokens share one dequantization of a weight
// group in denseRowsPortable.
const denseTile = 4

// denseRowsPortable is denseRowsGeneric restructured for speed with the
// same operations in the same order: each 32-element group of a row is
// dequantized once (denseGroupFast) for up to denseTile tokens, each
// token keeps its own 32 lanes, and every product is fused into its lane
// with fmaFast (equal to fma32 on every input). Past K the weights and
// activations are zero, as in the reference, including the fused add of
// 0·0 that turns a lane's -0 into +0. Q6_K takes the integer path.
func denseRowsPortable(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	if w.Type == DQ6_K {
		q6KRowsPortable(out, w, a, n, m0, m1)
		return
	}
	rb, K, M := w.rowBytes(), w.K, w.M
	full := K / denseLane
	var g, xpad [denseLane]float32
	var acc [denseTile][denseLane]float32
	for m := m0; m < m1; m++ {
		row := w.Data[m*rb : (m+1)*rb]
		for t0 := 0; t0 < n; t0 += denseTile {
			nt := min(denseTile, n-t0)
			acc = [denseTile][denseLane]float32{}
			for c := 0; c < full; c++ {
				denseGroupFast(&g, w.Type, row, c)
				for t := 0; t < nt; t++ {
					xt := x[(t0+t)*K+c*denseLane:]
					fmaLanes(&acc[t], &g, (*[denseLane]float32)(xt[:denseLane]))
				}
			}
			if full*denseLane < K {
				denseGroup(&g, w.Type, row, K, full)
				for t := 0; t < nt; t++ {
					xpad = [denseLane]float32{}
					copy(xpad[:], x[(t0+t)*K+full*denseLane:(t0+t+1)*K])
					fmaLanes(&acc[t], &g, &xpad)
				}
			}
			for t := 0; t < nt; t++ {
				out[(t0+t)*M+m] = dotReduce(&acc[t])
			}
		}
	}
}

// fmaLanes fuses the 32 products g[j]·x[j] into the lanes acc[j].
func fmaLanes(acc, g, x *[denseLane]float32) {
	for j := range acc {
		acc[j] = fmaFast(g[j], x[j], acc[j])
	}
}

// denseGroupFast is denseGroup for a whole group (32c+32 ≤ K) of an F32,
// F16, BF16 or Q8_0 row, without the per-element bounds test and with
// halves widened by bit operations (f16Fast).
func denseGroupFast(g *[denseLane]float32, t DType, row []byte, c int) {
	switch t {
	case DF32:
		src := row[c*4*denseLane:][:4*denseLane]
		for j := range g {
			g[j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:]))
		}
	case DF16:
		src := (*[2 * denseLane]byte)(row[c*2*denseLane:][:2*denseLane])
		for j := range g {
			g[j] = f16Fast(uint16(src[2*j]) | uint16(src[2*j+1])<<8)
		}
	case DBF16:
		src := (*[2 * denseLane]byte)(row[c*2*denseLane:][:2*denseLane])
		for j := range g {
			g[j] = math.Float32frombits(uint32(src[2*j])<<16 | uint32(src[2*j+1])<<24)
		}
	case DQ8_0:
		blk := (*[q80Bytes]byte)(row[c*q80Bytes:][:q80Bytes])
		d := f16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
		for j := range g {
			g[j] = d * float32(int8(blk[2+j]))
		}
	}
}

// f16Fast is f16ToF32: a normal half (exponent field 1..30) widens by
// moving its exponent and significand into place and rebiasing the
// exponent by 127-15 = 112; zeros, subnormals, infinities and NaNs take
// f16ToF32.
func f16Fast(h uint16) float32 {
	if e := h & 0x7c00; e-0x400 < 0x7800 {
		return math.Float32frombits(uint32(h&0x8000)<<16 | (uint32(h&0x7fff)<<13 + 112<<23))
	}
	return f16ToF32(h)
}
