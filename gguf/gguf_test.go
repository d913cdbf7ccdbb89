package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// allValuesKV covers every metadata value type, arrays of each, nested
// arrays and an empty array.
func allValuesKV() []KV {
	return []KV{
		{"general.architecture", "bitnet-b1.58"},
		{"u8", uint8(200)},
		{"i8", int8(-7)},
		{"u16", uint16(65000)},
		{"i16", int16(-32000)},
		{"u32", uint32(4000000000)},
		{"i32", int32(-2000000000)},
		{"f32", float32(3.25)},
		{"bool.true", true},
		{"bool.false", false},
		{"string", "naïve ✓"},
		{"u64", uint64(1) << 63},
		{"i64", int64(-1) << 62},
		{"f64", math.Pi},
		{"a.u8", Array{Uint8, []uint8{1, 2, 255}}},
		{"a.i8", Array{Int8, []int8{-128, 0, 127}}},
		{"a.u16", Array{Uint16, []uint16{1, 65535}}},
		{"a.i16", Array{Int16, []int16{-1, 2}}},
		{"a.u32", Array{Uint32, []uint32{7}}},
		{"a.i32", Array{Int32, []int32{1, 2, 6, 3}}},
		{"a.f32", Array{Float32, []float32{-0.5, float32(math.Inf(1))}}},
		{"a.bool", Array{Bool, []bool{true, false, true}}},
		{"a.string", Array{String, []string{"<s>", "", "▁the"}}},
		{"a.u64", Array{Uint64, []uint64{math.MaxUint64}}},
		{"a.i64", Array{Int64, []int64{math.MinInt64}}},
		{"a.f64", Array{Float64, []float64{1e300}}},
		{"a.empty", Array{Float32, []float32{}}},
		{"a.nested", Array{ArrayType, []Array{
			{Int32, []int32{1, 2}},
			{String, []string{"x"}},
			{ArrayType, []Array{{Uint8, []uint8{9}}}},
		}}},
	}
}

func fill(n uint64, seed byte) func(io.Writer) error {
	return func(w io.Writer) error {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7)
		}
		_, err := w.Write(b)
		return err
	}
}

func sampleTensors() []TensorSpec {
	specs := []TensorSpec{
		{Name: "token_embd.weight", Type: F16, Shape: []uint64{64, 10}},
		{Name: "blk.0.attn_norm.weight", Type: F32, Shape: []uint64{63}}, // forces padding
		{Name: "blk.0.attn_q.weight", Type: I2_S, Shape: []uint64{128, 8}},
		{Name: "blk.0.attn_k.weight", Type: TL1, Shape: []uint64{128, 4}},
		{Name: "blk.0.ffn_up.weight", Type: TL2, Shape: []uint64{512, 64}},
		{Name: "output.weight", Type: Q8_0, Shape: []uint64{64, 3}},
		{Name: "q6k", Type: Q6_K, Shape: []uint64{256, 2}},
		{Name: "bf16", Type: BF16, Shape: []uint64{3, 1, 2, 1}},
	}
	for i := range specs {
		n, err := TensorBytes(specs[i].Type, specs[i].Shape)
		if err != nil {
			panic(err)
		}
		specs[i].Write = fill(n, byte(i))
	}
	return specs
}

func encode(t testing.TB, kv []KV, tensors []TensorSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, kv, tensors); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reencode writes a parsed file back out from its own metadata and views.
func reencode(t testing.TB, f *File) []byte {
	t.Helper()
	specs := make([]TensorSpec, len(f.Tensors))
	for i, ti := range f.Tensors {
		data := ti.Data
		specs[i] = TensorSpec{Name: ti.Name, Type: ti.Type, Shape: ti.Shape, Write: func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}}
	}
	return encode(t, f.KV, specs)
}

func TestRoundTrip(t *testing.T) {
	for _, align := range []uint32{0, 32, 64, 4096} {
		kv := allValuesKV()
		if align != 0 {
			kv = append(kv, KV{AlignmentKey, align})
		}
		first := encode(t, kv, sampleTensors())
		f, err := Parse(first)
		if err != nil {
			t.Fatalf("align %d: %v", align, err)
		}
		if !reflect.DeepEqual(f.KV, kv) {
			t.Fatalf("align %d: metadata changed in round trip:\n got %#v\nwant %#v", align, f.KV, kv)
		}
		want := uint64(32)
		if align != 0 {
			want = uint64(align)
		}
		if f.Alignment != want || f.DataOffset%want != 0 {
			t.Fatalf("alignment %d, data offset %d", f.Alignment, f.DataOffset)
		}
		for i, spec := range sampleTensors() {
			ti := f.Tensors[i]
			var b bytes.Buffer
			spec.Write(&b)
			if ti.Name != spec.Name || ti.Type != spec.Type || !reflect.DeepEqual(ti.Shape, spec.Shape) || !bytes.Equal(ti.Data, b.Bytes()) {
				t.Fatalf("tensor %d: got %s %s %v", i, ti.Name, ti.Type, ti.Shape)
			}
			if ti.Offset%want != 0 {
				t.Fatalf("tensor %s misaligned at %d", ti.Name, ti.Offset)
			}
		}
		if second := reencode(t, f); !bytes.Equal(first, second) {
			t.Fatalf("align %d: write → read → write changed the bytes", align)
		}
	}
}

func TestAccessors(t *testing.T) {
	f, err := Parse(encode(t, allValuesKV(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Arch() != "bitnet-b1.58" {
		t.Errorf("Arch = %q", f.Arch())
	}
	if v, ok := f.Uint("u32"); !ok || v != 4000000000 {
		t.Errorf("Uint(u32) = %d %v", v, ok)
	}
	if v, ok := f.Uint("u64"); !ok || v != 1<<63 {
		t.Errorf("Uint(u64) = %d %v", v, ok)
	}
	if _, ok := f.Uint("i8"); ok {
		t.Error("Uint of a negative value succeeded")
	}
	if v, ok := f.Int("i16"); !ok || v != -32000 {
		t.Errorf("Int(i16) = %d %v", v, ok)
	}
	if v, ok := f.Float("f32"); !ok || v != 3.25 {
		t.Errorf("Float(f32) = %v %v", v, ok)
	}
	if v, ok := f.Bool("bool.true"); !ok || !v {
		t.Errorf("Bool = %v %v", v, ok)
	}
	if v, ok := f.Strings("a.string"); !ok || len(v) != 3 || v[2] != "▁the" {
		t.Errorf("Strings = %v %v", v, ok)
	}
	if _, ok := f.String("missing"); ok {
		t.Error("missing key found")
	}
}

func TestTensorBytes(t *testing.T) {
	tests := []struct {
		typ   Type
		shape []uint64
		want  uint64
		err   string
	}{
		{F32, []uint64{256, 512}, 524288, ""},
		{F16, []uint64{256, 512}, 262144, ""},
		{BF16, []uint64{3}, 6, ""},
		{Q8_0, []uint64{256, 2}, 2 * 8 * 34, ""},
		{Q4_0, []uint64{64}, 36, ""},
		{Q6_K, []uint64{2560, 128256}, 128256 * 10 * 210, ""},
		{TQ1_0, []uint64{256}, 54, ""},
		{TQ2_0, []uint64{512}, 132, ""},
		{I2_S, []uint64{256, 256}, 16416, ""},
		{I2_S, []uint64{8640, 3200}, 8640*3200/4 + 32, ""}, // K not a multiple of 128
		{TL1, []uint64{1536, 4096}, 1536*4096/4 + 32, ""},
		// TL2, FORMATS.md §1: K=256 gives F = M*K/4; K=512, M=256 gives
		// F = 13653 + 16384 = 30037, roundup32 = 30048.
		{TL2, []uint64{256, 256}, 16384 + 32, ""},
		{TL2, []uint64{512, 256}, 30048 + 32, ""},
		{TL2, []uint64{128, 4}, 0, "K >= 256"},
		{Q8_0, []uint64{33}, 0, "multiple of 32"},
		{I2_S, []uint64{2, 3}, 0, "multiple of 4"},
		{F32, []uint64{1 << 40, 1 << 40}, 0, "overflows"},
		{F32, []uint64{1 << 62}, 0, "overflows"},
		{F32, nil, 0, "dimensions"},
		{F32, []uint64{1, 1, 1, 1, 1}, 0, "dimensions"},
		{Type(99), []uint64{4}, 0, "unknown"},
	}
	for _, tt := range tests {
		got, err := TensorBytes(tt.typ, tt.shape)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %v: err %v, want %q", tt.typ, tt.shape, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %v = %d, %v; want %d", tt.typ, tt.shape, got, err, tt.want)
		}
	}
}

func TestSetTLIDs(t *testing.T) {
	defer SetTLIDs(38, 39)
	if err := SetTLIDs(38, 42); err != nil {
		t.Fatal(err)
	}
	if Type(42).String() != "TL2" || Type(39).Known() {
		t.Fatalf("TL2 renumbering not applied: 42=%s 39 known=%v", Type(42), Type(39).Known())
	}
	if _, err := TensorBytes(Type(42), []uint64{256, 32}); err != nil {
		t.Fatal(err)
	}
	if err := SetTLIDs(8, 39); err == nil {
		t.Fatal("TL id colliding with Q8_0 accepted")
	}
	if err := SetTLIDs(40, 40); err == nil {
		t.Fatal("equal TL ids accepted")
	}
}

func TestWriterRejects(t *testing.T) {
	short := TensorSpec{Name: "short", Type: F32, Shape: []uint64{4}, Write: fill(15, 0)}
	long := TensorSpec{Name: "long", Type: F32, Shape: []uint64{4}, Write: fill(17, 0)}
	failing := TensorSpec{Name: "failing", Type: F32, Shape: []uint64{4}, Write: func(io.Writer) error { return errors.New("boom") }}
	tests := []struct {
		name    string
		kv      []KV
		tensors []TensorSpec
		want    string
	}{
		{"short data", nil, []TensorSpec{short}, `"short"`},
		{"long data", nil, []TensorSpec{long}, "longer than"},
		{"failing writer", nil, []TensorSpec{failing}, "boom"},
		{"dup key", []KV{{"a", uint8(1)}, {"a", uint8(2)}}, nil, "duplicate metadata"},
		{"dup tensor", nil, []TensorSpec{sampleTensors()[0], sampleTensors()[0]}, "duplicate tensor"},
		{"bad value", []KV{{"x", 3}}, nil, "unsupported value type int"},
		{"bad array", []KV{{"x", Array{Int32, []float32{1}}}}, nil, "array of int32 holds []float32"},
		{"bad alignment", []KV{{AlignmentKey, uint32(3)}}, nil, "power-of-two"},
		{"bad type", nil, []TensorSpec{{Name: "t", Type: Type(77), Shape: []uint64{1}}}, "unknown ggml type"},
	}
	for _, tt := range tests {
		err := Encode(io.Discard, tt.kv, tt.tensors)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gguf")
	bad := sampleTensors()
	bad[3].Write = func(w io.Writer) error { w.Write([]byte{1, 2}); return errors.New("disk on fire") }
	if err := WriteFile(path, allValuesKV(), bad); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("failed write left %v", entries)
	}
	if err := WriteFile(path, allValuesKV(), sampleTensors()); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := encode(t, allValuesKV(), sampleTensors())
	if !bytes.Equal(f.Bytes(), want) {
		t.Fatal("WriteFile and Encode disagree")
	}
}

// TestOpenAndRead: a mapped and a read file hold the same bytes and
// tensors, and both fail on a truncated file with the file's name.
func TestOpenAndRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gguf")
	if err := WriteFile(path, allValuesKV(), sampleTensors()); err != nil {
		t.Fatal(err)
	}
	want := encode(t, allValuesKV(), sampleTensors())
	short := filepath.Join(dir, "short.gguf")
	if err := os.WriteFile(short, want[:len(want)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*File, error){"Open": Open, "Read": Read} {
		f, err := open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(f.Bytes(), want) || len(f.Tensors) != len(sampleTensors()) {
			t.Errorf("%s: bytes or tensors differ from the encoding", name)
		}
		if err := f.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
		if _, err := open(short); err == nil || !strings.Contains(err.Error(), short) {
			t.Errorf("%s of a truncated file: err = %v, want one naming the file", name, err)
		}
	}
}

// header builds raw GGUF bytes by hand for malformed-input tests.
type header struct{ bytes.Buffer }

func (h *header) u32(v uint32) *header { binary.Write(h, binary.LittleEndian, v); return h }
func (h *header) u64(v uint64) *header { binary.Write(h, binary.LittleEndian, v); return h }
func (h *header) str(s string) *header { h.u64(uint64(len(s))); h.WriteString(s); return h }
func start(version uint32, nTensors, nKV uint64) *header {
	h := &header{}
	h.WriteString("GGUF")
	return h.u32(version).u64(nTensors).u64(nKV)
}

// tensorFile is a file with one F32 tensor of shape dims at offset off,
// followed by dataLen bytes of data section.
func tensorFile(typ uint32, dims []uint64, off uint64, dataLen int) []byte {
	h := start(3, 1, 0)
	h.str("t").u32(uint32(len(dims)))
	for _, d := range dims {
		h.u64(d)
	}
	h.u32(typ).u64(off)
	for h.Len()%32 != 0 {
		h.WriteByte(0)
	}
	h.Write(make([]byte, dataLen))
	return h.Bytes()
}

func TestMalformed(t *testing.T) {
	twoTensors := func(off2 uint64) []byte {
		h := start(3, 2, 0)
		h.str("a").u32(1).u64(8).u32(0).u64(0)
		h.str("b").u32(1).u64(8).u32(0).u64(off2)
		for h.Len()%32 != 0 {
			h.WriteByte(0)
		}
		h.Write(make([]byte, 128))
		return h.Bytes()
	}
	nested := start(3, 0, 1)
	nested.str("deep").u32(uint32(ArrayType))
	for range 20 {
		nested.u32(uint32(ArrayType)).u64(1)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), "not a GGUF file"},
		{"v1", start(1, 0, 0).Bytes(), "v1 is not supported"},
		{"v9", start(9, 0, 0).Bytes(), "unknown GGUF version 9"},
		{"big endian", start(0x03000000, 0, 0).Bytes(), "big-endian"},
		{"huge tensor count", start(3, 1<<60, 0).Bytes(), "tensor count"},
		{"huge kv count", start(3, 0, 1<<40).Bytes(), "metadata count"},
		{"huge key length", append(start(3, 0, 1).u64(1<<50).Bytes(), make([]byte, 16)...), "string length"},
		{"huge string value", start(3, 0, 1).str("k").u32(uint32(String)).u64(1 << 40).Bytes(), `metadata "k"`},
		{"huge array", start(3, 0, 1).str("k").u32(uint32(ArrayType)).u32(uint32(Uint64)).u64(1 << 61).Bytes(), "array element count"},
		{"huge string array", start(3, 0, 1).str("k").u32(uint32(ArrayType)).u32(uint32(String)).u64(1 << 40).Bytes(), "array element count"},
		{"bad value type", start(3, 0, 1).str("k").u32(13).Bytes(), "unknown value type 13"},
		{"bad array type", start(3, 0, 1).str("k").u32(uint32(ArrayType)).u32(99).u64(0).Bytes(), "unknown array element type"},
		{"bad bool", append(start(3, 0, 1).str("k").u32(uint32(Bool)).Bytes(), 7), "bool value 7"},
		{"dup key", append(append(start(3, 0, 2).str("k").u32(uint32(Uint8)).Bytes(), 1), append((&header{}).str("k").u32(uint32(Uint8)).Bytes(), 2)...), "duplicate key"},
		{"nested too deep", nested.Bytes(), "nested deeper"},
		{"bad alignment", start(3, 0, 1).str(AlignmentKey).u32(uint32(Uint32)).u32(24).Bytes(), "not a power of two"},
		{"alignment type", start(3, 0, 1).str(AlignmentKey).u32(uint32(Uint64)).u64(32).Bytes(), "must be uint32"},
		{"zero dims", tensorFile(0, nil, 0, 0), "0 dimensions"},
		{"five dims", tensorFile(0, []uint64{1, 1, 1, 1, 1}, 0, 64), "5 dimensions"},
		{"unknown type", tensorFile(37, []uint64{4}, 0, 64), "unknown ggml type id 37"},
		{"shape overflow", tensorFile(0, []uint64{1 << 33, 1 << 33}, 0, 64), "overflows"},
		{"bad block shape", tensorFile(8, []uint64{33}, 0, 64), "multiple of 32"},
		{"out of bounds", tensorFile(0, []uint64{32}, 0, 64), "outside"},
		{"offset past end", tensorFile(0, []uint64{4}, 1<<62, 64), "outside"},
		{"misaligned", tensorFile(0, []uint64{4}, 4, 64), "not a multiple of the alignment"},
		{"overlap", twoTensors(0), "overlaps"},
		{"dup tensor", func() []byte {
			h := start(3, 2, 0)
			h.str("a").u32(1).u64(8).u32(0).u64(0)
			h.str("a").u32(1).u64(8).u32(0).u64(32)
			return h.Bytes()
		}(), "duplicate tensor"},
		{"no data section", start(3, 1, 0).str("t").u32(1).u64(4).u32(0).u64(0).Bytes(), "data section"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Parse(twoTensors(32)); err != nil {
		t.Fatalf("valid two-tensor file rejected: %v", err)
	}
}

// TestTruncatedEverywhere cuts a valid file at every byte: each prefix
// must fail cleanly (every section boundary is among them).
func TestTruncatedEverywhere(t *testing.T) {
	full := encode(t, allValuesKV(), sampleTensors())
	for n := range len(full) {
		f, err := Parse(full[:n])
		if err == nil {
			// Trailing alignment padding after the last tensor is optional.
			last := f.Tensors[len(f.Tensors)-1]
			if uint64(n) < f.DataOffset+last.Offset+last.Size {
				t.Fatalf("prefix of %d bytes accepted", n)
			}
		}
	}
}

func goldenDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "golden")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden files not available (%v); they live in ../shared/golden beside the checkout", err)
	}
	return dir
}

// TestGolden reads every GGUF written by bitnet.cpp's own tools and checks
// that tensors are packed back to back with the byte sizes of FORMATS.md §1,
// and that re-encoding reproduces the file byte for byte.
func TestGolden(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(goldenDir(t), "*", "*.gguf"))
	if len(paths) == 0 {
		t.Fatal("no golden GGUFs found")
	}
	for _, p := range paths {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			f, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Version != 3 || f.Alignment != 32 {
				t.Errorf("version %d alignment %d", f.Version, f.Alignment)
			}
			var next uint64
			counts := map[Type]int{}
			for _, ti := range f.Tensors {
				if ti.Offset != next {
					t.Errorf("%s at %d, expected %d: size formula disagrees with bitnet.cpp", ti.Name, ti.Offset, next)
				}
				next = ti.Offset + roundUp(ti.Size, 32)
				counts[ti.Type]++
			}
			if end := f.DataOffset + next; end != uint64(len(f.Bytes())) {
				t.Errorf("data ends at %d, file is %d bytes", end, len(f.Bytes()))
			}
			name := filepath.Base(p)
			switch {
			case strings.Contains(name, "i2_s"):
				if counts[I2_S] != 14 {
					t.Errorf("%d I2_S tensors, want 14", counts[I2_S])
				}
			case strings.Contains(name, "tl2"):
				if counts[TL2] != 14 {
					t.Errorf("%d TL2 tensors, want 14", counts[TL2])
				}
			}
			if !bytes.Equal(reencode(t, f), f.Bytes()) {
				t.Error("re-encoding does not reproduce bitnet.cpp's bytes")
			}
		})
	}
}
