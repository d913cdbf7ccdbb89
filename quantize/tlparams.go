package quantize

import "fmt"

// TLParams are the tiling parameters of a TL1 or TL2 tensor. bitnet.cpp
// compiles them into its kernels and does not store them in the file, so a TL
// file is only readable with the parameters it was written with: the
// converter records them in metadata, and uses bitnet.cpp's own values for
// the shapes bitnet.cpp knows so that such files interoperate.
type TLParams struct {
	BM int // rows per tile; must divide M
	BK int // K elements per block
	Bm int // rows per SIMD block: TL1 16, 32 or 64; TL2 always 32
}

// String formats the parameters the way bitnet.cpp's codegen names them.
func (p TLParams) String() string { return fmt.Sprintf("BM=%d BK=%d bm=%d", p.BM, p.BK, p.Bm) }

// tl1By is bitnet.cpp's "by": K elements a SIMD block of bm rows covers per
// step (256 bits of LUT index nibbles over bm rows).
func (p TLParams) tl1By() int { return 256 / p.Bm }

// ValidateTL1 reports whether p can tile an M×K tensor in the TL1 layout:
// bm ∈ {16, 32, 64}, bm | BM | M, by = 256/bm, by | BK | K.
func (p TLParams) ValidateTL1(m, k int) error {
	const op = "TL1"
	if _, err := checkMK(op, m, k); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return newErr(op, shapeMK(m, k), ErrShape, "tiling %v: "+format, append([]any{p}, args...)...)
	}
	switch p.Bm {
	case 16, 32, 64:
	default:
		return bad("bm must be 16, 32 or 64")
	}
	by := p.tl1By()
	switch {
	case p.BM <= 0 || p.BM%p.Bm != 0:
		return bad("BM must be a positive multiple of bm")
	case m%p.BM != 0:
		return bad("BM does not divide M")
	case p.BK <= 0 || p.BK%by != 0:
		return bad("BK must be a positive multiple of by = 256/bm = %d", by)
	case k%p.BK != 0:
		return bad("BK does not divide K")
	}
	return nil
}

// TL2Split splits K into the part packed as triples (threeK, a multiple of
// BK) and the remainder packed as pairs (twoK), as bitnet.cpp does.
// BK must be positive.
func TL2Split(k, bk int) (threeK, twoK int) {
	if bk <= 0 || k < 0 {
		return 0, k
	}
	threeK = k / bk * bk
	return threeK, k - threeK
}

// ValidateTL2 reports whether p can tile an M×K tensor in the TL2 layout:
// bm = 32, 32 | BM | M, 24 | BK (sign bits come in groups of 8 triples),
// K ≥ 256 (bitnet.cpp's size formula), twoK a multiple of 32, and the packed
// data no larger than the F bytes of that formula.
func (p TLParams) ValidateTL2(m, k int) error {
	const op = "TL2"
	if _, err := checkMK(op, m, k); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return newErr(op, shapeMK(m, k), ErrShape, "tiling %v: "+format, append([]any{p}, args...)...)
	}
	switch {
	case p.Bm != 32:
		return bad("bm must be 32")
	case p.BM <= 0 || p.BM%32 != 0:
		return bad("BM must be a positive multiple of 32")
	case m%p.BM != 0:
		return bad("BM does not divide M")
	case p.BK <= 0 || p.BK%24 != 0:
		return bad("BK must be a positive multiple of 24")
	case k < 256:
		return bad("TL2 needs K >= 256")
	}
	threeK, twoK := TL2Split(k, p.BK)
	if twoK%32 != 0 {
		return bad("K - floor(K/BK)·BK = %d is not a multiple of 32", twoK)
	}
	if used, f := tl2Used(m, threeK, twoK), tl2F(m, k); used > f {
		return bad("packed data needs %d bytes, more than the %d bitnet.cpp's size formula allots", used, f)
	}
	return nil
}

// tl2Used is the packed size: nibbles M·threeK/6, signs M·threeK/24, pairs M·twoK/4.
func tl2Used(m, threeK, twoK int) int { return m*threeK/6 + m*threeK/24 + m*twoK/4 }

// tl2F is bitnet.cpp's F (FORMATS.md §1), integer arithmetic left to right.
// gguf.TensorBytes owns the file size; this copy only decides whether a
// tiling fits, and the packers check dst against roundup32(F)+32.
func tl2F(m, k int) int { return (((k-256)*m)/3)*5/8 + 256*m/2*4/8 }

func tl2Bytes(m, k int) int { return (tl2F(m, k)+31)/32*32 + tailBytes }

// shapeKey is an [M, K] pair.
type shapeKey struct{ m, k int }

// bitnetCppTL1 and bitnetCppTL2 are the parameter sets of bitnet.cpp's
// preset kernels (setup_env.py / codegen), keyed by [M, K]; the shapes of the
// three model families do not overlap, so one map serves all.
var bitnetCppTL1 = map[shapeKey]TLParams{
	// bitnet_b1_58-large
	{1536, 4096}: {256, 128, 32}, {1536, 1536}: {128, 64, 64}, {4096, 1536}: {256, 128, 32},
	// bitnet_b1_58-3B
	{3200, 8640}: {160, 64, 32}, {3200, 3200}: {320, 128, 64}, {8640, 3200}: {320, 64, 32},
	// Llama3-8B-1.58-100B-tokens
	{14336, 4096}: {256, 128, 32}, {4096, 14336}: {128, 64, 64}, {1024, 4096}: {256, 128, 32}, {4096, 4096}: {128, 64, 64},
}

var bitnetCppTL2 = map[shapeKey]TLParams{
	// bitnet_b1_58-large
	{1536, 4096}: {256, 96, 32}, {1536, 1536}: {128, 192, 32}, {4096, 1536}: {256, 96, 32},
	// bitnet_b1_58-3B
	{3200, 8640}: {160, 96, 32}, {3200, 3200}: {320, 96, 32}, {8640, 3200}: {320, 96, 32},
	// Llama3-8B-1.58-100B-tokens
	{14336, 4096}: {256, 96, 32}, {4096, 14336}: {128, 96, 32}, {1024, 4096}: {256, 96, 32}, {4096, 4096}: {128, 96, 32},
	// The tiny models of shared/golden, whose TL2 kernels were generated with
	// codegen_tl2.py --BM 128,128,256,128 --BK 96,96,96,96 --bm 32,32,32,32:
	// listed so that converting them reproduces bitnet.cpp's TL2 files.
	{256, 256}: {128, 96, 32}, {128, 256}: {128, 96, 32}, {512, 256}: {256, 96, 32}, {256, 512}: {128, 96, 32},
}

// BitnetCppTL1 returns bitnet.cpp's TL1 preset for an M×K tensor, if it has one.
func BitnetCppTL1(m, k int) (TLParams, bool) {
	p, ok := bitnetCppTL1[shapeKey{m, k}]
	return p, ok
}

// BitnetCppTL2 returns bitnet.cpp's TL2 preset for an M×K tensor, if it has
// one (including the golden tiny shapes, see above).
func BitnetCppTL2(m, k int) (TLParams, bool) {
	p, ok := bitnetCppTL2[shapeKey{m, k}]
	return p, ok
}

// tileRows is the derived BM: the largest of 256, 128, 64, 32 dividing M.
func tileRows(m int) int {
	for _, bm := range []int{256, 128, 64, 32} {
		if m%bm == 0 {
			return bm
		}
	}
	return 0
}

// TL1Params chooses TL1 tiling for an M×K tensor: bitnet.cpp's preset when it
// has one for the shape, otherwise the derived rule
//
//	bm = 32 (by = 8), BM = the largest of 256, 128, 64, 32 that divides M,
//	BK = the largest of 128, 64, 32, 16, 8 that divides K,
//
// which covers every M that is a multiple of 32 and every K that is a
// multiple of 8 (all supported models and the dummy sizes of FORMATS.md §8).
func TL1Params(m, k int) (TLParams, error) {
	if p, ok := BitnetCppTL1(m, k); ok {
		return p, nil
	}
	p := TLParams{BM: tileRows(m), Bm: 32}
	for _, bk := range []int{128, 64, 32, 16, 8} {
		if k%bk == 0 {
			p.BK = bk
			break
		}
	}
	if err := p.ValidateTL1(m, k); err != nil {
		return TLParams{}, err
	}
	return p, nil
}

// TL2Params chooses TL2 tiling for an M×K tensor: bitnet.cpp's preset when it
// has one for the shape, otherwise the derived rule
//
//	bm = 32, BK = 96, BM = the largest of 256, 128, 64, 32 that divides M,
//
// which covers every M that is a multiple of 32 and every K ≥ 256 that is a
// multiple of 32 (since 96 = 3·32, twoK = K mod 96 is then 0, 32 or 64).
func TL2Params(m, k int) (TLParams, error) {
	if p, ok := BitnetCppTL2(m, k); ok {
		return p, nil
	}
	p := TLParams{BM: tileRows(m), BK: 96, Bm: 32}
	if err := p.ValidateTL2(m, k); err != nil {
		return TLParams{}, err
	}
	return p, nil
}
