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
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	case "F16":
		for i := range dst {
			dst[i] = float16.Frombits(binary.LittleEndian.Uint16(src[2*i:])).Float32()
		}
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	default:
		panic("convert: decodeFloats: unsupported dtype " + dtype)
	}
	for i, v := range dst {
		// Exponent all ones: NaN or Inf (also catches F64 values that
		// overflow float32).
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
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
		return fmt.Errorf("%s: tensor %q: element %d is %v; refusing to convert non-finite weights", t.File, t.Name, from+bad, dst[bad])
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
