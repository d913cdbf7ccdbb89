package kernels

import "encoding/binary"

// The portable Q6_K kernel multiplies four code/activation pairs with one
// 64-bit integer multiply, as the portable I2_S kernel does (see
// portable_i2s.go), but with signed lanes, since both factors need more
// bits than the I2_S codes.
//
// Codes. A 64-bit load of ql, of ql+32 and of qh at offset l yields the
// 6-bit codes c of 8 consecutive positions of each of the four 32-value
// groups r of a half super-block, one code per byte (q6KCodes). Each such
// word x is split into its even and odd bytes, e = x & 0x00ff00ff00ff00ff
// and o = x>>8 & 0x00ff00ff00ff00ff, whose 16-bit lanes hold the codes of
// positions p, p+2, p+4, p+6 (e) and p+1, … (o). The arithmetic below is
// on C = e − B, B = Σ_i 31·2^(16i): as an integer C = Σ_i (c_i − 31)·2^(16i),
// c_i the code in lane i (the lanes go negative and borrow from the lane
// above, which changes nothing: C is that integer, taken mod 2^64).
//
// Activations. The word U = Σ_i q_i·2^(16(3−i)) holds the activations of
// the same four positions in the reverse order (q6KLayout, once per call).
// In C·U mod 2^64 the coefficient of 2^48 is L3 = Σ_i (c_i − 31)·q_i, the
// four-term dot product; below it R = L2·2^32 + L1·2^16 + L0 with L2, L1,
// L0 sums of 3, 2 and 1 products; the terms of 2^64 and above fall off.
//
// Bounds. c − 31 ∈ [−31, 32] and q ∈ [−128, 127], so every product lies in
// [−4096, 4064]. For the sum of two such words (8 products): the L3 parts
// add up to [−32768, 32512], a signed 16-bit number, and |R| ≤
// 2·(3·4096·2^32 + 2·4096·2^16 + 4096) < 2^47. So with T = C1·U1 + C2·U2 +
// 2^47 (mod 2^64) the true value L3·2^48 + (R + 2^47), 0 ≤ R + 2^47 < 2^48,
// lies in [−2^63, 2^63): int64(T) is it exactly, and int64(T)>>48 = L3
// (q6KPair). The bias 31 rather than 32 is what keeps the pair's L3 in
// range (with 32, eight products of (−32)·(−128) make +32768).
//
// Folding. The bias and the 2^47 depend only on the activations: mod 2^64,
// T = e1·U1 + e2·U2 − K with K = B·U1 + B·U2 − 2^47, one word per pair
// that q6KLayout computes with the U words. So q6KDot1 multiplies the
// bare code words e, o and subtracts K (q6KPair), three operations fewer
// per pair. Where the decoded codes serve several tokens (q6KBlock2) the
// bias is paid once per code word in q6KCodes, and T is formed as first
// written (q6KPairC), which spares the load of K.
//
// Per sub-block of 16 values (4 words, 2 pairs) this gives
// Σ(c−31)·q, and Σ(c−32)·q = Σ(c−31)·q − Σq, Σq being the activation
// sums bsum. From there the arithmetic is the reference's: the sixteen
// exact sub-block sums are weighted by their int8 scales (|Σ(c−32)·q| ≤
// 16·32·128, so |isum| ≤ 16·128·65536 < 2^31) and added in any order,
// which integer addition allows, and the float steps are q6KDotGeneric's
// in the same order, so the result is the reference's bit for bit.
//
// Cost: per 8 codes and token two multiplies, three activation loads and
// four adds and shifts; the codes' decoding (about ten operations per 8
// codes) is shared by the up to q6KTile tokens of a pass over the row.

const (
	q6KWords  = q6KBlock / 4     // product words per super-block and token
	q6KStride = q6KWords * 3 / 2 // laid-out words per super-block: U words, then the K of each pair
	q6KTile   = 4                // tokens per pass over a row
	q6KBias   = 0x001f001f001f001f
	q6KEven   = 0x00ff00ff00ff00ff
	q6KLow4   = 0x0f0f0f0f0f0f0f0f
	q6KHigh2  = 0x3030303030303030
)

// q6KLayout writes the activations q (a multiple of 256 values) as the
// words U and K, q6KStride words per super-block. Words 0..63 are U, in
// the order q6KCodes writes the code words: word 32h + 8j + 2r + p holds
// the positions 128h + 32r + 8j + p + 2i, i = 0..3, in lane 3−i (h the
// half super-block, r the 32-value group, j the 8-value step in it, p
// even or odd). Word 64 + k is the K of the pair of U words 2k, 2k+1.
func q6KLayout(u []uint64, q []int8) {
	for b := 0; b < len(q)/q6KBlock; b++ {
		qb := (*[q6KBlock]int8)(q[b*q6KBlock:][:q6KBlock])
		ub := (*[q6KStride]uint64)(u[b*q6KStride:][:q6KStride])
		for w := 0; w < q6KWords; w++ {
			p := 128*(w/32) + 32*(w/2%4) + 8*(w/8%4) + w%2
			ub[w] = uint64(int64(qb[p])<<48 + int64(qb[p+2])<<32 + int64(qb[p+4])<<16 + int64(qb[p+6]))
		}
		for k := 0; k < q6KWords/2; k++ {
			ub[q6KWords+k] = q6KBias*ub[2*k] + q6KBias*ub[2*k+1] - 1<<47
		}
	}
}

// q6KCodes decodes a super-block's 256 codes into the biased code words
// C = e − B and o − B (see above), for q6KPairC, in the word order of q6KLayout: the 8 words of each step j
// of a half h are written together.
func q6KCodes(c *[q6KWords]uint64, blk *[q6KBytes]byte) {
	for h := 0; h < 2; h++ {
		for j := 0; j < 4; j++ {
			l := 8 * j
			lo := binary.LittleEndian.Uint64(blk[64*h+l:])
			hi := binary.LittleEndian.Uint64(blk[64*h+32+l:])
			top := binary.LittleEndian.Uint64(blk[128+32*h+l:])
			// The 8 codes at 128h + 32r + l of group r, one per byte: the
			// nibble of ql (low for r = 0, 1, high for r = 2, 3) and bits
			// 2r, 2r+1 of qh moved to bits 4, 5 of the byte.
			x0 := lo&q6KLow4 | top<<4&q6KHigh2
			x1 := hi&q6KLow4 | top<<2&q6KHigh2
			x2 := lo>>4&q6KLow4 | top&q6KHigh2
			x3 := hi>>4&q6KLow4 | top>>2&q6KHigh2
			cw := (*[8]uint64)(c[32*h+l:][:8])
			cw[0], cw[1] = x0&q6KEven-q6KBias, x0>>8&q6KEven-q6KBias
			cw[2], cw[3] = x1&q6KEven-q6KBias, x1>>8&q6KEven-q6KBias
			cw[4], cw[5] = x2&q6KEven-q6KBias, x2>>8&q6KEven-q6KBias
			cw[6], cw[7] = x3&q6KEven-q6KBias, x3>>8&q6KEven-q6KBias
		}
	}
}

// q6KPair is Σ(c−31)·q of the 8 positions of the code words c0, c1 and
// activation words u0, u1, k their pair's K (see the bounds and folding
// above).
func q6KPair(c0, u0, c1, u1, k uint64) int32 {
	return int32(int64(c0*u0+c1*u1-k) >> 48)
}

// q6KPairC is q6KPair for biased code words C (q6KCodes).
func q6KPairC(c0, u0, c1, u1 uint64) int32 {
	return int32(int64(c0*u0+c1*u1+1<<47) >> 48)
}

// q6KRowsPortable is the Q6_K part of denseRowsGeneric: rows [m0, m1) for
// n tokens, the codes of each super-block decoded once for up to q6KTile
// tokens. a.u must hold the layout of a.q (MatMulDense writes it when the
// portable path is on).
func q6KRowsPortable(out []float32, w *Dense, a *blockActs, n, m0, m1 int) {
	rb, K, M := w.rowBytes(), w.K, w.M
	nb := K / q6KBlock
	var c [q6KWords]uint64
	var acc [q6KTile]float32
	for m := m0; m < m1; m++ {
		row := w.Data[m*rb : (m+1)*rb]
		for t0 := 0; t0 < n; t0 += q6KTile {
			nt := min(q6KTile, n-t0)
			if nt == 1 {
				out[t0*M+m] = q6KDot1(row, a.u[t0*nb*q6KStride:][:nb*q6KStride], a.d[t0*nb:][:nb], a.bsum[t0*nb*16:][:nb*16])
				continue
			}
			acc = [q6KTile]float32{}
			for b := 0; b < nb; b++ {
				blk := (*[q6KBytes]byte)(row[b*q6KBytes:][:q6KBytes])
				q6KCodes(&c, blk)
				sc := (*[16]byte)(blk[192:][:16])
				dw := f16ToF32(binary.LittleEndian.Uint16(blk[208:]))
				// Tokens in pairs, each code word loaded once for both.
				for t := 0; t < nt; t += 2 {
					tb0 := (t0+t)*nb + b // the token's block index
					tb1 := tb0
					if t+1 < nt {
						tb1 += nb
					}
					i0, i1 := q6KBlock2(&c, sc,
						(*[q6KStride]uint64)(a.u[tb0*q6KStride:][:q6KStride]), (*[q6KStride]uint64)(a.u[tb1*q6KStride:][:q6KStride]),
						(*[16]int16)(a.bsum[tb0*16:][:16]), (*[16]int16)(a.bsum[tb1*16:][:16]))
					f0 := dw * a.d[tb0] // q6KDotGeneric's float steps
					acc[t] += float32(f0 * float32(i0))
					if t+1 < nt {
						f1 := dw * a.d[tb1]
						acc[t+1] += float32(f1 * float32(i1))
					}
				}
			}
			for t := 0; t < nt; t++ {
				out[(t0+t)*M+m] = acc[t]
			}
		}
	}
}

// q6KBlock2 is the integer sum isum of q6KDotGeneric for one super-block
// (code words c, scales sc) and two tokens (ub, bs each); an odd token
// out passes its own words twice.
func q6KBlock2(c *[q6KWords]uint64, sc *[16]byte, ub0, ub1 *[q6KStride]uint64, bs0, bs1 *[16]int16) (isum0, isum1 int32) {
	// Quarter g = 2h + half of the block: words 16g..16g+15, sub-blocks
	// 8h + half + 2r, r = 0..3, each the words 2r, 2r+1 (step j = 2·half)
	// and 8+2r, 9+2r (j + 1).
	for g := 0; g < 4; g++ {
		cg := (*[16]uint64)(c[16*g:][:16])
		u0 := (*[16]uint64)(ub0[16*g:][:16])
		u1 := (*[16]uint64)(ub1[16*g:][:16])
		s0 := 8*(g>>1) + g&1
		for r := 0; r < 4; r++ {
			c0, c1, c8, c9 := cg[2*r], cg[2*r+1], cg[8+2*r], cg[9+2*r]
			v0 := q6KPairC(c0, u0[2*r], c1, u0[2*r+1]) + q6KPairC(c8, u0[8+2*r], c9, u0[9+2*r])
			v1 := q6KPairC(c0, u1[2*r], c1, u1[2*r+1]) + q6KPairC(c8, u1[8+2*r], c9, u1[9+2*r])
			sc := int32(int8(sc[s0+2*r]))
			isum0 += sc * (v0 - int32(bs0[s0+2*r]))
			isum1 += sc * (v1 - int32(bs1[s0+2*r]))
		}
	}
	return isum0, isum1
}

// q6KDot1 is one row of q6KRowsPortable for a single token (u, d, bsum
// its slices), with the code words used as they are decoded rather than
// stored and reloaded. Each quarter's six 64-bit loads are taken first
// and each sub-block's sum is finished at once (q6KSub), rather than
// accumulating four sums over two steps: that keeps the live values
// within amd64's registers (the loop form spilled the sums every step).
func q6KDot1(row []byte, u []uint64, d []float32, bsum []int16) float32 {
	var acc float32
	for b := range d {
		blk := (*[q6KBytes]byte)(row[b*q6KBytes:][:q6KBytes])
		ub := (*[q6KStride]uint64)(u[b*q6KStride:][:q6KStride])
		bs := (*[16]int16)(bsum[b*16:][:16])
		var isum int32
		for g := 0; g < 4; g++ { // quarter g = 2h + half, as in q6KRowsPortable
			h, l := g>>1, 16*(g&1)
			ql := (*[48]byte)(blk[64*h+l:][:48])
			qh := (*[16]byte)(blk[128+32*h+l:][:16])
			ug := (*[16]uint64)(ub[16*g:][:16])
			kg := (*[8]uint64)(ub[q6KWords+8*g:][:8])
			sc := (*[7]byte)(blk[192+8*h+g&1:][:7])
			sb := (*[7]int16)(bs[8*h+g&1:][:7])
			lo0, lo8 := binary.LittleEndian.Uint64(ql[0:]), binary.LittleEndian.Uint64(ql[8:])
			hi0, hi8 := binary.LittleEndian.Uint64(ql[32:]), binary.LittleEndian.Uint64(ql[40:])
			top0, top8 := binary.LittleEndian.Uint64(qh[0:]), binary.LittleEndian.Uint64(qh[8:])
			isum += int32(int8(sc[0])) * (q6KSub(lo0&q6KLow4|top0<<4&q6KHigh2, lo8&q6KLow4|top8<<4&q6KHigh2, ug[0], ug[1], ug[8], ug[9], kg[0], kg[4]) - int32(sb[0]))
			isum += int32(int8(sc[2])) * (q6KSub(hi0&q6KLow4|top0<<2&q6KHigh2, hi8&q6KLow4|top8<<2&q6KHigh2, ug[2], ug[3], ug[10], ug[11], kg[1], kg[5]) - int32(sb[2]))
			isum += int32(int8(sc[4])) * (q6KSub(lo0>>4&q6KLow4|top0&q6KHigh2, lo8>>4&q6KLow4|top8&q6KHigh2, ug[4], ug[5], ug[12], ug[13], kg[2], kg[6]) - int32(sb[4]))
			isum += int32(int8(sc[6])) * (q6KSub(hi0>>4&q6KLow4|top0>>2&q6KHigh2, hi8>>4&q6KLow4|top8>>2&q6KHigh2, ug[6], ug[7], ug[14], ug[15], kg[3], kg[7]) - int32(sb[6]))
		}
		f := f16ToF32(binary.LittleEndian.Uint16(blk[208:])) * d[b]
		acc += float32(f * float32(isum))
	}
	return acc
}

// q6KSub is Σ(c−31)·q of a sub-block from its two code byte words x, y
// (steps j and j+1), their four activation words and two K.
func q6KSub(x, y, ux0, ux1, uy0, uy1, kx, ky uint64) int32 {
	return q6KPair(x&q6KEven, ux0, x>>8&q6KEven, ux1, kx) +
		q6KPair(y&q6KEven, uy0, y>>8&q6KEven, uy1, ky)
}
