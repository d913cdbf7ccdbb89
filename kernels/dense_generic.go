package kernels

import (
	"encoding/binary"
	"math"
)

// denseGroup dequantizes elements [32c, 32c+32) of a row of k elements into
// g, with zeros past k.
func denseGroup(g *[denseLane]float32, t DType, row []byte, k, c int) {
	k0 := c * denseLane
	switch t {
	case DF32:
		for j := range g {
			g[j] = 0
			if k0+j < k {
				g[j] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*(k0+j):]))
			}
		}
	case DF16:
		for j := range g {
			g[j] = 0
			if k0+j < k {
				g[j] = f16ToF32(binary.LittleEndian.Uint16(row[2*(k0+j):]))
			}
		}
	case DBF16:
		for j := range g {
			g[j] = 0
			if k0+j < k {
				g[j] = bf16ToF32(binary.LittleEndian.Uint16(row[2*(k0+j):]))
			}
		}
	case DQ8_0:
		blk := row[c*q80Bytes:][:q80Bytes]
		d := f16ToF32(binary.LittleEndian.Uint16(blk))
		for j := range g {
			g[j] = d * float32(int8(blk[2+j]))
		}
	case DQ6_K:
		// Group c%8 of super-block c/8: half h of 128, quarter r of 32.
		blk := row[c/8*q6KBytes:][:q6KBytes]
		h, r := (c%8)/4, c%4
		ql := blk[h*64+(r&1)*32:][:32]
		qh := blk[128+h*32:][:32]
		sc := blk[192+h*8:][:8]
		d := f16ToF32(binary.LittleEndian.Uint16(blk[208:]))
		lowShift := uint(r/2) * 4
		for l := range g {
			q := int32(ql[l]>>lowShift&0xf|(qh[l]>>(2*uint(r))&3)<<4) - 32
			ds := d * float32(int8(sc[l/16+2*r]))
			g[l] = ds * float32(q)
		}
	}
}

// dotReduce is the fixed reduction tree of the 32 lanes: halves are added
// pairwise (lane i with i+16, then i+8, i+4, i+2, i+1), the order in which
// AVX2 (four 8-lane registers) and AVX-512 (two 16-lane registers) reduce.
func dotReduce(acc *[denseLane]float32) float32 {
	var s [16]float32
	for i := 0; i < 16; i++ {
		s[i] = acc[i] + acc[i+16]
	}
	for w := 8; w >= 1; w /= 2 {
		for i := 0; i < w; i++ {
			s[i] = s[i] + s[i+w]
		}
	}
	return s[0]
}

// q6KDotGeneric is the reference Q6_K dot product of one row with one token
// of block-quantized activations (q, d: that token's slices): per
// super-block an exact integer sum Σ_sub scale[sub]·Σ code·q, then, in
// float32 with each operation rounded,
//
//	acc += float32(f16(d_w)*d_a) * float32(isum)
//
// over the super-blocks in order, as ggml's Q6_K × Q8_K dot product does.
func q6KDotGeneric(row []byte, q []int8, d []float32) float32 {
	var acc float32
	for b := range d {
		blk := row[b*q6KBytes:][:q6KBytes]
		qb := q[b*q6KBlock:][:q6KBlock]
		var isum int32
		for h := 0; h < 2; h++ {
			ql := blk[64*h:]
			qh := blk[128+32*h:]
			for r := 0; r < 4; r++ {
				for half := 0; half < 2; half++ {
					var s int32
					for l := 16 * half; l < 16*half+16; l++ {
						c := int32(ql[32*(r&1)+l]>>(4*uint(r/2))&15|(qh[l]>>(2*uint(r))&3)<<4) - 32
						s += c * int32(qb[128*h+32*r+l])
					}
					isum += int32(int8(blk[192+8*h+2*r+half])) * s
				}
			}
		}
		f := f16ToF32(binary.LittleEndian.Uint16(blk[208:])) * d[b]
		acc += float32(f * float32(isum))
	}
	return acc
}

// denseRowsGeneric is the reference for rows [m0, m1) of MatMulDense: lane
// j accumulates fma32(w[k], x[k], ·) for k ≡ j (mod 32), past K with zeros.
// Q6_K rows take q6KDotGeneric with the block-quantized tokens a.
func denseRowsGeneric(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	rb := w.rowBytes()
	K := w.K
	if w.Type == DQ6_K {
		nb := K / q6KBlock
		for m := m0; m < m1; m++ {
			row := w.Data[m*rb : (m+1)*rb]
			for t := 0; t < n; t++ {
				out[t*w.M+m] = q6KDotGeneric(row, a.q[t*K:(t+1)*K], a.d[t*nb:(t+1)*nb])
			}
		}
		return
	}
	groups := (K + denseLane - 1) / denseLane
	var g [denseLane]float32
	for m := m0; m < m1; m++ {
		row := w.Data[m*rb : (m+1)*rb]
		for t := 0; t < n; t++ {
			xt := x[t*K : (t+1)*K]
			var acc [denseLane]float32
			for c := 0; c < groups; c++ {
				denseGroup(&g, w.Type, row, K, c)
				for j := range acc {
					var xv float32
					if k := c*denseLane + j; k < K {
						xv = xt[k]
					}
					acc[j] = fma32(g[j], xv, acc[j])
				}
			}
			out[t*w.M+m] = dotReduce(&acc)
		}
	}
}
