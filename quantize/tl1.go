package quantize

// TL1 (FORMATS.md §5) stores pairs of codes along K as one nibble,
// idx = 3·t[2p] + t[2p+1] + 4 ∈ [0, 8], two nibbles per byte, in bitnet.cpp's
// tiled order. With by = 256/bm, row m = a·BM + c·bm + e·16 + g and pair
// p = b·BK/2 + d·by/2 + f·2 + h, the nibble lives in
//
//	byte = (((((a·(K/BK)+b)·(BM/bm)+c)·(BK/by)+d)·(bm/16)+e)·(by/4)+f)·16 + g
//
// high nibble for h = 0. M·K/4 bytes, then the 32-byte tail.

// PackTL1 writes the TL1 encoding of codes (M×K, row-major) with tiling p and
// scale into dst, which must be exactly gguf.TensorBytes(TL1, [K, M]) =
// M·K/4 + 32 bytes.
func PackTL1(dst []byte, codes []int8, m, k int, p TLParams, scale float32) error {
	const op = "PackTL1"
	if err := p.ValidateTL1(m, k); err != nil {
		return err
	}
	n := m * k
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
	if err := checkCodes(op, m, k, codes); err != nil {
		return err
	}
	out := 0
	tl1Walk(m, k, p, func(row, pair int) {
		c := codes[row*k+2*pair : row*k+2*pair+4]
		dst[out] = byte(3*c[0]+c[1]+4)<<4 | byte(3*c[2]+c[3]+4)
		out++
	})
	putTail(dst[n/4:], scale)
	return nil
}

// UnpackTL1 decodes a TL1 tensor written with tiling p (src exactly
// M·K/4 + 32 bytes) into dst (M×K codes) and returns its scale. Nibbles above
// 8 are not produced by any encoder and are reported as errors.
func UnpackTL1(dst []int8, src []byte, m, k int, p TLParams) (float32, error) {
	const op = "UnpackTL1"
	if err := p.ValidateTL1(m, k); err != nil {
		return 0, err
	}
	n := m * k
	shape := shapeMK(m, k)
	if err := needLen(op, shape, "dst", len(dst), n); err != nil {
		return 0, err
	}
	if err := needLen(op, shape, "src", len(src), n/4+tailBytes); err != nil {
		return 0, err
	}
	in := 0
	badAt := -1
	tl1Walk(m, k, p, func(row, pair int) {
		b := src[in]
		if (b>>4) > 8 || b&15 > 8 {
			if badAt < 0 {
				badAt = in
			}
			b = 0x44 // decode as zeros; the error below is returned instead
		}
		c := dst[row*k+2*pair:]
		c[0], c[1] = pairDecode[b>>4][0], pairDecode[b>>4][1]
		c[2], c[3] = pairDecode[b&15][0], pairDecode[b&15][1]
		in++
	})
	if badAt >= 0 {
		return 0, newErr(op, shape, ErrValue, "byte %d (0x%02x) holds a nibble above 8", badAt, src[badAt])
	}
	return getTail(src[n/4:]), nil
}

// pairDecode maps a pair nibble 3·t0 + t1 + 4 back to (t0, t1).
var pairDecode = [9][2]int8{
	{-1, -1}, {-1, 0}, {-1, 1},
	{0, -1}, {0, 0}, {0, 1},
	{1, -1}, {1, 0}, {1, 1},
}

// tl1Walk calls visit for every byte of the TL1 data in file order, with the
// row and the first of the two pairs (high nibble) that byte holds; the
// second pair is pair+1. The nesting follows the byte formula above, so the
// writes are sequential.
func tl1Walk(m, k int, p TLParams, visit func(row, pair int)) {
	by := p.tl1By()
	for a := 0; a < m/p.BM; a++ {
		for b := 0; b < k/p.BK; b++ {
			for c := 0; c < p.BM/p.Bm; c++ {
				for d := 0; d < p.BK/by; d++ {
					for e := 0; e < p.Bm/16; e++ {
						row0 := a*p.BM + c*p.Bm + e*16
						for f := 0; f < by/4; f++ {
							pair := b*p.BK/2 + d*by/2 + f*2
							for g := range 16 {
								visit(row0+g, pair)
							}
						}
					}
				}
			}
		}
	}
}
