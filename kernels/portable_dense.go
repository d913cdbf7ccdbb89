package kernels

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// denseTile is how many tokens share one dequantization of a weight
// group in denseRowsPortable.
const denseTile = 4

// denseRowsPortable is denseRowsGeneric restructured for speed with the
// same operations in the same order: each 32-element group of a row is
// dequantized once, straight to float64 (denseGroup64), for up to
// denseTile tokens, each token keeps its own 32 lanes, and every product
// is fused into its lane as fmaFast does (equal to fma32 on every input),
// with the subnormal test left out where it cannot fire (fmaLanesNormal).
// A single F16 or Q8_0 token takes the row kernels of portable_rows.go,
// which dequantize inside the multiply-add loop. Past K the weights and activations are zero, as in the reference,
// including the fused add of 0·0 that turns a lane's -0 into +0. Q6_K
// takes the integer path.
func denseRowsPortable(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	if w.Type == DQ6_K {
		q6KRowsPortable(out, w, a, n, m0, m1)
		return
	}
	rb, K, M := w.rowBytes(), w.K, w.M
	full := K / denseLane
	var g32, xpad [denseLane]float32
	var g [denseLane]float64
	var acc [denseTile][denseLane]float32
	// normal[i]: tile i may take fmaLanesNormal. F16 and Q8_0 weights are
	// 0 or at least 2^-24 in magnitude; tiles past the array take the full
	// test (as exact, only slower).
	var normal [64]bool
	if w.Type == DF16 || w.Type == DQ8_0 {
		for i := 0; i < len(normal) && i*denseTile < n; i++ {
			t0 := i * denseTile
			normal[i] = !hasTiny(x[t0*K:min(t0+denseTile, n)*K], (127-54)<<23)
		}
	}
	for m := m0; m < m1; m++ {
		row := w.Data[m*rb : (m+1)*rb]
		for t0 := 0; t0 < n; t0 += denseTile {
			nt := min(denseTile, n-t0)
			normal := t0/denseTile < len(normal) && normal[t0/denseTile]
			acc = [denseTile][denseLane]float32{}
			c := 0
			if normal && nt == 1 { // one token: the row kernels, dequantizing in the loop
				switch w.Type {
				case DF16:
					f16RowLanes(&acc[0], f16Table(), row, x[t0*K:(t0+1)*K], full)
					c = full
				case DQ8_0:
					q80RowLanes(&acc[0], row, x[t0*K:(t0+1)*K], full)
					c = full
				}
			}
			for ; c < full; c++ {
				denseGroup64(&g, w.Type, row, c)
				for t := 0; t < nt; t++ {
					xt := (*[denseLane]float32)(x[(t0+t)*K+c*denseLane:][:denseLane])
					if normal {
						fmaLanesNormal(&acc[t], &g, xt)
					} else {
						fmaLanes(&acc[t], &g, xt)
					}
				}
			}
			if full*denseLane < K {
				denseGroup(&g32, w.Type, row, K, full)
				for j, v := range g32 {
					g[j] = float64(v)
				}
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

// hasTiny reports whether some nonzero |x[i]| has float32 bits below
// minBits (a power of two's bits).
func hasTiny(x []float32, minBits uint32) bool {
	for _, v := range x {
		if b := math.Float32bits(v) & 0x7fffffff; b-1 < minBits-1 {
			return true
		}
	}
	return false
}

// fmaLanes fuses the 32 products g[j]·x[j] into the lanes acc[j]; g holds
// float32 values widened to float64. It is fmaFast written out (see
// there), with the rare lanes redone by fma32 after the loop (fmaRedo),
// so that the loop holds no call.
func fmaLanes(acc *[denseLane]float32, g *[denseLane]float64, x *[denseLane]float32) {
	var old [denseLane]float32
	var rare uint32
	// Slices rather than array pointers: the compiler checks a pointer
	// for nil on every iteration, a slice's bounds once.
	a, gs, xs := acc[:], g[:], x[:]
	for j := range a {
		s := gs[j]*float64(xs[j]) + float64(a[j])
		if fmaRare(s) {
			rare |= 1 << j
			old[j] = a[j]
		}
		a[j] = float32(s)
	}
	if rare != 0 {
		fmaRedo(acc, &old, g, x, rare)
	}
}

// fmaRedo sets the lanes of rare to fma32(g, x, old).
func fmaRedo(acc, old *[denseLane]float32, g *[denseLane]float64, x *[denseLane]float32, rare uint32) {
	for ; rare != 0; rare &= rare - 1 {
		j := bits.TrailingZeros32(rare)
		acc[j] = fma32(float32(g[j]), x[j], old[j])
	}
}

// fmaLanesNormal is fmaLanes for operands whose every nonzero product
// has |g·x| ≥ 2^-78, as with F16 and Q8_0 weights (0 or ≥ 2^-24) against
// activations with no nonzero |x| below 2^-54 (see hasTiny). Then no sum
// is ever in float32's subnormal range, so only fmaFast's midpoint test
// is needed. Proof: by induction every lane is 0 or a normal float32.
// The exact sum v = acc + p with p = 0 is acc. Otherwise p = G·X·2^e
// with integers G, X < 2^24, so |p| ≥ 2^-78 forces e ≥ -125: p is a
// multiple of 2^-125. If |v| < 2^-126 then |acc| > 2^-79, whose float32
// ulp is at least 2^-102, so v is a multiple of 2^-125 too: v = 0. So v
// is 0 or |v| ≥ 2^-126, and so are its float64 and float32 roundings.
func fmaLanesNormal(acc *[denseLane]float32, g *[denseLane]float64, x *[denseLane]float32) {
	var old [denseLane]float32
	var rare uint32
	// Slices rather than array pointers: the compiler checks a pointer
	// for nil on every iteration, a slice's bounds once.
	a, gs, xs := acc[:], g[:], x[:]
	for j := range a {
		s := gs[j]*float64(xs[j]) + float64(a[j])
		if math.Float64bits(s)&(1<<29-1) == 1<<28 {
			rare |= 1 << j
			old[j] = a[j]
		}
		a[j] = float32(s)
	}
	if rare != 0 {
		fmaRedo(acc, &old, g, x, rare)
	}
}

// denseGroup64 is denseGroup for a whole group (32c+32 ≤ K) of an F32,
// F16 (by f16Table), BF16 or Q8_0 row, widened to float64 (exactly:
// every value is a float32) and without the per-element bounds test.
func denseGroup64(g *[denseLane]float64, t DType, row []byte, c int) {
	gs := g[:] // a slice: no nil check per iteration (see fmaLanes)
	switch t {
	case DF32:
		src := row[c*4*denseLane:][:4*denseLane]
		for j := range gs {
			gs[j] = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:])))
		}
	case DF16:
		src := row[c*2*denseLane:][:2*denseLane]
		tab := f16Table()
		for j := range gs {
			gs[j] = tab[binary.LittleEndian.Uint16(src[2*j:])]
		}
	case DBF16:
		src := row[c*2*denseLane:][:2*denseLane]
		for j := range gs {
			gs[j] = float64(math.Float32frombits(uint32(src[2*j])<<16 | uint32(src[2*j+1])<<24))
		}
	case DQ8_0:
		blk := row[c*q80Bytes:][:q80Bytes]
		d := f16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
		q := blk[2 : 2+denseLane]
		for j := range gs {
			gs[j] = float64(d * float32(int8(q[j])))
		}
	}
}
