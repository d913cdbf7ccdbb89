package quantize

// I2_S (FORMATS.md §3) is one flat array of the n = M·K codes c = t+1,
// row-major, in blocks of 128 codes stored in 32 bytes:
//
//	byte[32b+j] = c[128b+j]<<6 | c[128b+32+j]<<4 | c[128b+64+j]<<2 | c[128b+96+j]
//
// followed by the 32-byte tail (float32 scale, 28 zero bytes): n/4 + 32 bytes.
// Rows are not aligned to blocks: when K is not a multiple of 128
// (bitnet_b1_58-3B's ffn_down, K = 8640) a row starts inside a block, and the
// layout is still the flat one. n itself must be a multiple of 128, because a
// partial last block would not fit in n/4 bytes (bitnet.cpp would write it
// over the scale); every published model satisfies this.

const i2sBlock = 128

// PackI2S writes the I2_S encoding of codes (M×K, row-major) and scale into
// dst, which must be exactly gguf.TensorBytes(I2_S, [K, M]) = M·K/4 + 32 bytes.
func PackI2S(dst []byte, codes []int8, m, k int, scale float32) error {
	const op = "PackI2S"
	n, err := checkI2S(op, m, k)
	if err != nil {
		return err
	}
	shape := shapeMK(m, k)
	if err := needLen(op, shape, "codes", len(codes), n); err != nil {
		return err
	}
	if err := needLen(op, shape, "dst", len(dst), n/4+tailBytes); err != nil {
		return err
	}
	if err := checkScale(op, shape, scale); err != nil {
		return err
	}
	for b := 0; b < n; b += i2sBlock {
		c := codes[b : b+i2sBlock : b+i2sBlock]
		out := dst[b/4 : b/4+32 : b/4+32]
		var bad uint8
		for j := range 32 {
			c0, c1, c2, c3 := uint8(c[j]+1), uint8(c[32+j]+1), uint8(c[64+j]+1), uint8(c[96+j]+1)
			bad |= badBits(c0) | badBits(c1) | badBits(c2) | badBits(c3)
			out[j] = c0<<6 | c1<<4 | c2<<2 | c3
		}
		if bad != 0 {
			return findBadCode(op, m, k, codes) // earlier blocks were valid
		}
	}
	putTail(dst[n/4:], scale)
	return nil
}

// badBits is non-zero unless c = t+1 is a valid code 0, 1 or 2: c ≥ 4 (and
// the 255 of t = −2) have bits above 1 set, and c = 3 becomes 4 after +1.
func badBits(c uint8) uint8 { return (c+1)>>2 | c>>2 }

// UnpackI2S decodes an I2_S tensor of M×K codes from src (exactly M·K/4 + 32
// bytes) into dst and returns its scale. Code 3, which no encoder writes,
// decodes to 0 as in bitnet.cpp's kernels.
func UnpackI2S(dst []int8, src []byte, m, k int) (float32, error) {
	const op = "UnpackI2S"
	n, err := checkI2S(op, m, k)
	if err != nil {
		return 0, err
	}
	shape := shapeMK(m, k)
	if err := needLen(op, shape, "dst", len(dst), n); err != nil {
		return 0, err
	}
	if err := needLen(op, shape, "src", len(src), n/4+tailBytes); err != nil {
		return 0, err
	}
	for b := 0; b < n; b += i2sBlock {
		in := src[b/4 : b/4+32 : b/4+32]
		c := dst[b : b+i2sBlock : b+i2sBlock]
		for j, v := range in {
			c[j] = i2sDecode[v>>6]
			c[32+j] = i2sDecode[(v>>4)&3]
			c[64+j] = i2sDecode[(v>>2)&3]
			c[96+j] = i2sDecode[v&3]
		}
	}
	return getTail(src[n/4:]), nil
}

// i2sDecode maps a 2-bit code to its ternary value (3 → 0).
var i2sDecode = [4]int8{-1, 0, 1, 0}

func checkI2S(op string, m, k int) (int, error) {
	n, err := checkMK(op, m, k)
	if err != nil {
		return 0, err
	}
	if n%i2sBlock != 0 {
		return 0, newErr(op, shapeMK(m, k), ErrShape, "I2_S needs M·K = %d to be a multiple of %d (flat 128-code blocks)", n, i2sBlock)
	}
	return n, nil
}
