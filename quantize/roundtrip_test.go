package quantize

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// The reference packers below evaluate FORMATS.md's byte formulas literally,
// element by element, independently of the loop nests in tl1.go/tl2.go.

func refPackI2S(codes []int8, scale float32) []byte {
	n := len(codes)
	out := make([]byte, n/4+32)
	for i, c := range codes {
		b, j, g := i/128, i%32, (i%128)/32
		out[32*b+j] |= byte(c+1) << (6 - 2*g)
	}
	putTail(out[n/4:], scale)
	return out
}

func refPackTL1(codes []int8, m, k int, p TLParams, scale float32) []byte {
	out := make([]byte, m*k/4+32)
	BM, BK, bm := p.BM, p.BK, p.Bm
	by := 256 / bm
	for row := range m {
		a, c, e, g := row/BM, (row%BM)/bm, (row%bm)/16, row%16
		for q := range k / 2 {
			b, d, f, h := q/(BK/2), (q%(BK/2))/(by/2), (q%(by/2))/2, q%2
			idx := byte(3*codes[row*k+2*q] + codes[row*k+2*q+1] + 4)
			at := (((((a*(k/BK)+b)*(BM/bm)+c)*(BK/by)+d)*(bm/16)+e)*(by/4)+f)*16 + g
			out[at] |= idx << (4 * (1 - h))
		}
	}
	putTail(out[m*k/4:], scale)
	return out
}

func refPackTL2(codes []int8, m, k int, p TLParams, scale float32) []byte {
	F := (((k-256)*m)/3)*5/8 + 256*m/2*4/8
	out := make([]byte, (F+31)/32*32+32)
	BM, BK := p.BM, p.BK
	threeK := k / BK * BK
	twoK := k - threeK
	signs, pairs := m*threeK/6, m*threeK/6+m*threeK/24
	for row := range m {
		a, c, r := row/BM, (row%BM)/32, row%32
		for tr := range threeK / 3 {
			x := codes[row*k+3*tr:]
			v := 9*int(x[0]) + 3*int(x[1]) + int(x[2])
			b, d, h := tr/(BK/3), (tr%(BK/3))/2, tr%2
			at := (((a*(threeK/BK)+b)*(BM/32)+c)*(BK/6)+d)*32 + pos32(r)
			mag := v
			if v < 0 {
				mag = -v
				e := (tr % (BK / 3)) / 8
				vec := ((a*(threeK/BK)+b)*(BM/32)+c)*(BK/24) + e
				L, i := r%16, 2*((tr%(BK/3))%8)+r/16 // row = c·32 + (i%2)·16 + L, triple = e·8 + i/2
				word := signs + vec*32 + 2*L
				bit := 15 - i
				out[word+bit/8] |= 1 << (bit % 8)
			}
			out[at] |= byte(mag) << (4 * (1 - h))
		}
		for q := range twoK / 2 {
			x := codes[row*k+threeK+2*q:]
			idx := byte(3*x[0] + x[1] + 4)
			b, d, h := q/16, (q%16)/2, q%2
			at := pairs + (((a*(twoK/32)+b)*(BM/32)+c)*8+d)*32 + pos32(r)
			out[at] |= idx << (4 * (1 - h))
		}
	}
	putTail(out[len(out)-32:], scale)
	return out
}

// tl1Tilings lists every valid TL1 tiling of an M×K tensor from small
// candidate sets, so tests cover bm = 16, 32, 64 and several BM, BK.
func tl1Tilings(m, k int) []TLParams {
	var ps []TLParams
	for _, bm := range []int{16, 32, 64} {
		for _, BM := range []int{16, 32, 64, 96, 128, 160, 256} {
			for _, BK := range []int{4, 8, 16, 24, 32, 64, 128, 192} {
				p := TLParams{BM, BK, bm}
				if p.ValidateTL1(m, k) == nil {
					ps = append(ps, p)
				}
			}
		}
	}
	return ps
}

func tl2Tilings(m, k int) []TLParams {
	var ps []TLParams
	for _, BM := range []int{32, 64, 96, 128, 160, 256, 320} {
		for _, BK := range []int{24, 48, 96, 192, 288} {
			p := TLParams{BM, BK, 32}
			if p.ValidateTL2(m, k) == nil {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

func packedSize(t *testing.T, typ gguf.Type, m, k int) int {
	t.Helper()
	n, err := gguf.TensorBytes(typ, []uint64{uint64(k), uint64(m)})
	if err != nil {
		t.Fatalf("gguf.TensorBytes(%v, [%d %d]): %v", typ, k, m, err)
	}
	return int(n)
}

// garbage fills dst with non-zero bytes, so a packer that skips a byte shows.
func garbage(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(255) + 1)
	}
	return b
}

func TestI2SRoundTrip(t *testing.T) {
	r := newRand(3)
	shapes := [][2]int{{1, 128}, {3, 128}, {2, 64}, {5, 384}, {4, 8640}, {32, 100}, {7, 256}}
	for range 40 {
		m := 1 + r.IntN(40)
		k := 128 / gcd(m, 128) * (1 + r.IntN(6))
		shapes = append(shapes, [2]int{m, k})
	}
	for _, s := range shapes {
		m, k := s[0], s[1]
		codes := randomCodes(r, m*k)
		scale := r.Float32()
		dst := garbage(r, packedSize(t, gguf.I2_S, m, k))
		if err := PackI2S(dst, codes, m, k, scale); err != nil {
			t.Fatalf("M=%d K=%d: %v", m, k, err)
		}
		if want := refPackI2S(codes, scale); !bytes.Equal(dst, want) {
			t.Fatalf("M=%d K=%d: PackI2S differs from the FORMATS formula", m, k)
		}
		back := make([]int8, m*k)
		got, err := UnpackI2S(back, dst, m, k)
		if err != nil || got != scale || !equalCodes(back, codes) {
			t.Fatalf("M=%d K=%d: round trip failed (err %v)", m, k, err)
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func TestTL1RoundTrip(t *testing.T) {
	r := newRand(4)
	shapes := [][2]int{{32, 8}, {64, 128}, {96, 192}, {128, 64}, {160, 320}, {256, 256}, {48, 48}}
	for range 12 {
		shapes = append(shapes, [2]int{16 * (1 + r.IntN(16)), 8 * (1 + r.IntN(40))})
	}
	cases := 0
	for _, s := range shapes {
		m, k := s[0], s[1]
		codes := randomCodes(r, m*k)
		for _, p := range tl1Tilings(m, k) {
			scale := r.Float32()
			dst := garbage(r, packedSize(t, gguf.TL1, m, k))
			if err := PackTL1(dst, codes, m, k, p, scale); err != nil {
				t.Fatalf("M=%d K=%d %v: %v", m, k, p, err)
			}
			if want := refPackTL1(codes, m, k, p, scale); !bytes.Equal(dst, want) {
				t.Fatalf("M=%d K=%d %v: PackTL1 differs from the FORMATS formula", m, k, p)
			}
			back := make([]int8, m*k)
			got, err := UnpackTL1(back, dst, m, k, p)
			if err != nil || got != scale || !equalCodes(back, codes) {
				t.Fatalf("M=%d K=%d %v: round trip failed (err %v)", m, k, p, err)
			}
			cases++
		}
	}
	if cases < 100 {
		t.Fatalf("only %d shape×tiling cases", cases)
	}
}

func TestTL2RoundTrip(t *testing.T) {
	r := newRand(5)
	shapes := [][2]int{{32, 256}, {128, 256}, {256, 512}, {64, 288}, {160, 320}, {96, 480}, {32, 640}}
	for range 12 {
		shapes = append(shapes, [2]int{32 * (1 + r.IntN(10)), 32 * (8 + r.IntN(20))})
	}
	cases := 0
	for _, s := range shapes {
		m, k := s[0], s[1]
		codes := randomCodes(r, m*k)
		for _, p := range tl2Tilings(m, k) {
			scale := r.Float32()
			dst := garbage(r, packedSize(t, gguf.TL2, m, k))
			if err := PackTL2(dst, codes, m, k, p, scale); err != nil {
				t.Fatalf("M=%d K=%d %v: %v", m, k, p, err)
			}
			if want := refPackTL2(codes, m, k, p, scale); !bytes.Equal(dst, want) {
				t.Fatalf("M=%d K=%d %v: PackTL2 differs from the FORMATS formula", m, k, p)
			}
			back := make([]int8, m*k)
			got, err := UnpackTL2(back, dst, m, k, p)
			if err != nil || got != scale || !equalCodes(back, codes) {
				t.Fatalf("M=%d K=%d %v: round trip failed (err %v)", m, k, p, err)
			}
			cases++
		}
	}
	if cases < 100 {
		t.Fatalf("only %d shape×tiling cases", cases)
	}
}
