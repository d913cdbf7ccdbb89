package kernels

import "encoding/binary"

// q6KRowsPortable is the Q6_K part of denseRowsGeneric with the dot
// product of q6KDotPortable.
func q6KRowsPortable(out []float32, w *Dense, a *blockActs, n, m0, m1 int) {
	rb, K, M := w.rowBytes(), w.K, w.M
	nb := K / q6KBlock
	for m := m0; m < m1; m++ {
		row := w.Data[m*rb : (m+1)*rb]
		for t := 0; t < n; t++ {
			out[t*M+m] = q6KDotPortable(row, a.q[t*K:(t+1)*K], a.d[t*nb:(t+1)*nb], a.bsum[t*K/16:(t+1)*K/16])
		}
	}
}

// q6KDotPortable is q6KDotGeneric with the same integers and the same
// float operations, computed faster: one pass over each half super-block
// reads ql[l], ql[l+32] and qh[l] once for the four codes they hold (at
// l, l+32, l+64, l+96), the codes stay unsigned (0..63), and the -32
// offset is applied per 16 values through the activation sums bsum:
// Σ(c-32)·q = Σc·q - 32·Σq, exact in int32 (|Σc·q| ≤ 16·63·128). The
// sixteen sub-block sums are then weighted by their scales and added in
// any order, which integer addition allows.
func q6KDotPortable(row []byte, q []int8, d []float32, bsum []int16) float32 {
	var acc float32
	for b := range d {
		blk := (*[q6KBytes]byte)(row[b*q6KBytes:][:q6KBytes])
		qb := (*[q6KBlock]int8)(q[b*q6KBlock:][:q6KBlock])
		bs := (*[q6KBlock / 16]int16)(bsum[b*q6KBlock/16:][:q6KBlock/16])
		var isum int32
		for h := 0; h < 2; h++ {
			ql := (*[64]byte)(blk[64*h:][:64])
			qh := (*[32]byte)(blk[128+32*h:][:32])
			qa := (*[128]int8)(qb[128*h:][:128])
			for half := 0; half < 2; half++ {
				var s0, s1, s2, s3 int32
				for l := 16 * half; l < 16*half+16; l++ {
					lo, hi, top := ql[l], ql[l+32], int32(qh[l])
					s0 += (int32(lo&15) | top&3<<4) * int32(qa[l])
					s1 += (int32(hi&15) | top&12<<2) * int32(qa[l+32])
					s2 += (int32(lo>>4) | top&48) * int32(qa[l+64])
					s3 += (int32(hi>>4) | top>>2&48) * int32(qa[l+96])
				}
				sc := blk[192+8*h+half:]
				sub := 8*h + half // the bsum index of l's 16 values at offset 0
				isum += int32(int8(sc[0])) * (s0 - 32*int32(bs[sub]))
				isum += int32(int8(sc[2])) * (s1 - 32*int32(bs[sub+2]))
				isum += int32(int8(sc[4])) * (s2 - 32*int32(bs[sub+4]))
				isum += int32(int8(sc[6])) * (s3 - 32*int32(bs[sub+6]))
			}
		}
		f := f16ToF32(binary.LittleEndian.Uint16(blk[208:])) * d[b]
		acc += float32(f * float32(isum))
	}
	return acc
}
