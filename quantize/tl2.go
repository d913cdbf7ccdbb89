package quantize

// TL2 (FORMATS.md §5) splits K into threeK = floor(K/BK)·BK, packed as
// triples, and twoK = K − threeK, packed as pairs. With a = m/BM,
// c = (m%BM)/32, r = m%32 and
//
//	pos32(r) = r for r < 8 or r ≥ 24, r+8 for 8 ≤ r < 16, r−8 for 16 ≤ r < 24
//
// the tensor is, in order:
//
//   - nibbles (M·threeK/6 bytes): triple t of a row, v = 9·t0 + 3·t1 + t2,
//     stores |v| at byte (((a·(threeK/BK)+b)·(BM/32)+c)·(BK/6)+d)·32 + pos32(r)
//     with b = t/(BK/3), d = (t%(BK/3))/2, high nibble for even t%(BK/3);
//   - signs (M·threeK/24 bytes): one 32-byte vector per (a, b, c, e), e =
//     (t%(BK/3))/8, in the same nesting order; the vector is 16 little-endian
//     uint16 words, and bit 15−i of word L is v<0 for the triple
//     b·BK/3 + e·8 + i/2 of row a·BM + c·32 + (i%2)·16 + L;
//   - pairs over the last twoK columns (M·twoK/4 bytes), nibble 3·t0 + t1 + 4
//     as in TL1, pair p at byte (((a·(twoK/32)+b)·(BM/32)+c)·8+d)·32 + pos32(r)
//     with b = p/16, d = (p%16)/2, high nibble for even p;
//
// then zeros up to roundup32(F) (F from bitnet.cpp's size formula) and the
// 32-byte tail.

// pos32 is the byte position of row r inside a 32-byte vector: bitnet.cpp's
// AVX2 unpacking interleaves the middle two 8-row quarters.
func pos32(r int) int {
	switch {
	case r >= 8 && r < 16:
		return r + 8
	case r >= 16 && r < 24:
		return r - 8
	}
	return r
}

// tl2Layout holds the region offsets of one TL2 tensor.
type tl2Layout struct {
	m, k, threeK, twoK int
	p                  TLParams
	signs, pairs, used int // byte offsets of the sign and pair regions, end of data
}

func newTL2Layout(m, k int, p TLParams) tl2Layout {
	threeK, twoK := TL2Split(k, p.BK)
	l := tl2Layout{m: m, k: k, threeK: threeK, twoK: twoK, p: p}
	l.signs = m * threeK / 6
	l.pairs = l.signs + m*threeK/24
	l.used = l.pairs + m*twoK/4
	return l
}

// PackTL2 writes the TL2 encoding of codes (M×K, row-major) with tiling p and
// scale into dst, which must be exactly gguf.TensorBytes(TL2, [K, M]) =
// roundup32(F) + 32 bytes.
func PackTL2(dst []byte, codes []int8, m, k int, p TLParams, scale float32) error {
	const op = "PackTL2"
	if err := p.ValidateTL2(m, k); err != nil {
		return err
	}
	shape := shapeMK(m, k)
	if err := needLen(op, shape, "codes", len(codes), m*k); err != nil {
		return err
	}
	if err := needLen(op, shape, "dst", len(dst), tl2Bytes(m, k)); err != nil {
		return err
	}
	if err := checkScale(op, shape, scale); err != nil {
		return err
	}
	if err := checkCodes(op, m, k, codes); err != nil {
		return err
	}
	l := newTL2Layout(m, k, p)
	data := dst[:len(dst)-tailBytes]
	clear(data)
	l.walkTriples(func(row []int8, nib []byte, sign []byte, pos, half int) {
		for tt := 0; tt < len(row)/3; tt++ {
			v := 9*row[3*tt] + 3*row[3*tt+1] + row[3*tt+2]
			mag := byte(v)
			if v < 0 {
				mag = byte(-v)
				bit := 15 - (2*(tt%8) + half)
				sign[(tt/8)*32+bit/8] |= 1 << (bit % 8)
			}
			nib[(tt/2)*32+pos] |= mag << (4 * (1 - tt%2))
		}
	}, codes, data)
	l.walkPairs(func(row []int8, out []byte, pos int) {
		for q := 0; q < 16; q++ {
			idx := byte(3*row[2*q] + row[2*q+1] + 4)
			out[(q/2)*32+pos] |= idx << (4 * (1 - q%2))
		}
	}, codes, data)
	putTail(dst[len(dst)-tailBytes:], scale)
	return nil
}

// UnpackTL2 decodes a TL2 tensor written with tiling p (src exactly
// roundup32(F) + 32 bytes) into dst (M×K codes) and returns its scale.
// Triple magnitudes above 13 and pair nibbles above 8 are errors.
func UnpackTL2(dst []int8, src []byte, m, k int, p TLParams) (float32, error) {
	const op = "UnpackTL2"
	if err := p.ValidateTL2(m, k); err != nil {
		return 0, err
	}
	shape := shapeMK(m, k)
	if err := needLen(op, shape, "dst", len(dst), m*k); err != nil {
		return 0, err
	}
	if err := needLen(op, shape, "src", len(src), tl2Bytes(m, k)); err != nil {
		return 0, err
	}
	l := newTL2Layout(m, k, p)
	bad := ""
	l.walkTriples(func(row []int8, nib []byte, sign []byte, pos, half int) {
		for tt := 0; tt < len(row)/3; tt++ {
			mag := int(nib[(tt/2)*32+pos]>>(4*(1-tt%2))) & 15
			if mag > 13 {
				bad = "a triple magnitude above 13"
				mag = 0
			}
			bit := 15 - (2*(tt%8) + half)
			if sign[(tt/8)*32+bit/8]>>(bit%8)&1 != 0 {
				mag = -mag
			}
			t := tripleDecode[mag+13]
			row[3*tt], row[3*tt+1], row[3*tt+2] = t[0], t[1], t[2]
		}
	}, dst, src)
	l.walkPairs(func(row []int8, in []byte, pos int) {
		for q := 0; q < 16; q++ {
			idx := in[(q/2)*32+pos] >> (4 * (1 - q%2)) & 15
			if idx > 8 {
				bad = "a pair nibble above 8"
				idx = 4
			}
			row[2*q], row[2*q+1] = pairDecode[idx][0], pairDecode[idx][1]
		}
	}, dst, src)
	if bad != "" {
		return 0, newErr(op, shape, ErrValue, "data holds %s, which no encoder writes", bad)
	}
	return getTail(src[len(src)-tailBytes:]), nil
}

// tripleDecode maps v+13 (v = 9·t0 + 3·t1 + t2) back to (t0, t1, t2).
var tripleDecode = func() (t [27][3]int8) {
	for t0 := int8(-1); t0 <= 1; t0++ {
		for t1 := int8(-1); t1 <= 1; t1++ {
			for t2 := int8(-1); t2 <= 1; t2++ {
				t[9*t0+3*t1+t2+13] = [3]int8{t0, t1, t2}
			}
		}
	}
	return t
}()

// walkTriples calls visit once per (row, K-block) of the three part, with the
// row's BK codes of that block, the block's nibble bytes (BK/6 vectors of 32)
// and sign bytes (BK/24 vectors of 32), the row's pos32 and whether it is in
// the upper 16 rows of its 32-row group.
func (l tl2Layout) walkTriples(visit func(row []int8, nib, sign []byte, pos, half int), codes []int8, data []byte) {
	p := l.p
	nibBytes, signBytes := p.BK/6*32, p.BK/24*32
	blk := 0
	for a := 0; a < l.m/p.BM; a++ {
		for b := 0; b < l.threeK/p.BK; b++ {
			for c := 0; c < p.BM/32; c++ {
				nib := data[blk*nibBytes : (blk+1)*nibBytes]
				sign := data[l.signs+blk*signBytes : l.signs+(blk+1)*signBytes]
				for r := range 32 {
					m := a*p.BM + c*32 + r
					row := codes[m*l.k+b*p.BK : m*l.k+(b+1)*p.BK]
					// Word L = r%16 starts at byte 2L of each sign vector.
					visit(row, nib, sign[2*(r%16):], pos32(r), r/16)
				}
				blk++
			}
		}
	}
}

// walkPairs calls visit once per (row, 32-column block) of the two part,
// with the row's 32 codes and the block's 8 vectors of 32 bytes.
func (l tl2Layout) walkPairs(visit func(row []int8, out []byte, pos int), codes []int8, data []byte) {
	p := l.p
	blk := 0
	for a := 0; a < l.m/p.BM; a++ {
		for b := 0; b < l.twoK/32; b++ {
			for c := 0; c < p.BM/32; c++ {
				out := data[l.pairs+blk*256 : l.pairs+(blk+1)*256]
				for r := range 32 {
					m := a*p.BM + c*32 + r
					off := m*l.k + l.threeK + b*32
					visit(codes[off:off+32], out, pos32(r))
				}
				blk++
			}
		}
	}
}
