package quantize

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// modelShapes returns the [M, K] of every ternary projection of a model:
// q and o [h, h], k and v [kv, h], gate and up [ffn, h], down [h, ffn].
func modelShapes(h, ffn, kv int) [][2]int {
	return [][2]int{{h, h}, {kv, h}, {ffn, h}, {h, ffn}}
}

// supportedModels: FORMATS.md §6 and §8 layouts (kv = heads_kv · head_dim).
var supportedModels = map[string][][2]int{
	"2B-4T":           modelShapes(2560, 6912, 5*128),
	"large":           modelShapes(1536, 4096, 1536),
	"3B":              modelShapes(3200, 8640, 3200),
	"Llama3-8B":       modelShapes(4096, 14336, 8*128),
	"Falcon3-1B":      modelShapes(2048, 8192, 4*256),
	"Falcon3-3B":      modelShapes(3072, 9216, 4*256),
	"Falcon3-7B/10B":  modelShapes(3072, 23040, 4*256),
	"golden-tiny":     modelShapes(256, 512, 128),
	"golden-tiny-mha": modelShapes(256, 512, 256),
}

func init() {
	for _, d := range [][3]int{ // dummy sizes: hidden, ffn (MHA: kv = hidden)
		{768, 3072, 0}, {1024, 3072, 0}, {2048, 3584, 0}, {1536, 9216, 0}, {3072, 7680, 0},
		{3840, 8192, 0}, {4096, 12032, 0}, {5120, 13824, 0}, {6656, 16384, 0}, {8192, 24576, 0}, {8192, 45568, 0},
	} {
		supportedModels[fmt.Sprintf("dummy-%d-%d", d[0], d[1])] = modelShapes(d[0], d[1], d[0])
	}
}

// TestTLParamsCoverSupportedModels: every projection of every supported model
// gets valid TL1 and TL2 parameters, and the packers' sizes agree with
// gguf.TensorBytes for it.
func TestTLParamsCoverSupportedModels(t *testing.T) {
	for name, shapes := range supportedModels {
		for _, s := range shapes {
			m, k := s[0], s[1]
			p1, err := TL1Params(m, k)
			if err != nil {
				t.Errorf("%s: TL1: %v", name, err)
			}
			p2, err := TL2Params(m, k)
			if err != nil {
				t.Errorf("%s: TL2: %v", name, err)
			}
			if err := p1.ValidateTL1(m, k); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if err := p2.ValidateTL2(m, k); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if got, want := tl2Bytes(m, k), packedSize(t, gguf.TL2, m, k); got != want {
				t.Errorf("%s [%d,%d]: TL2 size %d, gguf says %d", name, m, k, got, want)
			}
			if _, err := checkI2S("I2_S", m, k); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

func TestBitnetCppPresets(t *testing.T) {
	for s, p := range bitnetCppTL1 {
		if err := p.ValidateTL1(s.m, s.k); err != nil {
			t.Errorf("TL1 preset [%d,%d]: %v", s.m, s.k, err)
		}
		if got, _ := TL1Params(s.m, s.k); got != p {
			t.Errorf("TL1Params(%d,%d) = %v, want preset %v", s.m, s.k, got, p)
		}
	}
	for s, p := range bitnetCppTL2 {
		if err := p.ValidateTL2(s.m, s.k); err != nil {
			t.Errorf("TL2 preset [%d,%d]: %v", s.m, s.k, err)
		}
		if got, _ := TL2Params(s.m, s.k); got != p {
			t.Errorf("TL2Params(%d,%d) = %v, want preset %v", s.m, s.k, got, p)
		}
	}
	// shared/golden/README.md §4 table, with its three_k / two_k.
	for _, g := range []struct{ m, k, BM, threeK, twoK int }{
		{256, 256, 128, 192, 64}, {128, 256, 128, 192, 64}, {512, 256, 256, 192, 64}, {256, 512, 128, 480, 32},
	} {
		p, err := TL2Params(g.m, g.k)
		if err != nil || p != (TLParams{g.BM, 96, 32}) {
			t.Errorf("TL2Params(%d,%d) = %v, %v", g.m, g.k, p, err)
		}
		if th, tw := TL2Split(g.k, p.BK); th != g.threeK || tw != g.twoK {
			t.Errorf("TL2Split(%d, %d) = %d, %d", g.k, p.BK, th, tw)
		}
	}
}

func TestDerivedTLParams(t *testing.T) {
	tests := []struct {
		m, k     int
		tl1, tl2 TLParams
	}{
		{2560, 2560, TLParams{256, 128, 32}, TLParams{256, 96, 32}},
		{640, 2560, TLParams{128, 128, 32}, TLParams{128, 96, 32}},
		{6912, 2560, TLParams{256, 128, 32}, TLParams{256, 96, 32}},
		{2560, 6912, TLParams{256, 128, 32}, TLParams{256, 96, 32}},
		{3200, 8640, TLParams{160, 64, 32}, TLParams{160, 96, 32}}, // presets
		{96, 288, TLParams{32, 32, 32}, TLParams{32, 96, 32}},
		{96, 264, TLParams{32, 8, 32}, TLParams{}},
	}
	for _, tt := range tests {
		p1, err1 := TL1Params(tt.m, tt.k)
		p2, err2 := TL2Params(tt.m, tt.k)
		if tt.tl2 == (TLParams{}) && err2 != nil { // K = 264 is not a multiple of 32: no TL2
			err2 = nil
		}
		if err1 != nil || err2 != nil || p1 != tt.tl1 || p2 != tt.tl2 {
			t.Errorf("[%d,%d]: TL1 %v %v, TL2 %v %v; want %v, %v", tt.m, tt.k, p1, err1, p2, err2, tt.tl1, tt.tl2)
		}
	}
}

func TestTLParamsInvalid(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"TL1 M not multiple of 32", func() error { _, err := TL1Params(48, 128); return err }()},
		{"TL1 K not multiple of 8", func() error { _, err := TL1Params(64, 100); return err }()},
		{"TL2 K < 256", func() error { _, err := TL2Params(64, 224); return err }()},
		{"TL2 K not multiple of 32", func() error { _, err := TL2Params(64, 272); return err }()},
		{"TL2 M not multiple of 32", func() error { _, err := TL2Params(80, 256); return err }()},
		{"zero M", func() error { _, err := TL2Params(0, 256); return err }()},
		{"TL1 bm 128", TLParams{128, 128, 128}.ValidateTL1(128, 128)},
		{"TL1 BM not multiple of bm", TLParams{48, 128, 32}.ValidateTL1(96, 128)},
		{"TL1 BK not multiple of by", TLParams{32, 12, 32}.ValidateTL1(32, 24)},
		{"TL1 BK does not divide K", TLParams{32, 64, 32}.ValidateTL1(32, 96)},
		{"TL1 BM does not divide M", TLParams{64, 64, 32}.ValidateTL1(96, 64)},
		{"TL2 bm 16", TLParams{32, 96, 16}.ValidateTL2(32, 256)},
		{"TL2 BK not multiple of 24", TLParams{32, 64, 32}.ValidateTL2(32, 256)},
		{"TL2 BM does not divide M", TLParams{64, 96, 32}.ValidateTL2(96, 256)},
		{"TL2 twoK not multiple of 32", TLParams{32, 120, 32}.ValidateTL2(32, 256)},
		{"TL2 data exceeds F", TLParams{32, 672, 32}.ValidateTL2(32, 1024)},
	}
	for _, tt := range tests {
		var qe *Error
		if !errors.As(tt.err, &qe) || !errors.Is(tt.err, ErrShape) {
			t.Errorf("%s: err = %v, want an *Error of kind ErrShape", tt.name, tt.err)
			continue
		}
		if qe.Shape == "" || qe.Detail == "" {
			t.Errorf("%s: error lacks shape or reason: %v", tt.name, tt.err)
		}
	}
}

func TestTL2Split(t *testing.T) {
	for _, tt := range [][4]int{{256, 96, 192, 64}, {512, 96, 480, 32}, {1536, 192, 1536, 0}, {8640, 96, 8640, 0}, {3200, 96, 3168, 32}, {100, 0, 0, 100}} {
		if a, b := TL2Split(tt[0], tt[1]); a != tt[2] || b != tt[3] {
			t.Errorf("TL2Split(%d, %d) = %d, %d; want %d, %d", tt[0], tt[1], a, b, tt[2], tt[3])
		}
	}
}
