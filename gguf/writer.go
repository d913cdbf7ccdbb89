package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/bitnet-go/bitnet/internal/atomicfile"
)

// TensorSpec describes a tensor to write. Its data are produced lazily by
// Write, so a whole model never has to be in memory.
type TensorSpec struct {
	Name  string
	Type  Type
	Shape []uint64 // ggml order: Shape[0] = ne0
	// Write must write exactly TensorBytes(Type, Shape) bytes. It is called
	// once per tensor, in order, after all metadata has been written.
	Write func(w io.Writer) error
}

// WriteFile writes a GGUF v3 file atomically: the bytes go to a temporary
// file beside path, which is fsynced and renamed only when every tensor was
// written in full. On error nothing appears under path.
func WriteFile(path string, kv []KV, tensors []TensorSpec) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := Encode(bw, kv, tensors); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	return f.Commit()
}

// Encode writes a GGUF v3 stream: header, metadata, tensor infos with
// offsets computed up front, then each tensor's data padded to the
// alignment (general.alignment if present, else 32).
func Encode(w io.Writer, kv []KV, tensors []TensorSpec) error {
	align := uint64(DefaultAlignment)
	seen := make(map[string]bool, len(kv))
	for _, e := range kv {
		if seen[e.Key] {
			return fmt.Errorf("gguf: duplicate metadata key %q", e.Key)
		}
		seen[e.Key] = true
		if e.Key == AlignmentKey {
			a, ok := e.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("gguf: %s must be a power-of-two uint32, got %v", AlignmentKey, e.Value)
			}
			align = uint64(a)
		}
	}
	sizes := make([]uint64, len(tensors))
	offsets := make([]uint64, len(tensors))
	names := make(map[string]bool, len(tensors))
	var off uint64
	for i, t := range tensors {
		if names[t.Name] {
			return fmt.Errorf("gguf: duplicate tensor name %q", t.Name)
		}
		names[t.Name] = true
		if !t.Type.Known() {
			return fmt.Errorf("gguf: tensor %q: unknown ggml type id %d", t.Name, uint32(t.Type))
		}
		size, err := TensorBytes(t.Type, t.Shape)
		if err != nil {
			return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		sizes[i], offsets[i] = size, off
		off += roundUp(size, align)
	}

	cw := &countingWriter{w: w}
	e := &encoder{w: cw}
	e.raw([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kv)))
	for _, item := range kv {
		e.str(item.Key)
		if err := e.value(item.Value); err != nil {
			return fmt.Errorf("gguf: metadata %q: %w", item.Key, err)
		}
	}
	for i, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(offsets[i])
	}
	e.pad(align)
	if e.err != nil {
		return e.err
	}
	dataStart := cw.n
	for i, t := range tensors {
		if t.Write == nil {
			return fmt.Errorf("gguf: tensor %q has no data writer", t.Name)
		}
		before := cw.n
		lw := &limitWriter{w: cw, left: sizes[i]}
		if err := t.Write(lw); err != nil {
			return fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
		}
		if got := cw.n - before; got != sizes[i] {
			return fmt.Errorf("gguf: tensor %q (%s %v): wrote %d bytes, want %d", t.Name, t.Type, t.Shape, got, sizes[i])
		}
		if cw.n-dataStart != offsets[i]+sizes[i] {
			return fmt.Errorf("gguf: tensor %q: data out of place", t.Name)
		}
		e.pad(align)
		if e.err != nil {
			return e.err
		}
	}
	return nil
}

// countingWriter tracks the stream position for padding and self-checks.
type countingWriter struct {
	w   io.Writer
	n   uint64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += uint64(n)
	c.err = err
	return n, err
}

// limitWriter refuses bytes beyond a tensor's declared size, so a faulty
// producer cannot shift every following tensor.
type limitWriter struct {
	w    io.Writer
	left uint64
}

var errTooMuchData = errors.New("tensor data longer than its type and shape allow")

func (l *limitWriter) Write(p []byte) (int, error) {
	if uint64(len(p)) > l.left {
		return 0, errTooMuchData
	}
	n, err := l.w.Write(p)
	l.left -= uint64(n)
	return n, err
}

// encoder writes GGUF primitives and keeps the first error.
type encoder struct {
	w   *countingWriter
	err error
	buf [8]byte
}

func (e *encoder) raw(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) u8(v uint8) { e.buf[0] = v; e.raw(e.buf[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.raw(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.raw(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.raw(e.buf[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	e.raw([]byte(s))
}

var zeros [256]byte

func (e *encoder) pad(align uint64) {
	for n := roundUp(e.w.n, align) - e.w.n; n > 0 && e.err == nil; {
		chunk := min(n, uint64(len(zeros)))
		e.raw(zeros[:chunk])
		n -= chunk
	}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// value writes a tagged value.
func (e *encoder) value(v any) error {
	t, ok := valueTypeOf(v)
	if !ok {
		return fmt.Errorf("unsupported value type %T", v)
	}
	e.u32(uint32(t))
	return e.payload(v)
}

// payload writes a value without its tag (array elements are untagged).
func (e *encoder) payload(v any) error {
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case bool:
		e.u8(b2u(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case string:
		e.str(x)
	case Array:
		return e.array(x)
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
	return nil
}

func (e *encoder) array(a Array) error {
	if a.Elem.fixedSize() < 0 {
		return fmt.Errorf("unknown array element type %d", uint32(a.Elem))
	}
	if err := checkArrayElems(a); err != nil {
		return err
	}
	e.u32(uint32(a.Elem))
	e.u64(uint64(a.Len()))
	var err error
	forEach(a.Values, func(i int, v any) bool {
		if err = e.payload(v); err != nil {
			err = fmt.Errorf("element %s: %w", strconv.Itoa(i), err)
			return false
		}
		return e.err == nil
	})
	return err
}

// checkArrayElems makes sure the slice type matches the declared element
// type, so a reader gets back exactly what was written.
func checkArrayElems(a Array) error {
	want := map[ValueType]string{Uint8: "[]uint8", Int8: "[]int8", Uint16: "[]uint16", Int16: "[]int16",
		Uint32: "[]uint32", Int32: "[]int32", Float32: "[]float32", Bool: "[]bool", String: "[]string",
		ArrayType: "[]gguf.Array", Uint64: "[]uint64", Int64: "[]int64", Float64: "[]float64"}[a.Elem]
	if got := fmt.Sprintf("%T", a.Values); got != want {
		return fmt.Errorf("array of %s holds %s", a.Elem, got)
	}
	return nil
}

// forEach calls fn for every element of a typed slice until fn returns false.
func forEach(values any, fn func(int, any) bool) {
	switch s := values.(type) {
	case []uint8:
		eachOf(s, fn)
	case []int8:
		eachOf(s, fn)
	case []uint16:
		eachOf(s, fn)
	case []int16:
		eachOf(s, fn)
	case []uint32:
		eachOf(s, fn)
	case []int32:
		eachOf(s, fn)
	case []float32:
		eachOf(s, fn)
	case []bool:
		eachOf(s, fn)
	case []string:
		eachOf(s, fn)
	case []uint64:
		eachOf(s, fn)
	case []int64:
		eachOf(s, fn)
	case []float64:
		eachOf(s, fn)
	case []Array:
		eachOf(s, fn)
	}
}

func eachOf[T any](s []T, fn func(int, any) bool) {
	for i, v := range s {
		if !fn(i, v) {
			return
		}
	}
}
