package quantize

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/x448/float16"
)

// refVectors reads testdata/ggml_q8_0_q6_k.bin (see testdata/README.md).
func refVectors(t *testing.T) (x []float32, q8, q6 []byte, d6 []float32) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ggml_q8_0_q6_k.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 24 * 256
	floats := func(b []byte) []float32 {
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out
	}
	q8Len, q6Len := n/32*34, n/256*210
	if len(b) != 4*n+q8Len+q6Len+4*n {
		t.Fatalf("testdata has %d bytes", len(b))
	}
	x = floats(b[:4*n])
	q8 = b[4*n : 4*n+q8Len]
	q6 = b[4*n+q8Len : 4*n+q8Len+q6Len]
	d6 = floats(b[4*n+q8Len+q6Len:])
	return x, q8, q6, d6
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestQ8_0MatchesGGML: quantizing the reference inputs gives ggml's bytes,
// and dequantizing them gives q·d.
func TestQ8_0MatchesGGML(t *testing.T) {
	x, want, _, _ := refVectors(t)
	got := make([]byte, len(want))
	if err := QuantizeQ8_0(got, x); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("byte %d (block %d): got 0x%02x, ggml 0x%02x", i, i/34, got[i], want[i])
	}
	y := make([]float32, len(x))
	if err := DequantizeQ8_0(y, want); err != nil {
		t.Fatal(err)
	}
	for i := range y {
		blk := want[i/32*34:]
		d := float16.Frombits(binary.LittleEndian.Uint16(blk)).Float32()
		if q := int8(blk[2+i%32]); y[i] != float32(q)*d {
			t.Fatalf("element %d: %v != %d·%v", i, y[i], q, d)
		}
	}
}

// TestQ6KMatchesGGML: quantizing the reference inputs gives ggml's bytes, and
// dequantizing ggml's bytes gives ggml's floats.
func TestQ6KMatchesGGML(t *testing.T) {
	x, _, want, wantY := refVectors(t)
	got := make([]byte, len(want))
	if err := QuantizeQ6K(got, x); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("byte %d (block %d, offset %d): got 0x%02x, ggml 0x%02x", i, i/210, i%210, got[i], want[i])
	}
	y := make([]float32, len(x))
	if err := DequantizeQ6K(y, want); err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if math.Float32bits(y[i]) != math.Float32bits(wantY[i]) {
			t.Fatalf("element %d: %v, ggml %v", i, y[i], wantY[i])
		}
	}
}

// TestQ6KLayout builds a block by hand and checks where each value's bits
// and scale come from, independently of the quantizer.
func TestQ6KLayout(t *testing.T) {
	blk := make([]byte, 210)
	q := func(i int) int { return (i*7 + 3) % 64 } // 6-bit code of value i
	for i := range 256 {
		h, l, s := i/128, i%32, (i%128)/32
		ql := blk[64*h+l+32*(s&1):]
		ql[0] |= byte(q(i)&15) << (4 * (s / 2))
		blk[128+32*h+l] |= byte(q(i)>>4) << (2 * s)
	}
	for j := range 16 {
		blk[192+j] = byte(int8(j - 8))
	}
	binary.LittleEndian.PutUint16(blk[208:], float16.Fromfloat32(0.5).Bits())
	y := make([]float32, 256)
	if err := DequantizeQ6K(y, blk); err != nil {
		t.Fatal(err)
	}
	for i := range 256 {
		sub := i / 16 // scales[l/16 + 2s] within each half is sub-block i/16
		want := 0.5 * float32(sub-8) * float32(q(i)-32)
		if y[i] != want {
			t.Fatalf("value %d = %v, want %v", i, y[i], want)
		}
	}
}

// ggmlTotalError is ggml's test-quantize-fns metric: sqrt(Σ(x−y)²)/n.
func ggmlTotalError(x, y []float32) float64 {
	var s float64
	for i := range x {
		d := float64(x[i]) - float64(y[i])
		s += d * d
	}
	return math.Sqrt(s) / float64(len(x))
}

// TestKQuantErrorBounds: round trips on ggml's own test data stay within
// test-quantize-fns' limit (0.002), and every value within its block's
// quantization step.
func TestKQuantErrorBounds(t *testing.T) {
	const n = 32 * 128 // test-quantize-fns' test_size
	x := make([]float32, n)
	for i := range x {
		x[i] = 0.1 + 2*float32(math.Cos(float64(i)))
	}
	r := newRand(6)
	rnd := make([]float32, n)
	for i := range rnd {
		rnd[i] = float32(r.NormFloat64() * math.Pow(10, -3+3*r.Float64()))
	}
	for _, data := range [][]float32{x, rnd} {
		// Q8_0: |x − q·d| ≤ d/2 + |q|·|d − d16| ≤ d/2 + 127·d·2⁻¹¹.
		q8 := make([]byte, n/32*34)
		y := make([]float32, n)
		if err := QuantizeQ8_0(q8, data); err != nil {
			t.Fatal(err)
		}
		if err := DequantizeQ8_0(y, q8); err != nil {
			t.Fatal(err)
		}
		if e := ggmlTotalError(data, y); e > 0.002 {
			t.Errorf("Q8_0 total error %g > 0.002", e)
		}
		for i := range data {
			var amax float32
			for _, v := range data[i/32*32 : i/32*32+32] {
				amax = max(amax, abs32(v))
			}
			d := float64(amax) / 127
			if e := math.Abs(float64(data[i] - y[i])); e > d*(0.5+127.0/2048)+1e-12 {
				t.Fatalf("Q8_0 element %d: error %g > step bound (d=%g)", i, e, d)
			}
		}
		// Q6_K: each unclamped value within half a sub-block step, and the
		// ggml total error limit.
		q6 := make([]byte, n/256*210)
		if err := QuantizeQ6K(q6, data); err != nil {
			t.Fatal(err)
		}
		if err := DequantizeQ6K(y, q6); err != nil {
			t.Fatal(err)
		}
		if e := ggmlTotalError(data, y); e > 0.002 {
			t.Errorf("Q6_K total error %g > 0.002", e)
		}
		for i := range data {
			blk := q6[i/256*210:]
			d := float64(float16.Frombits(binary.LittleEndian.Uint16(blk[208:])).Float32())
			step := math.Abs(d * float64(int8(blk[192+(i%256)/16])))
			e := math.Abs(float64(data[i] - y[i]))
			if step == 0 || math.Abs(float64(y[i]))/step >= 31 {
				// A clamped code (−32 or 31) only shrinks the value.
				if math.Abs(float64(y[i])) > math.Abs(float64(data[i]))+step/2 {
					t.Fatalf("Q6_K element %d: clamped %v beyond input %v", i, y[i], data[i])
				}
				continue
			}
			if e > step/2*(1+1e-5) {
				t.Fatalf("Q6_K element %d: error %g > half step %g", i, e, step/2)
			}
		}
	}
}

func TestKQuantZeroBlocks(t *testing.T) {
	q8 := make([]byte, 34)
	q6 := make([]byte, 210)
	for i := range q6 {
		q6[i] = 0xEE
	}
	if err := QuantizeQ8_0(q8, make([]float32, 32)); err != nil {
		t.Fatal(err)
	}
	if err := QuantizeQ6K(q6, make([]float32, 256)); err != nil {
		t.Fatal(err)
	}
	for i, b := range append(q8, q6...) {
		if b != 0 {
			t.Fatalf("byte %d of zero blocks = 0x%02x", i, b)
		}
	}
}

// TestGoldenKQuants: for every Q8_0 or Q6_K tensor in a golden GGUF,
// quantizing the same tensor of the F32 golden file gives the same bytes.
// bitnet.cpp keeps these tiny models' embeddings in F16, so today this finds
// none and skips; it is here for golden files that have them.
func TestGoldenKQuants(t *testing.T) {
	root := goldenDir(t)
	files, _ := filepath.Glob(filepath.Join(root, "*", "bitnetcpp-*.gguf"))
	found := 0
	for _, path := range files {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, ti := range f.Tensors {
			if ti.Type != gguf.Q8_0 && ti.Type != gguf.Q6_K {
				continue
			}
			found++
			f32, err := gguf.Open(filepath.Join(filepath.Dir(path), "bitnetcpp-f32.gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer f32.Close()
			src, ok := f32.Tensor(ti.Name)
			if !ok || src.Type != gguf.F32 {
				t.Fatalf("%s: no F32 source for %s", path, ti.Name)
			}
			x := make([]float32, len(src.Data)/4)
			for i := range x {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(src.Data[4*i:]))
			}
			got := make([]byte, len(ti.Data))
			quant := QuantizeQ8_0
			if ti.Type == gguf.Q6_K {
				quant = QuantizeQ6K
			}
			if err := quant(got, x); err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(got, ti.Data); i >= 0 {
				t.Errorf("%s %s: byte %d differs", path, ti.Name, i)
			}
		}
	}
	if found == 0 {
		t.Skip("no Q8_0/Q6_K tensors in the golden GGUFs (their embeddings are F16)")
	}
}

func TestKQuantInvalid(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"q8 length", QuantizeQ8_0(make([]byte, 34), make([]float32, 31)), ErrShape},
		{"q8 dst", QuantizeQ8_0(make([]byte, 33), make([]float32, 32)), ErrLength},
		{"q8 nan", QuantizeQ8_0(make([]byte, 34), append(make([]float32, 31), nan)), ErrValue},
		{"q8 deq", DequantizeQ8_0(make([]float32, 32), make([]byte, 35)), ErrLength},
		{"q6 length", QuantizeQ6K(make([]byte, 210), make([]float32, 255)), ErrShape},
		{"q6 dst", QuantizeQ6K(make([]byte, 211), make([]float32, 256)), ErrLength},
		{"q6 inf", QuantizeQ6K(make([]byte, 210), append(make([]float32, 255), float32(math.Inf(1)))), ErrValue},
		{"q6 deq", DequantizeQ6K(make([]float32, 512), make([]byte, 210)), ErrLength},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}
