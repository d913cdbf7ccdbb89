package kernels

import "sync"

// The portable I2_S lookup-table kernel (the technique of bitnet.cpp's
// TL1/TL2 and of T-MAC, here on the canonical I2_S bytes as they lie in
// the file). A code byte at position j of block b holds the codes of the
// four weights at columns 128b+j, +32, +64, +96 (bits 7-6 … 1-0). For a
// tile of four tokens and a code position, a table maps each of the 256
// byte values to the four tokens' partial dot products Σ_i t_i·q_i over
// those four columns, one token per 16-bit lane of a uint64, each biased
// by 4·128 = 512 so that it lies in [0, 1024] (t·q ∈ [−128, 128]). The
// matmul is then, per code byte and tile, one byte load and one add from
// the table: 16 multiply-adds (four weights × four tokens) for what the
// product trick (portable_i2s.go) spends four multiplies and their
// operand loads on.
//
// Loop order: per group of tokens, the row is walked in stretches of
// i2sLUTPos code positions whose tables (32 KiB) stay in L1; each
// stretch's tables are built once and serve every row of the call, whose
// running sums live in a scratch slice. Eight tokens go at a time, two
// tables per position, so each code byte is loaded once for both. A
// table costs 256 stores, as much as a couple of hundred rows' lookups,
// so calls with few rows (small matrices, work-stealing tails, one token
// against a few hundred rows) keep the product trick: see i2sLUTMinWork.
//
// Exactness: a stretch's 16 (or 8) entries sum to at most 16·1024 < 2^16 per
// lane, so there are no carries between lanes; the sums are then widened
// into two uint64 of 32-bit lanes (tokens 0 and 2, 1 and 3), which hold
// the whole row (K/4 entries · 1024 < 2^32 for K < 2^24). The biases add
// up to 512·K/4 = 128·K per token, so Σ_k t·q = lane − 128·K exactly; the
// store adds Σ q back because i2sStore takes Σ c·q with c = t+1, and the
// float steps are i2sStore's: the result is the reference's bit for bit.
// Code 3 (never in valid files) counts as t = 0, as in the reference: the
// tables have entries for every byte value.

const (
	i2sLUTTile = 4  // tokens per table entry, one per 16-bit lane
	i2sLUTPos  = 16 // code positions per table stretch, one tile: 32 KiB of tables (L1)
	i2sLUTPos2 = 8  // the same for two tiles (8 tokens): 32 KiB
	// i2sLUTMinWork is the least rows·min(tokens, 4) a call takes the
	// tables for; below it the product trick is faster. A table costs
	// about as much as 230 rows' lookups (2560 columns: 38 µs to build
	// per tile against 0.17 µs a row), and a row's lookups for one token
	// save a third of the product trick's 0.25 µs, for four all of its
	// 0.66 µs: the break-even is about 450 rows for one token, 80 for
	// four or more.
	i2sLUTMinWork = 448

	lanes16 = 0x0001_0001_0001_0001 // 1 in each 16-bit lane
	evenW32 = 0x0000_ffff_0000_ffff // lanes 0 and 2, as 32-bit lanes
)

// i2sLUTScratch is one call's tables and row sums, taken from a
// sync.Pool: on the stack 64 KiB of tables would be zeroed on every call
// and grow every worker's stack, and the row sums depend on the call; the
// pool keeps steady state free of allocation (it refills only after a
// garbage collection empties it) without a field per thread.
type i2sLUTScratch struct {
	tab1 [i2sLUTPos][256]uint64     // one tile
	tab2 [i2sLUTPos2][2][256]uint64 // two tiles, the same position's side by side
	acc  [][4]uint64                // per row and tile: Σ lanes 0 and 2, lanes 1 and 3, as 32-bit lanes
}

var i2sLUTPool = sync.Pool{New: func() any { return new(i2sLUTScratch) }}

// i2sRowsLUT computes rows [m0, m1) of w for every token with the lookup
// tables; K must be a multiple of 128. Tokens go eight at a time (two
// tiles share each code byte load), the last four or fewer as one tile;
// a tile short of four tokens fills the missing lanes with zero
// activations (their sums are never stored).
func i2sRowsLUT(out []float32, w *I2S, a *QActs, tok *i2sTokens, m0, m1 int) {
	K, rows := w.K, m1-m0
	s := i2sLUTPool.Get().(*i2sLUTScratch)
	s.acc = growSlice(s.acc, rows)
	acc := s.acc[:rows]
	var q [2][i2sLUTTile][]int8
	for n0 := 0; n0 < a.N; {
		nt := min(2*i2sLUTTile, a.N-n0)
		if nt <= i2sLUTTile {
			nt = a.N - n0
		}
		for t := range 2 * i2sLUTTile {
			q[t/4][t%4] = nil
			if t < nt {
				q[t/4][t%4] = a.Q[(n0+t)*K:][:K]
			}
		}
		clear(acc)
		codes := w.Data[m0*K/4:]
		if nt > i2sLUTTile {
			for p0 := 0; p0 < K/4; p0 += i2sLUTPos2 {
				for p := range i2sLUTPos2 {
					u0, u1 := i2sLUTColumns(&q[0], p0+p), i2sLUTColumns(&q[1], p0+p)
					i2sLUTFill(&s.tab2[p][0], &u0)
					i2sLUTFill(&s.tab2[p][1], &u1)
				}
				i2sLUTRows2(&s.tab2, codes[p0:], K/4, acc)
			}
		} else {
			for p0 := 0; p0 < K/4; p0 += i2sLUTPos {
				for p := range i2sLUTPos {
					u := i2sLUTColumns(&q[0], p0+p)
					i2sLUTFill(&s.tab1[p], &u)
				}
				i2sLUTRows1(&s.tab1, codes[p0:], K/4, acc)
			}
		}
		bias := uint32(128 * K)
		for r, v := range acc {
			lane := [2 * i2sLUTTile]uint32{
				uint32(v[0]), uint32(v[1]), uint32(v[0] >> 32), uint32(v[1] >> 32),
				uint32(v[2]), uint32(v[3]), uint32(v[2] >> 32), uint32(v[3] >> 32),
			}
			for t := 0; t < nt; t++ {
				// Σ t·q + Σ q = Σ c·q, what i2sStore takes.
				i2sStore(out, w, tok, n0+t, m0+r, int32(lane[t]-bias)+tok.qsum[n0+t])
			}
		}
		n0 += nt
	}
	i2sLUTPool.Put(s)
}

// i2sLUTColumns returns the tile's activations at the four columns whose
// codes the byte at position p of a row holds, 128·(p/32) + p%32 + 32·i
// for i = 0..3, biased to q+128 ∈ [0, 255], one token per 16-bit lane
// (128, i.e. q = 0, for tokens past the tile's end, nil in q).
func i2sLUTColumns(q *[i2sLUTTile][]int8, p int) (u [4]uint64) {
	k := p/32*i2sBlock + p%32
	for t, qt := range q {
		if qt == nil {
			for i := range u {
				u[i] |= 128 << (16 * t)
			}
			continue
		}
		qc := qt[k : k+97 : k+97]
		u[0] |= uint64(uint8(qc[0])^0x80) << (16 * t)
		u[1] |= uint64(uint8(qc[32])^0x80) << (16 * t)
		u[2] |= uint64(uint8(qc[64])^0x80) << (16 * t)
		u[3] |= uint64(uint8(qc[96])^0x80) << (16 * t)
	}
	return u
}

// i2sLUTFill fills the table of one code position from its columns'
// activations u (i2sLUTColumns): entry c0<<6|c1<<4|c2<<2|c3 holds, in
// each lane, 512 + Σ_i t(c_i)·q_i. Per column the four codes give t·q +
// 128 = 256−u (code 0, t = −1), 128 (codes 1 and 3, t = 0) or u (code 2,
// t = +1); the sixteen values of each nibble are the sums of two
// columns', and every byte is the sum of its nibbles' entries. The
// stores dominate (256 a position), so the loops are written out.
func i2sLUTFill(t *[256]uint64, u *[4]uint64) {
	var hi, lo [16]uint64
	i2sLUTNibbles(&hi, u[0], u[1])
	i2sLUTNibbles(&lo, u[2], u[3])
	for h, hv := range hi {
		e := (*[16]uint64)(t[16*h:])
		e[0], e[1], e[2], e[3] = hv+lo[0], hv+lo[1], hv+lo[2], hv+lo[3]
		e[4], e[5], e[6], e[7] = hv+lo[4], hv+lo[5], hv+lo[6], hv+lo[7]
		e[8], e[9], e[10], e[11] = hv+lo[8], hv+lo[9], hv+lo[10], hv+lo[11]
		e[12], e[13], e[14], e[15] = hv+lo[12], hv+lo[13], hv+lo[14], hv+lo[15]
	}
}

// i2sLUTNibbles sets n[a<<2|b] to the sum of the column values of codes
// a and b for two columns of biased activations ua and ub (see
// i2sLUTFill).
func i2sLUTNibbles(n *[16]uint64, ua, ub uint64) {
	const z = 128 * lanes16
	a0, a2, b0, b2 := 256*lanes16-ua, ua, 256*lanes16-ub, ub
	n[0], n[1], n[2], n[3] = a0+b0, a0+z, a0+b2, a0+z
	n[4], n[5], n[6], n[7] = z+b0, 2*z, z+b2, 2*z
	n[8], n[9], n[10], n[11] = a2+b0, a2+z, a2+b2, a2+z
	n[12], n[13], n[14], n[15] = z+b0, 2*z, z+b2, 2*z
}

// i2sLUTRows1 adds to acc[r][0:2] the table entries of the i2sLUTPos code
// bytes data[r*stride:][:i2sLUTPos] of row r, widening the four 16-bit
// lane sums (at most 16·1024) into the 32-bit lanes of acc.
func i2sLUTRows1(tab *[i2sLUTPos][256]uint64, data []byte, stride int, acc [][4]uint64) {
	if len(acc) == 0 {
		return
	}
	_ = data[(len(acc)-1)*stride+i2sLUTPos-1]
	t := tab
	for r := range acc {
		c := (*[i2sLUTPos]byte)(data[r*stride:])
		s0 := t[0][c[0]] + t[1][c[1]] + t[2][c[2]] + t[3][c[3]] +
			t[4][c[4]] + t[5][c[5]] + t[6][c[6]] + t[7][c[7]]
		s1 := t[8][c[8]] + t[9][c[9]] + t[10][c[10]] + t[11][c[11]] +
			t[12][c[12]] + t[13][c[13]] + t[14][c[14]] + t[15][c[15]]
		s := s0 + s1
		a := &acc[r]
		a[0] += s & evenW32
		a[1] += s >> 16 & evenW32
	}
}

// i2sLUTRows2 is i2sLUTRows1 for two tiles of tokens (acc[r][0:2] and
// [2:4]) over i2sLUTPos2 code bytes: each code byte is loaded once for
// both tables.
func i2sLUTRows2(tab *[i2sLUTPos2][2][256]uint64, data []byte, stride int, acc [][4]uint64) {
	if len(acc) == 0 {
		return
	}
	_ = data[(len(acc)-1)*stride+i2sLUTPos2-1]
	t := tab
	for r := range acc {
		c := (*[i2sLUTPos2]byte)(data[r*stride:])
		c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
		s0 := t[0][0][c0] + t[1][0][c1] + t[2][0][c2] + t[3][0][c3]
		s1 := t[0][1][c0] + t[1][1][c1] + t[2][1][c2] + t[3][1][c3]
		c4, c5, c6, c7 := c[4], c[5], c[6], c[7]
		s0 += t[4][0][c4] + t[5][0][c5] + t[6][0][c6] + t[7][0][c7]
		s1 += t[4][1][c4] + t[5][1][c5] + t[6][1][c6] + t[7][1][c7]
		a := &acc[r]
		a[0] += s0 & evenW32
		a[1] += s0 >> 16 & evenW32
		a[2] += s1 & evenW32
		a[3] += s1 >> 16 & evenW32
	}
}
