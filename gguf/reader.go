package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is used when general.alignment is absent (bitnet.cpp never
// writes the key).
const DefaultAlignment = 32

// AlignmentKey is the metadata key that overrides the data alignment.
const AlignmentKey = "general.alignment"

// File is a parsed GGUF file. Tensor data are zero-copy views into the
// underlying bytes (a memory map when the file came from Open), valid until
// Close.
type File struct {
	Version    uint32
	Alignment  uint64
	KV         []KV
	Tensors    []TensorInfo
	DataOffset uint64 // absolute offset of the tensor data section

	kvIndex     map[string]int
	tensorIndex map[string]int
	data        []byte
	unmap       func() error
}

// TensorInfo describes one tensor and holds a view of its bytes.
type TensorInfo struct {
	Name   string
	Type   Type
	Shape  []uint64 // ggml order: Shape[0] = ne0, the contiguous dimension
	Offset uint64   // relative to the data section
	Size   uint64   // TensorBytes(Type, Shape)
	Data   []byte   // len(Data) == Size
}

// Elements returns the number of elements of the tensor.
func (t *TensorInfo) Elements() uint64 {
	n, _ := Elements(t.Shape) // validated on read
	return n
}

// FormatError reports malformed input. Field names the part of the file
// (a metadata key, a tensor name, or a header field) that is wrong.
type FormatError struct {
	Offset int64 // byte offset where the problem was found, -1 if not positional
	Field  string
	Err    error
}

func (e *FormatError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("gguf: %s at byte %d: %v", e.Field, e.Offset, e.Err)
	}
	return fmt.Sprintf("gguf: %s: %v", e.Field, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by errors for input that ends too early.
var ErrTruncated = errors.New("unexpected end of file")

// Parse parses a GGUF file held in b. b is not copied: tensor views alias it.
func Parse(b []byte) (*File, error) {
	d := &decoder{b: b}
	f, err := d.file()
	if err != nil {
		return nil, err
	}
	f.data = b
	return f, nil
}

// Close releases the memory map, if any. Tensor views must not be used after.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap = nil
	return u()
}

// Bytes returns the whole file content (the memory map for Open).
func (f *File) Bytes() []byte { return f.data }

// Get returns the value of a metadata key.
func (f *File) Get(key string) (any, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return nil, false
	}
	return f.KV[i].Value, true
}

// String returns a string metadata value.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Get(key)
	s, ok := v.(string)
	return s, ok
}

// Int returns an integer metadata value of any width and signedness, if it
// fits in an int64.
func (f *File) Int(key string) (int64, bool) {
	v, _ := f.Get(key)
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Uint returns a non-negative integer metadata value of any integer type.
func (f *File) Uint(key string) (uint64, bool) {
	if v, ok := f.Get(key); ok {
		if x, ok := v.(uint64); ok {
			return x, true
		}
	}
	i, ok := f.Int(key)
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// Float returns a floating-point (or integer) metadata value.
func (f *File) Float(key string) (float64, bool) {
	v, _ := f.Get(key)
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if i, ok := f.Int(key); ok {
		return float64(i), true
	}
	return 0, false
}

// Bool returns a boolean metadata value.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Get(key)
	b, ok := v.(bool)
	return b, ok
}

// Strings returns an array-of-strings metadata value.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Get(key)
	a, ok := v.(Array)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return s, ok
}

// Array returns an array metadata value.
func (f *File) Array(key string) (Array, bool) {
	v, _ := f.Get(key)
	a, ok := v.(Array)
	return a, ok
}

// Arch returns general.architecture, or "" when absent.
func (f *File) Arch() string {
	s, _ := f.String("general.architecture")
	return s
}

// Tensor returns the tensor with the given name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// decoder reads GGUF primitives from a byte slice, turning every
// out-of-range read into a FormatError instead of a panic.
type decoder struct {
	b     []byte
	off   uint64
	field string // what is being read, for error messages
}

func (d *decoder) fail(err error) error {
	return &FormatError{Offset: int64(d.off), Field: d.field, Err: err}
}

func (d *decoder) remaining() uint64 { return uint64(len(d.b)) - d.off }

func (d *decoder) take(n uint64) ([]byte, error) {
	if n > d.remaining() {
		return nil, d.fail(fmt.Errorf("%w: need %d bytes, %d left", ErrTruncated, n, d.remaining()))
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *decoder) u32() (uint32, error) {
	s, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(s), nil
}

func (d *decoder) u64() (uint64, error) {
	s, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(s), nil
}

func (d *decoder) str() (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > d.remaining() {
		return "", d.fail(fmt.Errorf("string length %d exceeds the %d bytes left in the file", n, d.remaining()))
	}
	s, _ := d.take(n)
	return string(s), nil
}

// count reads an element count and rejects counts that could not fit in
// the rest of the file, so no allocation exceeds what the input justifies.
func (d *decoder) count(what string, minSize uint64) (uint64, error) {
	n, err := d.u64()
	if err != nil {
		return 0, err
	}
	if minSize > 0 && n > d.remaining()/minSize {
		return 0, d.fail(fmt.Errorf("%s count %d cannot fit in the %d bytes left in the file", what, n, d.remaining()))
	}
	return n, nil
}

func (d *decoder) file() (*File, error) {
	d.field = "magic"
	magic, err := d.take(4)
	if err != nil {
		return nil, err
	}
	if string(magic) != Magic {
		return nil, d.fail(fmt.Errorf("not a GGUF file (magic %q)", magic))
	}
	d.field = "version"
	version, err := d.u32()
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, d.fail(errors.New("GGUF v1 is not supported (32-bit counts); re-convert the model"))
	case version&0xffff == 0 && version>>16 != 0:
		return nil, d.fail(fmt.Errorf("big-endian GGUF (version %d byte-swapped) is not supported", version>>24))
	default:
		return nil, d.fail(fmt.Errorf("unknown GGUF version %d", version))
	}
	// A tensor info takes at least 8 (name) + 4 (n_dims) + 4 (type) + 8
	// (offset) bytes, a KV pair at least 8 (key) + 4 (type) + 1.
	d.field = "tensor count"
	nTensors, err := d.count("tensor", 24)
	if err != nil {
		return nil, err
	}
	d.field = "metadata count"
	nKV, err := d.count("metadata", 13)
	if err != nil {
		return nil, err
	}
	f := &File{
		Version:     version,
		Alignment:   DefaultAlignment,
		KV:          make([]KV, 0, nKV),
		Tensors:     make([]TensorInfo, 0, nTensors),
		kvIndex:     make(map[string]int, nKV),
		tensorIndex: make(map[string]int, nTensors),
	}
	for i := uint64(0); i < nKV; i++ {
		d.field = "metadata key #" + strconv.FormatUint(i, 10)
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.field = "metadata " + strconv.Quote(key)
		if !utf8.ValidString(key) {
			return nil, d.fail(errors.New("key is not valid UTF-8"))
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, d.fail(errors.New("duplicate key"))
		}
		tag, err := d.u32()
		if err != nil {
			return nil, err
		}
		v, err := d.value(ValueType(tag), 0)
		if err != nil {
			return nil, err
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	if v, ok := f.Get(AlignmentKey); ok {
		d.field = "metadata " + strconv.Quote(AlignmentKey)
		a, ok := v.(uint32)
		if !ok {
			return nil, d.fail(fmt.Errorf("must be uint32, got %T", v))
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, d.fail(fmt.Errorf("alignment %d is not a power of two", a))
		}
		f.Alignment = uint64(a)
	}
	for i := uint64(0); i < nTensors; i++ {
		d.field = "tensor info #" + strconv.FormatUint(i, 10)
		ti, err := d.tensorInfo()
		if err != nil {
			return nil, err
		}
		if _, dup := f.tensorIndex[ti.Name]; dup {
			return nil, d.fail(fmt.Errorf("duplicate tensor name %q", ti.Name))
		}
		f.tensorIndex[ti.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}
	f.DataOffset = roundUp(d.off, f.Alignment)
	if err := f.bindData(d.b); err != nil {
		return nil, err
	}
	return f, nil
}

func (d *decoder) tensorInfo() (TensorInfo, error) {
	name, err := d.str()
	if err != nil {
		return TensorInfo{}, err
	}
	d.field = "tensor " + strconv.Quote(name)
	nDims, err := d.u32()
	if err != nil {
		return TensorInfo{}, err
	}
	if nDims == 0 || nDims > MaxDims {
		return TensorInfo{}, d.fail(fmt.Errorf("%d dimensions (ggml allows 1 to %d)", nDims, MaxDims))
	}
	shape := make([]uint64, nDims)
	for j := range shape {
		if shape[j], err = d.u64(); err != nil {
			return TensorInfo{}, err
		}
	}
	tag, err := d.u32()
	if err != nil {
		return TensorInfo{}, err
	}
	typ := Type(tag)
	if !typ.Known() {
		return TensorInfo{}, d.fail(fmt.Errorf("unknown ggml type id %d", tag))
	}
	offset, err := d.u64()
	if err != nil {
		return TensorInfo{}, err
	}
	size, err := TensorBytes(typ, shape)
	if err != nil {
		return TensorInfo{}, d.fail(fmt.Errorf("type %s: %w", typ, err))
	}
	return TensorInfo{Name: name, Type: typ, Shape: shape, Offset: offset, Size: size}, nil
}

// bindData checks that every tensor lies aligned inside the data section
// without overlapping another, and sets the zero-copy views.
func (f *File) bindData(b []byte) error {
	end := uint64(len(b))
	if len(f.Tensors) > 0 && f.DataOffset > end {
		return &FormatError{Offset: int64(end), Field: "data section", Err: fmt.Errorf("%w: data section would start at byte %d", ErrTruncated, f.DataOffset)}
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		oa, ob := f.Tensors[a].Offset, f.Tensors[b].Offset
		switch {
		case oa < ob:
			return -1
		case oa > ob:
			return 1
		}
		return a - b
	})
	var prevEnd uint64
	prevName := ""
	for _, i := range order {
		t := &f.Tensors[i]
		field := "tensor " + strconv.Quote(t.Name)
		if t.Offset%f.Alignment != 0 {
			return &FormatError{Offset: -1, Field: field, Err: fmt.Errorf("data offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)}
		}
		avail := end - f.DataOffset
		if t.Offset > avail || t.Size > avail-t.Offset {
			return &FormatError{Offset: -1, Field: field, Err: fmt.Errorf("data [%d, +%d) lies outside the %d-byte data section", t.Offset, t.Size, avail)}
		}
		if prevName != "" && t.Offset < prevEnd {
			return &FormatError{Offset: -1, Field: field, Err: fmt.Errorf("data at %d overlaps tensor %q (ends at %d)", t.Offset, prevName, prevEnd)}
		}
		if t.Size > 0 {
			prevEnd, prevName = t.Offset+t.Size, t.Name
		}
		start := f.DataOffset + t.Offset
		t.Data = b[start : start+t.Size : start+t.Size]
	}
	return nil
}

// maxDepth bounds nested arrays so crafted input cannot exhaust the stack.
const maxDepth = 16

func (d *decoder) value(t ValueType, depth int) (any, error) {
	switch t {
	case Uint8, Int8, Bool:
		s, err := d.take(1)
		if err != nil {
			return nil, err
		}
		switch t {
		case Uint8:
			return s[0], nil
		case Int8:
			return int8(s[0]), nil
		}
		if s[0] > 1 {
			return nil, d.fail(fmt.Errorf("bool value %d is neither 0 nor 1", s[0]))
		}
		return s[0] == 1, nil
	case Uint16, Int16:
		s, err := d.take(2)
		if err != nil {
			return nil, err
		}
		v := binary.LittleEndian.Uint16(s)
		if t == Int16 {
			return int16(v), nil
		}
		return v, nil
	case Uint32, Int32, Float32:
		v, err := d.u32()
		if err != nil {
			return nil, err
		}
		switch t {
		case Int32:
			return int32(v), nil
		case Float32:
			return math.Float32frombits(v), nil
		}
		return v, nil
	case Uint64, Int64, Float64:
		v, err := d.u64()
		if err != nil {
			return nil, err
		}
		switch t {
		case Int64:
			return int64(v), nil
		case Float64:
			return math.Float64frombits(v), nil
		}
		return v, nil
	case String:
		return d.str()
	case ArrayType:
		if depth >= maxDepth {
			return nil, d.fail(fmt.Errorf("arrays nested deeper than %d", maxDepth))
		}
		tag, err := d.u32()
		if err != nil {
			return nil, err
		}
		elem := ValueType(tag)
		if elem.fixedSize() < 0 {
			return nil, d.fail(fmt.Errorf("unknown array element type %d", tag))
		}
		n, err := d.count("array element", elem.minSize())
		if err != nil {
			return nil, err
		}
		return d.array(elem, n, depth)
	}
	return nil, d.fail(fmt.Errorf("unknown value type %d", uint32(t)))
}

func (d *decoder) array(elem ValueType, n uint64, depth int) (Array, error) {
	if sz := elem.fixedSize(); sz > 0 {
		raw, err := d.take(n * uint64(sz)) // n*sz <= remaining, checked by count
		if err != nil {
			return Array{}, err
		}
		return decodeFixedArray(elem, raw)
	}
	switch elem {
	case String:
		out := make([]string, n)
		for i := range out {
			s, err := d.str()
			if err != nil {
				return Array{}, err
			}
			out[i] = s
		}
		return Array{Elem: elem, Values: out}, nil
	default: // nested arrays
		out := make([]Array, n)
		for i := range out {
			v, err := d.value(ArrayType, depth+1)
			if err != nil {
				return Array{}, err
			}
			out[i] = v.(Array)
		}
		return Array{Elem: elem, Values: out}, nil
	}
}

func decodeFixedArray(elem ValueType, raw []byte) (Array, error) {
	le := binary.LittleEndian
	var vals any
	switch elem {
	case Uint8:
		vals = slices.Clone(raw)
	case Int8:
		vals = decodeEach(raw, 1, func(b []byte) int8 { return int8(b[0]) })
	case Bool:
		for i, b := range raw {
			if b > 1 {
				return Array{}, &FormatError{Offset: -1, Field: "bool array", Err: fmt.Errorf("element %d has value %d", i, b)}
			}
		}
		vals = decodeEach(raw, 1, func(b []byte) bool { return b[0] == 1 })
	case Uint16:
		vals = decodeEach(raw, 2, le.Uint16)
	case Int16:
		vals = decodeEach(raw, 2, func(b []byte) int16 { return int16(le.Uint16(b)) })
	case Uint32:
		vals = decodeEach(raw, 4, le.Uint32)
	case Int32:
		vals = decodeEach(raw, 4, func(b []byte) int32 { return int32(le.Uint32(b)) })
	case Float32:
		vals = decodeEach(raw, 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) })
	case Uint64:
		vals = decodeEach(raw, 8, le.Uint64)
	case Int64:
		vals = decodeEach(raw, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
	case Float64:
		vals = decodeEach(raw, 8, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) })
	}
	return Array{Elem: elem, Values: vals}, nil
}

// decodeEach decodes raw as consecutive little-endian elements of size bytes.
func decodeEach[T any](raw []byte, size int, decode func([]byte) T) []T {
	out := make([]T, len(raw)/size)
	for i := range out {
		out[i] = decode(raw[i*size : (i+1)*size])
	}
	return out
}
