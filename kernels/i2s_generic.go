package kernels

// i2sBlock is the number of codes in one 32-byte block of the I2_S layout.
const i2sBlock = 128

// i2sCode returns the code (0..2, code 3 mapped to 1, i.e. t = 0) at flat
// index i: byte 32b+j%32 of block b = i/128 holds codes j, j+32, j+64, j+96 of
// the block in bits 7-6, 5-4, 3-2, 1-0.
func i2sCode(data []byte, i int) int32 {
	j := i % i2sBlock
	c := int32(data[i/i2sBlock*32+j%32]>>(6-2*(j/32))) & 3
	if c == 3 {
		c = 1
	}
	return c
}

// i2sDecode writes the codes of flat indices [i, i+len(dst)) to dst; the
// range must lie inside one block.
func i2sDecode(dst *[i2sBlock]int8, data []byte, i, n int) {
	blk := data[i/i2sBlock*32:][:32]
	j0 := i % i2sBlock
	for x := 0; x < n; x++ {
		j := j0 + x
		c := int8(blk[j%32]>>(6-2*(j/32))) & 3
		if c == 3 {
			c = 1
		}
		dst[x] = c
	}
}

// i2sRowsGeneric is the reference: for rows [m0, m1) and every token it
// forms Σ_k c[m,k]·q[n,k] exactly and stores it via i2sStore. Each stretch of
// a row that lies in one block is decoded once per group of 8 tokens.
func i2sRowsGeneric(out []float32, w *I2S, a *QActs, tok *i2sTokens, m0, m1 int) {
	const tg = 8
	var codes [i2sBlock]int8
	K := w.K
	for m := m0; m < m1; m++ {
		for n0 := 0; n0 < a.N; n0 += tg {
			nt := min(tg, a.N-n0)
			var acc [tg]int32
			for k := 0; k < K; {
				i := m*K + k
				cnt := min(i2sBlock-i%i2sBlock, K-k)
				i2sDecode(&codes, w.Data, i, cnt)
				for t := 0; t < nt; t++ {
					q := a.Q[(n0+t)*K+k:][:cnt]
					var s int32
					for x, v := range q {
						s += int32(codes[x]) * int32(v)
					}
					acc[t] += s
				}
				k += cnt
			}
			for t := 0; t < nt; t++ {
				i2sStore(out, w, tok, n0+t, m, acc[t])
			}
		}
	}
}
