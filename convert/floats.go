package convert

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// dtypeSize returns the element size of the dtypes we read.
func dtypeSize(dtype string) int {
	switch dtype {
	case "BF16", "F16":
		return 2
	case "F32":
		return 4
	case "F64":
		return 8
	case "U8", "I8":
		return 1
	}
	return 0
}

// decodeFloats converts len(dst) elements of src (dtype) to float32. It
// returns the index of the first NaN or infinite value, or -1.
func decodeFloats(dst []float32, src []byte, dtype string) int {
	switch dtype {
	case "BF16":
		src = src[:2*len(dst)]
		for i := range dst {
			b := binary.LittleEndian.Uint16(src[2*i:])
			if b&0x7f80 == 0x7f80 { // exponent all ones: NaN or Inf
				return i
			}
			dst[i] = math.Float32frombits(uint32(b) << 16)
		}
		return -1
	case "F16":
		src = src[:2*len(dst)]
		for i := range dst {
			b := binary.LittleEndian.Uint16(src[2*i:])
			if b&0x7c00 == 0x7c00 {
				return i
			}
			dst[i] = float16.Frombits(b).Float32()
		}
		return -1
	case "F32":
		src = src[:4*len(dst)]
		for i := range dst {
			b := binary.LittleEndian.Uint32(src[4*i:])
			if b&0x7f800000 == 0x7f800000 {
				return i
			}
			dst[i] = math.Float32frombits(b)
		}
		return -1
	case "F64":
		src = src[:8*len(dst)]
		for i := range dst {
			v := float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) { // also F64 values beyond float32
				return i
			}
			dst[i] = v
		}
		return -1
	}
	panic("convert: decodeFloats: unsupported dtype " + dtype)
}

// readFloats decodes elements [from, from+len(dst)) of t.
func (t *Tensor) readFloats(dst []float32, from int) error {
	if !floatDTypes[t.DType] {
		return fmt.Errorf("%s: tensor %q has dtype %s, not a float type", t.File, t.Name, t.DType)
	}
	es := dtypeSize(t.DType)
	if from < 0 || (from+len(dst))*es > len(t.Data) {
		return fmt.Errorf("%s: tensor %q: elements [%d, %d) out of range", t.File, t.Name, from, from+len(dst))
	}
	if bad := decodeFloats(dst, t.Data[from*es:], t.DType); bad >= 0 {
		return fmt.Errorf("%s: tensor %q: element %d is NaN or infinite; refusing to convert non-finite weights", t.File, t.Name, from+bad)
	}
	return nil
}

// Float32 returns the whole tensor as float32, refusing NaN and Inf.
func (t *Tensor) Float32() ([]float32, error) {
	if !floatDTypes[t.DType] {
		return nil, fmt.Errorf("%s: tensor %q has dtype %s, not a float type", t.File, t.Name, t.DType)
	}
	dst := make([]float32, t.Elements())
	if err := t.readFloats(dst, 0); err != nil {
		return nil, err
	}
	return dst, nil
}

// scalar returns a one-element float tensor's value (weight_scale).
func (t *Tensor) scalar() (float32, error) {
	if t.Elements() != 1 {
		return 0, fmt.Errorf("%s: tensor %q has %d elements, want 1", t.File, t.Name, t.Elements())
	}
	var v [1]float32
	if err := t.readFloats(v[:], 0); err != nil {
		return 0, err
	}
	return v[0], nil
}
