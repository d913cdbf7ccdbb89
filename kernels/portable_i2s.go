package kernels

// The portable I2_S matmul multiplies four code/activation pairs with one
// 64-bit integer multiply. A code byte of block b holds the codes c0..c3
// of positions j, j+32, j+64, j+96 (bits 7-6 … 1-0); i2sSpread widens it
// to C = c0·2^48 + c1·2^32 + c2·2^16 + c3, and the activations of those
// positions, biased to u = q+128 ∈ [0, 255], are laid out per token as
// U = u_j + u_{j+32}·2^16 + u_{j+64}·2^32 + u_{j+96}·2^48 (i2sLayout). In
// the product C·U the coefficient of 2^48 is c0·u_j + c1·u_{j+32} +
// c2·u_{j+64} + c3·u_{j+96}, the dot product of the four pairs; the
// coefficients below it (lanes 0-2) hold 1 to 3 products and the ones
// above fall off the 64-bit word. Each product is at most 2·255 = 510, so
// after summing the 32 words of a block lane 2 holds at most 32·3·510 =
// 48960 and lane 3 at most 32·4·510 = 65280, both below 2^16: no carry
// reaches or leaves lane 3, and Σ C·U >> 48 is the block's exact Σ c·u.
// Then Σ c·q = Σ c·u − 128·Σ c, with Σ c summed from the spread codes in
// the same pass (their four lanes added at the end; a lane gains at most
// 2 a byte, so a chunk's 256 bytes cannot overflow it). A separate pass
// for Σ c measured 40 % slower on decode: it reads the codes from memory
// without overlapping the arithmetic. Everything is exact integer arithmetic until
// i2sStore, so the result is the reference's bit for bit. Code 3, which
// valid files never hold, counts as 1 (t = 0) as in the reference.
//
// Cost: per code byte (4 weights) and token one load of U, one multiply
// and one add, plus a byte load and a table load shared by the tile's
// tokens; the layout is rebuilt per strip of 64 rows, a few percent.

// i2sSpread maps a code byte to its four codes in 16-bit lanes, the code
// in bits 2ℓ+1..2ℓ in lane ℓ.
var i2sSpread = func() (t [256]uint64) {
	for b := range t {
		for l := 0; l < 4; l++ {
			c := uint64(b >> (2 * l) & 3)
			if c == 3 {
				c = 1
			}
			t[b] |= c << (16 * l)
		}
	}
	return t
}()

const (
	i2sChunk = 1024 // activations laid out at a time (a multiple of 128)
	i2sStrip = 64   // rows sharing one layout of the activations
	i2sTile  = 4    // tokens per pass over a strip's codes
)

// i2sLayout writes the biased activations q[0:len] (a multiple of 128) in
// the layout U of the product trick, word 32b+j (positions 128b+j+32i in
// lane i) at u[(32b+j)*stride].
func i2sLayout(u []uint64, stride int, q []int8) {
	for b := 0; b < len(q)/i2sBlock; b++ {
		blk := (*[i2sBlock]int8)(q[b*i2sBlock:][:i2sBlock])
		dst := u[b*32*stride:][:31*stride+1]
		for j := 0; j < 32; j++ {
			dst[j*stride] = uint64(uint8(blk[j])^0x80) |
				uint64(uint8(blk[j+32])^0x80)<<16 |
				uint64(uint8(blk[j+64])^0x80)<<32 |
				uint64(uint8(blk[j+96])^0x80)<<48
		}
	}
}

// laneSum adds the four 16-bit lanes of v.
func laneSum(v uint64) int32 {
	return int32(v&0xffff + v>>16&0xffff + v>>32&0xffff + v>>48)
}

// i2sRowsPortable computes rows [m0, m1) for every token when rows start
// at block boundaries (K a multiple of 128): with the lookup tables of
// portable_i2s_lut.go when the call has rows enough to pay for building
// them, else with the product trick. Other shapes, where a row starts
// inside a block, take the reference. For the product trick rows are
// taken in strips of i2sStrip, tokens in tiles of i2sTile, the row in
// chunks of i2sChunk activations: the layout of a tile's chunk (the four
// tokens' words interleaved) serves the whole strip and stays in L1.
func i2sRowsPortable(out []float32, w *I2S, a *QActs, tok *i2sTokens, m0, m1 int) {
	K := w.K
	if K%i2sBlock != 0 {
		i2sRowsGeneric(out, w, a, tok, m0, m1)
		return
	}
	if (m1-m0)*min(a.N, i2sLUTTile) >= i2sLUTMinWork {
		i2sRowsLUT(out, w, a, tok, m0, m1)
		return
	}
	var u [i2sTile * i2sChunk / 4]uint64
	var cu [i2sStrip][i2sTile]int32
	var cs [i2sStrip]int32
	for ms := m0; ms < m1; ms += i2sStrip {
		me := min(ms+i2sStrip, m1)
		for n0 := 0; n0 < a.N; n0 += i2sTile {
			nt := min(i2sTile, a.N-n0)
			cu = [i2sStrip][i2sTile]int32{}
			for k0 := 0; k0 < K; k0 += i2sChunk {
				kc := min(i2sChunk, K-k0)
				if nt == i2sTile {
					for t := 0; t < nt; t++ {
						i2sLayout(u[t:], i2sTile, a.Q[(n0+t)*K+k0:][:kc])
					}
				} else {
					for t := 0; t < nt; t++ {
						i2sLayout(u[t*i2sChunk/4:], 1, a.Q[(n0+t)*K+k0:][:kc])
					}
				}
				for m := ms; m < me; m++ {
					codes := w.Data[(m*K+k0)/4:][:kc/4]
					r := m - ms
					var c int32 // Σ c of the chunk, the same for every tile
					if nt == i2sTile {
						c = i2sDotP4(&cu[r], codes, u[:kc])
					} else {
						for t := 0; t < nt; t++ {
							var s int32
							s, c = i2sDotP1(codes, u[t*i2sChunk/4:][:kc/4])
							cu[r][t] += s
						}
					}
					if n0 == 0 {
						if k0 == 0 {
							cs[r] = 0
						}
						cs[r] += c
					}
				}
			}
			for m := ms; m < me; m++ {
				r := m - ms
				for t := 0; t < nt; t++ {
					i2sStore(out, w, tok, n0+t, m, cu[r][t]-128*cs[r])
				}
			}
		}
	}
}

// i2sDotP1 returns Σ c·u over the code bytes of whole blocks against one
// token's layout u, and Σ c.
func i2sDotP1(codes []byte, u []uint64) (cu, cs int32) {
	var csw uint64
	for b := 0; b < len(codes)/32; b++ {
		s, c := i2sBlockP1((*[32]byte)(codes[b*32:][:32]), (*[32]uint64)(u[b*32:][:32]))
		cu += s
		csw += c
	}
	return cu, laneSum(csw)
}

// i2sBlockP1 is i2sDotP1 for one block, four bytes at a time into two
// sums (16 words each, inside the 32 that the bound allows; more sums
// spill registers); it returns Σ c·u and the sum of the spread codes.
func i2sBlockP1(blk *[32]byte, ub *[32]uint64) (int32, uint64) {
	sp := &i2sSpread
	c, u := blk[:], ub[:] // slices: no nil check per iteration
	var s0, s1, cw uint64
	for j := 0; j < len(c); j += 4 {
		cj, uj := c[j:j+4:j+4], u[j:j+4:j+4]
		c0, c1, c2, c3 := sp[cj[0]], sp[cj[1]], sp[cj[2]], sp[cj[3]]
		s0 += c0*uj[0] + c2*uj[2]
		s1 += c1*uj[1] + c3*uj[3]
		cw += (c0 + c1) + (c2 + c3)
	}
	return int32(s0>>48) + int32(s1>>48), cw
}

// i2sDotP4 adds Σ c·u against four tokens' interleaved layouts u to acc
// and returns Σ c. The block loop takes array pointers and the sums live
// only inside i2sBlockP4, which keeps them in registers.
func i2sDotP4(acc *[i2sTile]int32, codes []byte, u []uint64) int32 {
	var csw uint64
	for b := 0; b < len(codes)/32; b++ {
		csw += i2sBlockP4(acc, (*[32]byte)(codes[b*32:][:32]), (*[32 * i2sTile]uint64)(u[b*32*i2sTile:][:32*i2sTile]))
	}
	return laneSum(csw)
}

// i2sBlockP4 is i2sDotP4 for one block; it returns the sum of the spread
// codes.
func i2sBlockP4(acc *[i2sTile]int32, blk *[32]byte, ub *[32 * i2sTile]uint64) uint64 {
	sp := &i2sSpread
	c, u := blk[:], ub[:] // slices: no nil check per iteration
	var s0, s1, s2, s3, cs uint64
	for j := range c {
		cw := sp[c[j]]
		w := u[4*j : 4*j+4 : 4*j+4]
		s0 += cw * w[0]
		s1 += cw * w[1]
		s2 += cw * w[2]
		s3 += cw * w[3]
		cs += cw
	}
	acc[0] += int32(s0 >> 48)
	acc[1] += int32(s1 >> 48)
	acc[2] += int32(s2 >> 48)
	acc[3] += int32(s3 >> 48)
	return cs
}
