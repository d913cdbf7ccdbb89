package quantize

import (
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/nlpodyssey/safetensors"
)

func TestF16(t *testing.T) {
	tests := []struct {
		in   float32
		bits uint16
		err  error
	}{
		{1, 0x3c00, nil},
		{-2, 0xc000, nil},
		{65504, 0x7bff, nil},
		{0.1, 0x2e66, nil}, // 0.0999755859375, nearest
		{math.Float32frombits(0x3f801000), 0x3c00, nil}, // 1 + 2^-11: tie, to even (down)
		{math.Float32frombits(0x3f803000), 0x3c02, nil}, // 1 + 3·2^-11: tie, to even (up)
		{5.960464477539063e-08, 0x0001, nil},            // smallest subnormal
		{65520, 0, ErrValue},                            // rounds to Inf
		{float32(math.Inf(1)), 0, ErrValue},
		{float32(math.NaN()), 0, ErrValue},
	}
	for _, tt := range tests {
		dst := make([]byte, 2)
		err := F32ToF16(dst, []float32{tt.in})
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%v: err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if got := binary.LittleEndian.Uint16(dst); err != nil || got != tt.bits {
			t.Errorf("%v: got 0x%04x (%v), want 0x%04x", tt.in, got, err, tt.bits)
		}
		back := make([]float32, 1)
		if err := F16ToF32(back, dst); err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(back[0] - tt.in)); d > math.Abs(float64(tt.in))*1.0/2048 {
			t.Errorf("%v: back %v", tt.in, back[0])
		}
	}
}

func TestBF16(t *testing.T) {
	tests := []struct {
		in   uint32 // float32 bits
		bits uint16
		err  error
	}{
		{0x3f800000, 0x3f80, nil},
		{0x3f808000, 0x3f80, nil}, // tie, even stays
		{0x3f818000, 0x3f82, nil}, // tie, odd rounds up
		{0x3f808001, 0x3f81, nil}, // above the tie
		{0xbf7fffff, 0xbf80, nil}, // carries into the exponent
		{0x00000001, 0x0000, nil}, // subnormal rounds to zero
		{0x7f7fffff, 0, ErrValue}, // MaxFloat32 rounds to Inf
		{0x7fc00000, 0, ErrValue}, // NaN
	}
	for _, tt := range tests {
		dst := make([]byte, 2)
		err := F32ToBF16(dst, []float32{math.Float32frombits(tt.in)})
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("0x%08x: err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if got := binary.LittleEndian.Uint16(dst); err != nil || got != tt.bits {
			t.Errorf("0x%08x: got 0x%04x (%v), want 0x%04x", tt.in, got, err, tt.bits)
		}
	}
	// Every bf16 value survives bf16 → f32 → bf16.
	src := make([]byte, 2)
	dst := make([]byte, 2)
	f := make([]float32, 1)
	for b := range 1 << 16 {
		if b&0x7f80 == 0x7f80 {
			continue // Inf/NaN
		}
		binary.LittleEndian.PutUint16(src, uint16(b))
		if err := BF16ToF32(f, src); err != nil {
			t.Fatal(err)
		}
		if err := F32ToBF16(dst, f); err != nil || binary.LittleEndian.Uint16(dst) != uint16(b) {
			t.Fatalf("0x%04x: round trip gave 0x%04x (%v)", b, binary.LittleEndian.Uint16(dst), err)
		}
	}
}

func TestFloatLengths(t *testing.T) {
	for name, err := range map[string]error{
		"F32ToF16":  F32ToF16(make([]byte, 3), make([]float32, 2)),
		"F16ToF32":  F16ToF32(make([]float32, 2), make([]byte, 5)),
		"F32ToBF16": F32ToBF16(make([]byte, 2), make([]float32, 2)),
		"BF16ToF32": BF16ToF32(make([]float32, 1), make([]byte, 4)),
	} {
		if !errors.Is(err, ErrLength) {
			t.Errorf("%s: err = %v, want ErrLength", name, err)
		}
	}
}

// TestGoldenF16: bitnet.cpp's F16 token_embd (and llama's output.weight) are
// the checkpoint's bf16 values converted with F32ToF16, byte for byte.
func TestGoldenF16(t *testing.T) {
	root := goldenDir(t)
	files, _ := filepath.Glob(filepath.Join(root, "*", "bitnetcpp-*.gguf"))
	checked := 0
	for _, path := range files {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var hf *hfModel
		for _, ti := range f.Tensors {
			name := map[string]string{"token_embd.weight": "model.embed_tokens.weight", "output.weight": "lm_head.weight"}[ti.Name]
			if ti.Type != gguf.F16 || name == "" {
				continue
			}
			if hf == nil {
				hf = loadHF(t, filepath.Dir(path))
			}
			tv, ok := hf.st.Tensor(name)
			if !ok || tv.DType() != safetensors.BF16 {
				t.Fatalf("%s: %s missing or not bf16", path, name)
			}
			got := make([]byte, len(ti.Data))
			if err := F32ToF16(got, bf16Floats(t, tv.Data())); err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(got, ti.Data); i >= 0 {
				t.Errorf("%s %s: byte %d differs", path, ti.Name, i)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no F16 embeddings found in the golden files")
	}
	t.Logf("checked %d F16 tensors", checked)
}
