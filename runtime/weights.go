package runtime

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/quantize"
)

// linear is one projection matrix of M outputs and K inputs. Ternary weights
// (I2_S, or TL1/TL2 repacked to I2_S) run as W2A8 matmuls on int8
// activations; float weights run as dense matmuls on float activations.
type linear struct {
	name    string
	ternary *kernels.I2S   // nil for float weights
	dense   *kernels.Dense // nil for ternary weights
}

// rows is M, the number of outputs.
func (l *linear) rows() int {
	if l.ternary != nil {
		return l.ternary.M
	}
	return l.dense.M
}

// loader binds GGUF tensors to model fields, checking every name, type and
// shape so that a bad file fails at load with the tensor's name and never
// later in a kernel.
type loader struct {
	f     *gguf.File
	path  string
	used  map[string]bool
	codes []int8 // scratch for TL repacking
	// checkDense scans float matrices for NaN and Inf (Options.CheckTensors).
	checkDense bool
}

func newLoader(f *gguf.File, path string) *loader {
	return &loader{f: f, path: path, used: map[string]bool{}}
}

func (ld *loader) errorf(name, format string, args ...any) error {
	return fmt.Errorf("%s: tensor %s: %s", ld.path, name, fmt.Sprintf(format, args...))
}

// has reports whether the file holds the tensor.
func (ld *loader) has(name string) bool {
	_, ok := ld.f.Tensor(name)
	return ok
}

// tensor looks a required tensor up and checks its shape (ggml order, ne0
// first).
func (ld *loader) tensor(name string, shape ...int) (*gguf.TensorInfo, error) {
	t, ok := ld.f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("%s: missing tensor %s", ld.path, name)
	}
	ld.used[name] = true
	if !sameShape(t.Shape, shape) {
		return nil, ld.errorf(name, "shape %v, want %v", t.Shape, shape)
	}
	return t, nil
}

func sameShape(got []uint64, want []int) bool {
	// ggml pads shapes with trailing 1s; a writer may or may not store them.
	for len(got) > len(want) && got[len(got)-1] == 1 {
		got = got[:len(got)-1]
	}
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != uint64(want[i]) {
			return false
		}
	}
	return true
}

// vector loads a 1-D float tensor (norm weights) into memory.
func (ld *loader) vector(name string, n int) ([]float32, error) {
	t, err := ld.tensor(name, n)
	if err != nil {
		return nil, err
	}
	v := make([]float32, n)
	switch t.Type {
	case gguf.F32:
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case gguf.F16:
		err = quantize.F16ToF32(v, t.Data)
	case gguf.BF16:
		err = quantize.BF16ToF32(v, t.Data)
	default:
		return nil, ld.errorf(name, "type %v is not supported for a norm (want F32, F16 or BF16)", t.Type)
	}
	if err != nil {
		return nil, ld.errorf(name, "%v", err)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, ld.errorf(name, "element %d is %v", i, x)
		}
	}
	return v, nil
}

// denseTypes maps the GGUF types a dense matrix may have to kernel types.
var denseTypes = map[gguf.Type]kernels.DType{
	gguf.F32:  kernels.DF32,
	gguf.F16:  kernels.DF16,
	gguf.BF16: kernels.DBF16,
	gguf.Q8_0: kernels.DQ8_0,
	gguf.Q6_K: kernels.DQ6_K,
}

// dense binds an M×K float or block-quantized matrix (embedding, output
// head) in place.
func (ld *loader) dense(name string, m, k int) (*kernels.Dense, error) {
	t, err := ld.tensor(name, k, m)
	if err != nil {
		return nil, err
	}
	return ld.denseView(t, m, k)
}

func (ld *loader) denseView(t *gguf.TensorInfo, m, k int) (*kernels.Dense, error) {
	dt, ok := denseTypes[t.Type]
	if !ok {
		return nil, ld.errorf(t.Name, "type %v is not supported here (want F32, F16, BF16, Q8_0 or Q6_K)", t.Type)
	}
	d := &kernels.Dense{Type: dt, M: m, K: k, Data: t.Data}
	if err := d.Validate(); err != nil {
		return nil, ld.errorf(t.Name, "%v", err)
	}
	if ld.checkDense {
		if i, bad := firstNonFinite(t.Type, t.Data); bad {
			return nil, ld.errorf(t.Name, "element %d is NaN or infinite", i)
		}
	}
	return d, nil
}

// linear binds a projection of M outputs and K inputs (GGUF shape [K, M]).
func (ld *loader) linear(name string, m, k int) (*linear, error) {
	t, err := ld.tensor(name, k, m)
	if err != nil {
		return nil, err
	}
	l := &linear{name: name}
	switch {
	case t.Type == gguf.I2_S:
		l.ternary, err = ld.i2s(t, t.Data, m, k)
	case t.Type == gguf.TL1 || t.Type == gguf.TL2:
		l.ternary, err = ld.repackTL(t, m, k)
	default:
		l.dense, err = ld.denseView(t, m, k)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// i2s views I2_S bytes (codes, then the float32 scale) as a kernel operand.
func (ld *loader) i2s(t *gguf.TensorInfo, data []byte, m, k int) (*kernels.I2S, error) {
	n := m * k / 4
	if (m*k)%128 != 0 || len(data) < n+4 {
		return nil, ld.errorf(t.Name, "%d bytes cannot hold %d×%d I2_S codes and a scale", len(data), m, k)
	}
	scale := math.Float32frombits(binary.LittleEndian.Uint32(data[n:]))
	if math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return nil, ld.errorf(t.Name, "weight scale is %v", scale)
	}
	w := &kernels.I2S{M: m, K: k, Data: data[:n], Scale: scale}
	if err := w.Validate(); err != nil {
		return nil, ld.errorf(t.Name, "%v", err)
	}
	return w, nil
}

// repackTL decodes a TL1 or TL2 tensor and packs it again as I2_S in memory:
// the kernels package has no LUT kernels yet, and the integer sums (hence the
// results) are the same in either layout.
func (ld *loader) repackTL(t *gguf.TensorInfo, m, k int) (*kernels.I2S, error) {
	p, err := ld.tlParams(t, m, k)
	if err != nil {
		return nil, err
	}
	if cap(ld.codes) < m*k {
		ld.codes = make([]int8, m*k)
	}
	codes := ld.codes[:m*k]
	var scale float32
	if t.Type == gguf.TL1 {
		scale, err = quantize.UnpackTL1(codes, t.Data, m, k, p)
	} else {
		scale, err = quantize.UnpackTL2(codes, t.Data, m, k, p)
	}
	if err != nil {
		return nil, ld.errorf(t.Name, "%v (tiling %v)", err, p)
	}
	buf := make([]byte, m*k/4+32)
	if err := quantize.PackI2S(buf, codes, m, k, scale); err != nil {
		return nil, ld.errorf(t.Name, "%v", err)
	}
	slog.Debug("repacked TL tensor to I2_S in memory", "tensor", t.Name, "type", t.Type, "M", m, "K", k, "tiling", p.String())
	return ld.i2s(t, buf, m, k)
}

// TLKeyPrefix starts the metadata keys in which the converter records the
// TL tiling of each weight shape: "bitnet.tl.<M>x<K>" = [BM, BK, bm].
const TLKeyPrefix = "bitnet.tl."

// tlParams finds the tiling a TL tensor was written with: the file's own
// record if it has one, else bitnet.cpp's preset for the shape (bitnet.cpp
// stores none, so its files are only readable with its parameters).
func (ld *loader) tlParams(t *gguf.TensorInfo, m, k int) (quantize.TLParams, error) {
	key := fmt.Sprintf("%s%dx%d", TLKeyPrefix, m, k)
	if a, ok := ld.f.Array(key); ok {
		v, ok := uintArray(a)
		if !ok || len(v) != 3 {
			return quantize.TLParams{}, fmt.Errorf("%s: metadata key %s: want an array of 3 integers [BM, BK, bm]", ld.path, key)
		}
		p := quantize.TLParams{BM: v[0], BK: v[1], Bm: v[2]}
		var err error
		if t.Type == gguf.TL1 {
			err = p.ValidateTL1(m, k)
		} else {
			err = p.ValidateTL2(m, k)
		}
		if err != nil {
			return p, fmt.Errorf("%s: metadata key %s: %v", ld.path, key, err)
		}
		return p, nil
	}
	var p quantize.TLParams
	var ok bool
	if t.Type == gguf.TL1 {
		p, ok = quantize.BitnetCppTL1(m, k)
	} else {
		p, ok = quantize.BitnetCppTL2(m, k)
	}
	if !ok {
		return p, ld.errorf(t.Name, "%v tiling for %d×%d unknown: no %s metadata and no bitnet.cpp preset for the shape", t.Type, m, k, key)
	}
	return p, nil
}

// uintArray returns the values of an integer array that are all small
// non-negative numbers.
func uintArray(a gguf.Array) ([]int, bool) {
	var out []int
	add := func(v int64) bool {
		if v < 0 || v > 1<<20 {
			return false
		}
		out = append(out, int(v))
		return true
	}
	switch vs := a.Values.(type) {
	case []uint32:
		for _, v := range vs {
			if !add(int64(v)) {
				return nil, false
			}
		}
	case []int32:
		for _, v := range vs {
			if !add(int64(v)) {
				return nil, false
			}
		}
	case []uint64:
		for _, v := range vs {
			if v > 1<<20 || !add(int64(v)) {
				return nil, false
			}
		}
	case []int64:
		for _, v := range vs {
			if !add(v) {
				return nil, false
			}
		}
	default:
		return nil, false
	}
	return out, true
}
